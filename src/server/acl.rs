//! Permissions: the server checks ACLs against the module command the filter
//! produced (`idmp.xadd`), so the module checks the caller's ACL against the
//! original command and its keys itself, answering the native NOPERM errors
//! and adding an ACL LOG entry. Callers without a user (the AOF loader, the
//! master link) are not checked, as natively.

use std::ffi::c_int;
use std::sync::atomic::{AtomicPtr, Ordering};

use redis_module::raw;

use crate::rm;
use crate::server::api::create_string;
use crate::server::{aclcache, aclcat, call};

/// The caller's ACL user, freed on drop.
struct User(*mut raw::RedisModuleUser);

impl Drop for User {
    fn drop(&mut self) {
        if !self.0.is_null() {
            let _ = rm!(RedisModule_FreeModuleUser(self.0));
        }
    }
}

/// The name of the calling client's user, or `None` where there is no user
/// (the master link, the AOF loader, another module's `RM_Call`).
///
/// `RedisModule_GetCurrentUserName` dereferences the client's user without a
/// check on Redis 7.0, so it is only used for scripts, whose client always
/// carries the caller's user; other clients are asked by ID, which answers
/// NULL for a client without a user or without an ID (temporary clients).
fn current_user_name(
    ctx: *mut raw::RedisModuleCtx,
    flags: u32,
) -> Option<*mut raw::RedisModuleString> {
    if flags & (raw::REDISMODULE_CTX_FLAGS_REPLICATED | raw::REDISMODULE_CTX_FLAGS_LOADING) != 0 {
        return None;
    }
    let id = rm!(RedisModule_GetClientId(ctx)).unwrap_or(0);
    let by_id = rm!(RedisModule_GetClientUserNameById(ctx, id)).unwrap_or(std::ptr::null_mut());
    if !by_id.is_null() {
        return Some(by_id);
    }
    if flags & raw::REDISMODULE_CTX_FLAGS_LUA != 0 {
        return rm!(RedisModule_GetCurrentUserName(ctx)).filter(|p| !p.is_null());
    }
    None
}

/// The caller's ACL user and its name.
fn current_user(ctx: *mut raw::RedisModuleCtx, flags: u32) -> Option<(User, Vec<u8>)> {
    let name = current_user_name(ctx, flags)?;
    let u = rm!(RedisModule_GetModuleUserFromUserName(name)).unwrap_or(std::ptr::null_mut());
    let name_bytes = crate::server::api::str_bytes(name).to_vec();
    crate::server::api::free_string(ctx, name);
    (!u.is_null()).then_some((User(u), name_bytes))
}

/// Redis 7.2 reworded the NOPERM errors (Valkey inherits them): the command
/// denial names the user, the key denial is shorter. The module answers in the
/// host's words ([`crate::server::host::Host::noperm_72_texts`]).
fn host_has_72_texts() -> bool {
    crate::server::host::host().noperm_72_texts
}

fn permitted(user: &User, argv: &mut [*mut raw::RedisModuleString]) -> bool {
    rm!(RedisModule_ACLCheckCommandPermissions(
        user.0,
        argv.as_mut_ptr(),
        argv.len() as c_int
    ))
    .is_some_and(|r| r == raw::Status::Ok as c_int)
}

/// Checks the command `native` (e.g. "xadd"; with `cmd_words` 2 the
/// subcommand in argv\[1\] too, as in `XINFO STREAM`) against the caller's
/// ACL. Keys need no check here: the server has checked them against the
/// module command, whose key specs are the native command's (the name
/// alone is asked, and remembered; a denied one is asked again with the
/// whole call, for a rule for a first argument or a database). Returns the
/// NOPERM error to answer, or `None` when the call is allowed. `flags`:
/// the context flags of `ctx`.
pub fn check(
    ctx: *mut raw::RedisModuleCtx,
    native: &str,
    argv: &[*mut raw::RedisModuleString],
    cmd_words: usize,
    flags: u32,
) -> Option<String> {
    let cached = if cmd_words == 1 {
        aclcache::key(ctx, native, flags, || {
            let name = current_user_name(ctx, flags)?;
            let bytes = crate::server::api::str_bytes(name).to_vec();
            crate::server::api::free_string(ctx, name);
            Some(bytes)
        })
    } else {
        None
    };
    if cached.as_ref().is_some_and(aclcache::allowed) {
        return None;
    }
    // Strings and call replies are made with `ctx` from here on.
    crate::server::api::auto_memory(ctx);
    let (user, user_name) = current_user(ctx, flags)?;
    let new_texts = host_has_72_texts();
    let name = create_string(ctx, native.as_bytes());
    let mut cmd: Vec<*mut raw::RedisModuleString> = vec![name];
    if cmd_words >= 2 {
        cmd.extend(argv.get(1).copied());
    }
    if permitted(&user, &mut cmd) {
        if let Some(k) = cached {
            aclcache::remember(k);
        }
        return None;
    }
    // Denied by its name: the host's own check of the whole call decides
    // (not cached).
    // - A user limited to some databases (Valkey 9+) is denied every
    //   command by the API's check, which knows no database. The host has
    //   let this module command run in the client's database: `ACL DRYRUN`
    //   there.
    // - Otherwise the API's check with the call's arguments: a rule for the
    //   first argument (`-xlen +xlen|k`) allows the command only with that
    //   argument, which the name alone does not carry (keys are checked
    //   too; the server has checked the same ones).
    let whole_call_allowed =
        if aclcache::user_rules(&user_name, || rules_of(ctx, &user_name)).db_limited {
            dry_run_allows(ctx, &user_name, native, argv)
        } else if cmd_words == 1 && argv.len() > 1 {
            cmd.extend_from_slice(&argv[1..]);
            permitted(&user, &mut cmd)
        } else {
            false
        };
    if whole_call_allowed {
        return None;
    }
    let fullname = if cmd_words >= 2 {
        let sub = argv
            .get(1)
            .map(|&s| crate::server::api::str_bytes(s).to_ascii_lowercase())
            .unwrap_or_default();
        format!("{native}|{}", String::from_utf8_lossy(&sub))
    } else {
        native.to_string()
    };
    Some(deny(ctx, &user, &user_name, &fullname, new_texts))
}

/// Logs the denial of the command `fullname` in the ACL LOG and returns the
/// host's error text for it: its NOPERM error, or inside a script (EVAL,
/// FCALL) the error a script's denied call gets (the script engine appends
/// the script's name to it as it does natively).
fn deny(
    ctx: *mut raw::RedisModuleCtx,
    user: &User,
    user_name: &[u8],
    fullname: &str,
    new_texts: bool,
) -> String {
    let object = create_string(ctx, fullname.as_bytes());
    let _ = rm!(RedisModule_ACLAddLogEntry(
        ctx,
        user.0,
        object,
        raw::RedisModuleACLLogEntryReason_REDISMODULE_ACL_LOG_CMD
    ));
    let in_script = crate::server::api::ctx_flags(ctx) & raw::REDISMODULE_CTX_FLAGS_LUA != 0;
    match (new_texts, in_script) {
        (true, false) => format!(
            "NOPERM User {} has no permissions to run the '{fullname}' command",
            String::from_utf8_lossy(user_name)
        ),
        (true, true) => format!(
            "ERR ACL failure in script: User {} has no permissions to run the '{fullname}' command",
            String::from_utf8_lossy(user_name)
        ),
        (false, false) => {
            format!("NOPERM this user has no permissions to run the '{fullname}' command")
        }
        (false, true) => {
            "ERR The user executing the script can't run this command or subcommand".to_string()
        }
    }
}

/// The module-only commands (XCFGSET, XIDMPRECORD, XDELEX, XACKDEL) on a
/// server whose module commands cannot carry ACL categories (Redis 7.0):
/// the server has checked the command's own rules (`+@all`, `-xcfgset`) and
/// keys, but `-@write` or `+@read` do not reach a command without
/// categories. The module applies the user's category rules itself, as
/// `ACL GETUSER` shows them: allowed when the root selector or another
/// selector allows the command's categories (those of Redis 8.2/8.6,
/// [`aclcat::CATEGORIES`]). Returns the NOPERM error to answer, or `None`.
pub fn check_own(ctx: *mut raw::RedisModuleCtx, name: &[u8]) -> Option<String> {
    if crate::server::host::host().acl_categories {
        return None;
    }
    // Routed commands (the hot path) are checked against their original.
    if name.len() > 5 && name[..5].eq_ignore_ascii_case(b"idmp.") {
        return None;
    }
    let lname = std::str::from_utf8(name).ok()?.to_ascii_lowercase();
    let categories = aclcat::categories_of(&lname)?;
    let (user, user_name) = current_user(ctx, crate::server::api::ctx_flags(ctx))?;
    let reply = acl_getuser(ctx, &user_name)?;
    let mut allowed = false;
    for (k, v) in reply.elem().pairs() {
        if k.bytes() == b"commands" {
            allowed |= aclcat::rules_allow(v.bytes(), &lname, categories);
        } else if k.bytes() == b"selectors" {
            for sel in (0..v.len()).filter_map(|i| v.at(i)) {
                for (sk, sv) in sel.pairs() {
                    if sk.bytes() == b"commands" {
                        allowed |= aclcat::rules_allow(sv.bytes(), &lname, categories);
                    }
                }
            }
        }
    }
    (!allowed).then(|| deny(ctx, &user, &user_name, &lname, host_has_72_texts()))
}

/// A detached context for the filter's pre-check (a filter gets no context,
/// and `GetClientUserNameById` needs one); null where it is not enabled.
static FILTER_CTX: AtomicPtr<raw::RedisModuleCtx> = AtomicPtr::new(std::ptr::null_mut());

/// Enables [`denied_natively`] on servers whose module commands carry ACL
/// categories and whose filters know their client (Redis 7.2+, Valkey).
pub fn init_filter_check(ctx: *mut raw::RedisModuleCtx) {
    let host = crate::server::host::host();
    if host.acl_categories && host.filter_client_id {
        let d = rm!(RedisModule_GetDetachedThreadSafeContext(ctx)).unwrap_or(std::ptr::null_mut());
        FILTER_CTX.store(d, Ordering::Relaxed);
    }
}

/// Whether the filter's caller may not run the command as the client sent it
/// (command or keys). The filter then leaves it unrouted, and the server
/// denies the native command itself, with the native NOPERM text and an ACL
/// LOG entry naming it; routed, a category rule (`-@write`) would deny it
/// under the module's name (`idmp.xadd`). False where the check is not
/// enabled or the client has no user (the master link, the AOF, scripts):
/// the module command then checks by itself ([`check`]). `native`: the
/// command's name in lower case.
///
/// A full check costs about 1,800 instructions (the user looked up by name,
/// a module user made and freed). A client allowed the command whose user
/// no argument can deny ([`aclcache::Rules::args_cannot_deny`]) is answered from
/// [`aclcache::natively_allowed`] until permissions may change.
pub fn denied_natively(
    fctx: *mut raw::RedisModuleCommandFilterCtx,
    argc: c_int,
    native: &str,
) -> bool {
    let ctx = FILTER_CTX.load(Ordering::Relaxed);
    if ctx.is_null() {
        return false;
    }
    let id = rm!(RedisModule_CommandFilterGetClientId(fctx)).unwrap_or(0);
    if id == 0 {
        return false;
    }
    // Not while clients are paused: a permission change filtered now may
    // run later (postponed), after decisions made in between.
    let paused = || rm!(RedisModule_AvoidReplicaTraffic()).unwrap_or(1) != 0;
    let bit = aclcache::bit_of(native).filter(|_| !paused());
    if bit.is_some_and(|b| aclcache::natively_allowed(id, b)) {
        return false;
    }
    let name = rm!(RedisModule_GetClientUserNameById(ctx, id)).unwrap_or(std::ptr::null_mut());
    if name.is_null() {
        return false;
    }
    let denied = natively_denied_as(fctx, argc, name);
    let user_name = crate::server::api::str_bytes(name);
    let rules = || aclcache::user_rules(user_name, || rules_of(ctx, user_name));
    let denied = match (denied, bit) {
        (Some(false), Some(b)) => {
            if rules().args_cannot_deny {
                aclcache::remember_native(id, b);
            }
            false
        }
        // A user limited to some databases is denied everything by the
        // API's check (it knows no database): the host is asked instead, in
        // the client's database (ACL DRYRUN). Routed when it allows the
        // call, the module command asks again (`check`).
        (Some(true), _) if rules().db_limited => {
            !dry_run_in_client_db(ctx, id, user_name, native, fctx, argc)
        }
        (Some(true), _) => true,
        (Some(false), None) | (None, _) => false,
    };
    crate::server::api::free_string(ctx, name);
    denied
}

/// Whether user `name` may not run the filtered call; `None` when the user
/// or an argument is missing (the module command then checks by itself).
fn natively_denied_as(
    fctx: *mut raw::RedisModuleCommandFilterCtx,
    argc: c_int,
    name: *mut raw::RedisModuleString,
) -> Option<bool> {
    let u = rm!(RedisModule_GetModuleUserFromUserName(name)).unwrap_or(std::ptr::null_mut());
    if u.is_null() {
        return None;
    }
    let user = User(u);
    let mut argv = filtered_args(fctx, argc)?;
    Some(!permitted(&user, &mut argv))
}

/// The filtered call's arguments; `None` if one is missing.
fn filtered_args(
    fctx: *mut raw::RedisModuleCommandFilterCtx,
    argc: c_int,
) -> Option<Vec<*mut raw::RedisModuleString>> {
    (0..argc)
        .map(|i| rm!(RedisModule_CommandFilterArgGet(fctx, i)).filter(|p| !p.is_null()))
        .collect()
}

/// The rules of user `name`, as `ACL GETUSER` describes them (nothing
/// known when it fails). `args_cannot_deny`: no argument of a call can deny
/// the user what the command alone allows: keys `~*`, databases (Valkey 9+)
/// `alldbs`, no selectors (a selector may allow a command only for some
/// keys), no rule with a `|` (a rule for a first argument, `+xlen|k`, allows
/// a command only with that argument), and no field the module does not
/// know. `db_limited`: a `databases` field other than `alldbs`. The
/// module's own call skips its filter (`REDISMODULE_CMDFILTER_NOSELF`).
fn rules_of(ctx: *mut raw::RedisModuleCtx, name: &[u8]) -> aclcache::Rules {
    let Some(reply) = acl_getuser(ctx, name) else {
        return aclcache::Rules::default();
    };
    let fields: Vec<Field> = reply
        .elem()
        .pairs()
        .into_iter()
        .map(|(k, v)| Field {
            name: k.bytes(),
            text: (v.kind() == call::REPLY_STRING).then(|| v.bytes()),
            len: v.len(),
        })
        .collect();
    aclcache::Rules {
        args_cannot_deny: describes_command_only_rules(&fields),
        db_limited: limits_databases(&fields),
    }
}

/// Whether the `databases` field (Valkey 9+) limits the user to some
/// databases.
fn limits_databases(fields: &[Field]) -> bool {
    fields
        .iter()
        .find(|f| f.name == b"databases")
        .is_some_and(|f| f.text != Some(b"alldbs"))
}

/// [`dry_run_allows`] for the filtered call of client `id`, in that
/// client's database, which the filter's context selects first; false (the
/// call left to the host) when the client or an argument cannot be had.
fn dry_run_in_client_db(
    ctx: *mut raw::RedisModuleCtx,
    id: u64,
    user_name: &[u8],
    native: &str,
    fctx: *mut raw::RedisModuleCommandFilterCtx,
    argc: c_int,
) -> bool {
    let Some(info) = crate::server::api::client_info(id) else {
        return false;
    };
    if rm!(RedisModule_SelectDb(ctx, c_int::from(info.db))) != Some(raw::Status::Ok as c_int) {
        return false;
    }
    filtered_args(fctx, argc).is_some_and(|argv| dry_run_allows(ctx, user_name, native, &argv))
}

/// Whether `ACL DRYRUN user native args...` answers OK: the host's own
/// check of the native command with the call's arguments (`argv[1..]`),
/// in the database of `ctx`'s client, which the call's client takes.
fn dry_run_allows(
    ctx: *mut raw::RedisModuleCtx,
    user_name: &[u8],
    native: &str,
    argv: &[*mut raw::RedisModuleString],
) -> bool {
    let rest = argv.get(1..).unwrap_or_default();
    acl_call(ctx, &[b"DRYRUN", user_name, native.as_bytes()], rest).is_some_and(|r| {
        let e = r.elem();
        e.kind() == call::REPLY_STRING && e.bytes() == b"OK"
    })
}

/// `ACL GETUSER name`.
fn acl_getuser(ctx: *mut raw::RedisModuleCtx, name: &[u8]) -> Option<call::CallReply> {
    acl_call(ctx, &[b"GETUSER", name], &[])
}

/// `ACL words... rest...`: `words` made into strings and freed here (so that
/// `ctx` may be one without automatic memory), `rest` the caller's strings.
fn acl_call(
    ctx: *mut raw::RedisModuleCtx,
    words: &[&[u8]],
    rest: &[*mut raw::RedisModuleString],
) -> Option<call::CallReply> {
    let made: Vec<*mut raw::RedisModuleString> =
        words.iter().map(|w| create_string(ctx, w)).collect();
    let mut args: Vec<*mut raw::RedisModuleString> = made.iter().chain(rest).copied().collect();
    let reply = call::call_v(ctx, "ACL", "", &mut args);
    for a in made {
        crate::server::api::free_string(ctx, a);
    }
    reply
}

/// A field of an `ACL GETUSER` reply: its name, its value when a string,
/// its length when an aggregate.
struct Field<'a> {
    name: &'a [u8],
    text: Option<&'a [u8]>,
    len: usize,
}

/// [`aclcache::Rules::args_cannot_deny`], decided on the fields of an `ACL
/// GETUSER` reply ([`rules_of`]).
fn describes_command_only_rules(fields: &[Field]) -> bool {
    const KNOWN: &[&[u8]] = &[
        b"flags",
        b"passwords",
        b"commands",
        b"keys",
        b"channels",
        b"databases",
        b"selectors",
    ];
    let field = |name: &[u8]| fields.iter().find(|f| f.name == name);
    let text = |name: &[u8]| field(name).and_then(|f| f.text);
    fields.iter().all(|f| KNOWN.contains(&f.name))
        && text(b"keys") == Some(b"~*")
        && field(b"databases").is_none_or(|f| f.text == Some(b"alldbs"))
        && field(b"selectors").is_some_and(|f| f.text.is_none() && f.len == 0)
        && text(b"commands").is_some_and(|c| !c.contains(&b'|'))
}

#[cfg(test)]
mod tests {
    use super::{describes_command_only_rules, limits_databases, Field};

    /// A field to change: name, text, aggregate length.
    type Change = (&'static [u8], Option<&'static [u8]>, usize);

    /// Whether a user of `+@all ~* &*` with `fields` changed is cacheable.
    fn user(fields: &[Change]) -> bool {
        let mut all: Vec<Field> = vec![
            Field {
                name: b"flags",
                text: None,
                len: 2,
            },
            Field {
                name: b"passwords",
                text: None,
                len: 0,
            },
            Field {
                name: b"commands",
                text: Some(b"+@all"),
                len: 0,
            },
            Field {
                name: b"keys",
                text: Some(b"~*"),
                len: 0,
            },
            Field {
                name: b"channels",
                text: Some(b"&*"),
                len: 0,
            },
            Field {
                name: b"selectors",
                text: None,
                len: 0,
            },
        ];
        for &(name, text, len) in fields {
            match all.iter_mut().find(|f| f.name == name) {
                Some(f) => *f = Field { name, text, len },
                None => all.push(Field { name, text, len }),
            }
        }
        describes_command_only_rules(&all)
    }

    #[test]
    fn only_users_no_argument_can_deny() {
        assert!(user(&[]));
        assert!(user(&[(b"databases", Some(b"alldbs"), 0)]));
        assert!(user(&[(b"commands", Some(b"+@all -xlen -@dangerous"), 0)]));
        for keys in [&b"~* "[..], b"%R~*", b"%RW~* ~a", b"~k*", b""] {
            assert!(!user(&[(b"keys", Some(keys), 0)]), "{keys:?}");
        }
        assert!(!user(&[(b"databases", Some(b"0,1"), 0)]));
        assert!(!user(&[(b"databases", None, 1)]));
        // a selector, a first-argument rule, an unknown field
        assert!(!user(&[(b"selectors", None, 1)]));
        assert!(!user(&[(b"selectors", Some(b""), 0)]));
        assert!(!user(&[(b"commands", Some(b"-@all +xlen|k"), 0)]));
        assert!(!user(&[(b"tenants", Some(b"all"), 0)]));
        assert!(!describes_command_only_rules(&[]));
    }

    #[test]
    fn a_user_is_limited_to_some_databases_unless_alldbs_or_no_field() {
        let db = |text, len| {
            limits_databases(&[
                Field {
                    name: b"keys",
                    text: Some(b"~*"),
                    len: 0,
                },
                Field {
                    name: b"databases",
                    text,
                    len,
                },
            ])
        };
        assert!(!db(Some(b"alldbs"), 0));
        assert!(db(Some(b"db=0"), 0));
        assert!(db(Some(b"db=0,1"), 0));
        assert!(db(Some(b""), 0));
        assert!(db(None, 2));
        assert!(!limits_databases(&[]));
    }
}
