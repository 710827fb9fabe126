//! The command filter: routes the standard stream command names to the
//! module's `idmp.*` commands, and maps the Redis 8.6 config names
//! `stream-idmp-duration`/`stream-idmp-maxsize` onto the module configs in
//! CONFIG SET/GET. Registered with NOSELF so the module's own calls pass.

use std::ffi::c_int;
use std::sync::atomic::{AtomicPtr, Ordering};

use redis_module::raw;

use crate::commands::glob::{glob_match_nocase, is_pattern};
use crate::rm;
use crate::server::api::{create_string, str_bytes};
use crate::server::guard::guard;
use crate::server::skip::Skippable;

/// Standard name -> (module command name, native arity).
///
/// A call whose argument count the native arity rejects is left alone: the
/// server then answers the native arity error itself, at queue time inside
/// MULTI, naming the standard command.
pub const ROUTES: &[(&str, &str, i32)] = &[
    ("xadd", "idmp.xadd", -5),
    ("xrange", "idmp.xrange", -4),
    ("xrevrange", "idmp.xrevrange", -4),
    ("xlen", "idmp.xlen", 2),
    ("xdel", "idmp.xdel", -3),
    ("xtrim", "idmp.xtrim", -4),
    ("xsetid", "idmp.xsetid", -3),
    ("xinfo", "idmp.xinfo", -2),
    ("type", "idmp.type", 2),
    ("xread", "idmp.xread", -4),
    ("xreadgroup", "idmp.xreadgroup", -7),
    ("xgroup", "idmp.xgroup", -2),
    ("xack", "idmp.xack", -4),
    ("xpending", "idmp.xpending", -3),
    ("xclaim", "idmp.xclaim", -6),
    ("xautoclaim", "idmp.xautoclaim", -6),
    // Routed only where the host serves them itself (Redis 8.2+, see
    // `route_on`); elsewhere the module registers them unprefixed.
    ("xdelex", "idmp.xdelex", -5),
    ("xackdel", "idmp.xackdel", -6),
];

/// Whether the route for the standard name `native` is on: the commands the
/// module registers under their own name on hosts without them
/// (XDELEX/XACKDEL) are routed only where the host has them.
fn route_on(native: &str) -> bool {
    let host = crate::server::host::host();
    !matches!(native, "xdelex" | "xackdel") || host.serves(native)
}

/// XINFO subcommands the module serves, with their native arity.
const XINFO_SUBS: &[(&str, i32)] = &[("stream", -3), ("groups", 3), ("consumers", 4)];

/// XGROUP subcommands the module serves, with their native arity.
const XGROUP_SUBS: &[(&str, i32)] = &[
    ("create", -5),
    ("setid", -5),
    ("destroy", 4),
    ("createconsumer", 5),
    ("delconsumer", 5),
];

/// Whether `argc` satisfies a Redis arity (`n`: exactly n, `-n`: at least n).
pub fn arity_ok(arity: i32, argc: c_int) -> bool {
    if arity >= 0 {
        argc == arity
    } else {
        argc >= -arity
    }
}

const CONFIG_NAMES: &[(&str, &str)] = &[
    ("stream-idmp-duration", "idmp.stream-idmp-duration"),
    ("stream-idmp-maxsize", "idmp.stream-idmp-maxsize"),
];

/// The module config a Redis 8.6 config name stands for.
pub fn module_config_name(name: &[u8]) -> Option<&'static str> {
    CONFIG_NAMES
        .iter()
        .find(|(from, _)| name.eq_ignore_ascii_case(from.as_bytes()))
        .map(|&(_, to)| to)
}

/// The Redis 8.6 names that stand for module configs.
pub fn native_config_names() -> impl Iterator<Item = &'static str> {
    CONFIG_NAMES.iter().map(|&(from, _)| from)
}

/// True when a CONFIG GET argument is a Redis 8.6 name, or a pattern that
/// matches one.
fn asks_native_config(arg: &[u8]) -> bool {
    module_config_name(arg).is_some()
        || (is_pattern(arg) && native_config_names().any(|n| glob_match_nocase(arg, n.as_bytes())))
}

static CONFIG_GET: AtomicPtr<raw::RedisModuleString> = AtomicPtr::new(std::ptr::null_mut());
static CONFIG_SET: AtomicPtr<raw::RedisModuleString> = AtomicPtr::new(std::ptr::null_mut());
static SCAN: AtomicPtr<raw::RedisModuleString> = AtomicPtr::new(std::ptr::null_mut());

/// Retained module strings for the route targets, created once at load.
static TARGETS: [AtomicPtr<raw::RedisModuleString>; ROUTES.len()] =
    [const { AtomicPtr::new(std::ptr::null_mut()) }; ROUTES.len()];

/// Whether `name` is `idmp.xadd`: the filter's own string for it (the
/// usual case, told by its address without reading it), or equal bytes.
pub fn is_xadd_name(name: *mut raw::RedisModuleString) -> bool {
    let ours = TARGETS
        .first()
        .map_or(std::ptr::null_mut(), |t| t.load(Ordering::Relaxed));
    (!ours.is_null() && name == ours) || str_bytes(name) == b"idmp.xadd"
}

/// What the filter checks before routing a name.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Check {
    /// Nothing more.
    Plain,
    /// The host may answer it (skip.rs).
    Skip(Skippable),
    /// A container: routed for these subcommands only.
    Sub(&'static [(&'static str, i32)]),
    /// Routed only where the host serves the command itself ([`route_on`]).
    HostServes(&'static str),
}

/// A command name the filter acts on.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Target {
    /// `ROUTES[i]`.
    Route(usize, Check),
    /// SCAN (TYPE stream).
    Scan,
    /// CONFIG (GET/SET of the Redis 8.6 names).
    Config,
    /// MULTI (skip.rs).
    Multi,
    /// A command that may change a client's permissions
    /// ([`crate::server::aclcache::invalidates`]).
    AclChange,
    /// RENAME, RENAMENX, MOVE: a value may move to another name or
    /// database ([`crate::server::nameidx::moving`]).
    Move,
}

/// The lengths (bit n: n bytes) of the names [`lookup`] matches that start
/// with the letter `first` (in either case); 0 for any other byte.
fn lengths_of(first: u8) -> u16 {
    match first | 0x20 {
        // xadd ... xreadgroup, xautoclaim: 4 to 10
        b'x' => 0b111_1111_0000,
        b't' | b's' | b'e' => 1 << 4,
        b'c' => 1 << 6,
        b'm' => (1 << 4) | (1 << 5) | (1 << 6),
        b'a' => (1 << 3) | (1 << 4),
        b'h' => 1 << 5,
        b'r' => (1 << 5) | (1 << 6) | (1 << 8),
        _ => 0,
    }
}

/// The target of a command name, case-insensitively: every command passes
/// here, so one decision tree on the name (its letters lowered by setting
/// bit 5, exact for letters, and every name matched is letters only) instead
/// of a comparison per route. `ROUTES[i]` is checked by a unit test.
fn lookup(name: &[u8]) -> Option<Target> {
    // Most commands are told apart by their first letter and length alone
    // (SET, GET, HSET, EXISTS, EXPIRE, INCR, ... never reach the match).
    if name.len() > 10 || lengths_of(*name.first()?) & (1 << name.len()) == 0 {
        return None;
    }
    let mut buf = [0u8; 10];
    let lower = buf.get_mut(..name.len())?;
    for (d, &c) in lower.iter_mut().zip(name) {
        *d = c | 0x20;
    }
    use Check::*;
    use Skippable::*;
    let route = |i, c| Some(Target::Route(i, c));
    match &*lower {
        b"xadd" => route(0, Skip(Xadd)),
        b"xrange" => route(1, Skip(Range { rev: false })),
        b"xrevrange" => route(2, Skip(Range { rev: true })),
        b"xlen" => route(3, Skip(Xlen)),
        b"xdel" => route(4, Plain),
        b"xtrim" => route(5, Plain),
        b"xsetid" => route(6, Plain),
        b"xinfo" => route(7, Sub(XINFO_SUBS)),
        b"type" => route(8, Skip(Type)),
        b"xread" => route(9, Skip(Read { group: false })),
        b"xreadgroup" => route(10, Skip(Read { group: true })),
        b"xgroup" => route(11, Sub(XGROUP_SUBS)),
        b"xack" => route(12, Skip(Xack)),
        b"xpending" => route(13, Plain),
        b"xclaim" => route(14, Plain),
        b"xautoclaim" => route(15, Plain),
        b"xdelex" => route(16, HostServes("xdelex")),
        b"xackdel" => route(17, HostServes("xackdel")),
        b"scan" => Some(Target::Scan),
        b"config" => Some(Target::Config),
        b"multi" => Some(Target::Multi),
        b"acl" | b"auth" | b"hello" | b"reset" | b"module" | b"exec" => Some(Target::AclChange),
        b"rename" | b"renamenx" | b"move" => Some(Target::Move),
        _ => None,
    }
}

/// A container command (XINFO, XGROUP) is routed only for a subcommand the
/// module serves, with its arity (HELP, unknown subcommands and arity errors
/// stay native).
fn sub_routed(
    fctx: *mut raw::RedisModuleCommandFilterCtx,
    argc: c_int,
    subs: &[(&str, i32)],
) -> bool {
    let sub = rm!(RedisModule_CommandFilterArgGet(fctx, 1)).unwrap_or(std::ptr::null_mut());
    let sub = str_bytes(sub);
    subs.iter()
        .any(|&(name, arity)| sub.eq_ignore_ascii_case(name.as_bytes()) && arity_ok(arity, argc))
}

/// The id of the client whose command is filtered; 0 where the host does
/// not say (Redis 7.0).
fn client_of(fctx: *mut raw::RedisModuleCommandFilterCtx) -> u64 {
    rm!(RedisModule_CommandFilterGetClientId(fctx)).unwrap_or(0)
}

fn replace_with_retained(
    fctx: *mut raw::RedisModuleCommandFilterCtx,
    pos: c_int,
    s: *mut raw::RedisModuleString,
) {
    if s.is_null() {
        return;
    }
    // The filter takes ownership of one reference.
    let _ = rm!(RedisModule_RetainString(std::ptr::null_mut(), s));
    let _ = rm!(RedisModule_CommandFilterArgReplace(fctx, pos, s));
}

/// The filter callback. Every command the server runs passes here, so
/// the common case (a name [`lookup`] does not know, without a dot) costs
/// three API calls and a byte test; the rest is in [`filter_target`].
extern "C" fn filter(fctx: *mut raw::RedisModuleCommandFilterCtx) {
    let argc = rm!(RedisModule_CommandFilterArgsCount(fctx)).unwrap_or(0);
    if argc < 1 {
        return;
    }
    let a0 = rm!(RedisModule_CommandFilterArgGet(fctx, 0)).unwrap_or(std::ptr::null_mut());
    if a0.is_null() {
        return;
    }
    let name = str_bytes(a0);
    let target = lookup(name);
    if target.is_none() && !name.contains(&b'.') {
        return;
    }
    guard((), || filter_target(fctx, argc, name, target));
}

/// What the filter does for the name `name`, whose [`lookup`] is `target`.
fn filter_target(
    fctx: *mut raw::RedisModuleCommandFilterCtx,
    argc: c_int,
    name: &[u8],
    target: Option<Target>,
) {
    let (i, check) = match target {
        Some(Target::Route(i, check)) => (i, check),
        Some(Target::Scan) => return filter_scan(fctx, argc),
        Some(Target::Config) => return filter_config(fctx, argc),
        // Commands queued from now on run later: see skip.rs and txn.rs.
        Some(Target::Multi) => return crate::server::txn::saw_multi(client_of(fctx)),
        // Another module's command (`module.command`) may change its
        // client's user (aclcache.rs).
        None => {
            if crate::server::aclcache::invalidates(name) {
                crate::server::aclcache::invalidate();
                crate::server::skip::saw_permission_change();
            }
            return;
        }
        Some(Target::Move) => return filter_move(fctx, argc, name),
        Some(Target::AclChange) => {
            if !name.eq_ignore_ascii_case(b"exec") {
                crate::server::aclcache::invalidate();
                crate::server::skip::saw_permission_change();
            } else if !crate::server::skip::exec_may_use_cached_permissions() {
                // EXEC runs what was queued: it may change permissions
                // only if a change may have been queued (each was seen
                // when it was queued).
                crate::server::aclcache::invalidate();
            }
            return;
        }
    };
    let Some(&(_, _, arity)) = ROUTES.get(i) else {
        return;
    };
    if !arity_ok(arity, argc) {
        return;
    }
    match check {
        Check::Plain => {}
        Check::HostServes(native) if !route_on(native) => return,
        Check::HostServes(_) => {}
        Check::Sub(subs) if !sub_routed(fctx, argc, subs) => return,
        Check::Sub(_) => {}
        Check::Skip(which) => {
            // A key that is certainly not a module stream: the host
            // answers as the module would (skip.rs).
            let arg = |pos| {
                rm!(RedisModule_CommandFilterArgGet(fctx, pos)).unwrap_or(std::ptr::null_mut())
            };
            if crate::server::skip::leave_to_host(which, argc, arg, || client_of(fctx)) {
                return;
            }
        }
    }
    // Valkey/7.2+: a caller the ACL denies keeps the native
    // command, for the native denial (see acl::denied_natively).
    let native = ROUTES.get(i).map_or("", |r| r.0);
    if crate::server::acl::denied_natively(fctx, argc, native) {
        return;
    }
    let t = TARGETS
        .get(i)
        .map_or(std::ptr::null_mut(), |t| t.load(Ordering::Relaxed));
    replace_with_retained(fctx, 0, t);
    if i == 0 {
        // XADD: reserve IDMP's propagated slots (hot_idmp).
        crate::server::hot_idmp::mark(fctx, argc);
    }
}

/// SCAN ... TYPE stream: module streams are streams too.
fn filter_scan(fctx: *mut raw::RedisModuleCommandFilterCtx, argc: c_int) {
    if argc >= 4 {
        let wants_streams = (2..argc - 1).any(|pos| {
            let a = rm!(RedisModule_CommandFilterArgGet(fctx, pos)).unwrap_or(std::ptr::null_mut());
            let b =
                rm!(RedisModule_CommandFilterArgGet(fctx, pos + 1)).unwrap_or(std::ptr::null_mut());
            str_bytes(a).eq_ignore_ascii_case(b"type")
                && str_bytes(b).eq_ignore_ascii_case(b"stream")
        });
        if wants_streams {
            replace_with_retained(fctx, 0, SCAN.load(Ordering::Relaxed));
        }
    }
}

/// CONFIG GET/SET naming the Redis 8.6 configs.
fn filter_config(fctx: *mut raw::RedisModuleCommandFilterCtx, argc: c_int) {
    if argc >= 3 {
        let sub = rm!(RedisModule_CommandFilterArgGet(fctx, 1)).unwrap_or(std::ptr::null_mut());
        let sub = str_bytes(sub);
        if sub.eq_ignore_ascii_case(b"set") && argc >= 4 && argc % 2 == 0 {
            // CONFIG SET name value [name value ...] naming a Redis 8.6
            // name goes to idmp.configset, which renames the names and
            // answers errors under the names the client used (an arity
            // error is left to the server's CONFIG SET).
            let asks_native = (2..argc).step_by(2).any(|pos| {
                let a =
                    rm!(RedisModule_CommandFilterArgGet(fctx, pos)).unwrap_or(std::ptr::null_mut());
                module_config_name(str_bytes(a)).is_some()
            });
            if asks_native {
                replace_with_retained(fctx, 0, CONFIG_SET.load(Ordering::Relaxed));
                let _ = rm!(RedisModule_CommandFilterArgDelete(fctx, 1));
            }
        } else if sub.eq_ignore_ascii_case(b"get") {
            // CONFIG GET naming a Redis 8.6 name (or a pattern matching
            // one) goes to idmp.configget, which answers under the names
            // the client asked for.
            let asks_native = (2..argc).any(|pos| {
                let a =
                    rm!(RedisModule_CommandFilterArgGet(fctx, pos)).unwrap_or(std::ptr::null_mut());
                asks_native_config(str_bytes(a))
            });
            if asks_native {
                replace_with_retained(fctx, 0, CONFIG_GET.load(Ordering::Relaxed));
                let _ = rm!(RedisModule_CommandFilterArgDelete(fctx, 1));
            }
        }
    }
}

/// `RENAME src dst`, `RENAMENX src dst`, `MOVE key db`: tells the name index
/// where the value goes, for when the command unlinks it from `src`.
fn filter_move(fctx: *mut raw::RedisModuleCommandFilterCtx, argc: c_int, name: &[u8]) {
    if argc != 3 {
        return;
    }
    let arg = |pos| rm!(RedisModule_CommandFilterArgGet(fctx, pos)).unwrap_or(std::ptr::null_mut());
    let src = arg(1);
    let dst = if name.eq_ignore_ascii_case(b"move") {
        src
    } else {
        arg(2)
    };
    if src.is_null() || dst.is_null() {
        return;
    }
    crate::server::nameidx::moving(str_bytes(src), str_bytes(dst), crate::server::txn::any());
}

/// Whether the server's command `name` is itself (not renamed away, nor
/// another command renamed to it): the filter must see every MULTI, RENAME,
/// RENAMENX and MOVE by its name.
fn is_itself(ctx: *mut raw::RedisModuleCtx, name: &str) -> bool {
    let mut args = [
        create_string(ctx, b"INFO"),
        create_string(ctx, name.as_bytes()),
    ];
    let Some(reply) = crate::server::call::call_v(ctx, "COMMAND", "", &mut args) else {
        return false;
    };
    let e = reply.elem();
    e.at(0)
        .and_then(|info| info.at(0))
        .is_some_and(|n| n.bytes().eq_ignore_ascii_case(name.as_bytes()))
}

/// Creates the route targets and registers the filter.
pub fn init(ctx: *mut raw::RedisModuleCtx) -> bool {
    for (i, (_, target, _)) in ROUTES.iter().enumerate() {
        let s = create_string(std::ptr::null_mut(), target.as_bytes());
        if s.is_null() {
            return false;
        }
        if let Some(t) = TARGETS.get(i) {
            t.store(s, Ordering::Relaxed);
        }
    }
    let cg = create_string(std::ptr::null_mut(), b"idmp.configget");
    if cg.is_null() {
        return false;
    }
    CONFIG_GET.store(cg, Ordering::Relaxed);
    let cs = create_string(std::ptr::null_mut(), b"idmp.configset");
    if cs.is_null() {
        return false;
    }
    CONFIG_SET.store(cs, Ordering::Relaxed);
    let sc = create_string(std::ptr::null_mut(), b"idmp.scan");
    if sc.is_null() {
        return false;
    }
    SCAN.store(sc, Ordering::Relaxed);
    if !crate::server::hot_idmp::init() {
        return false;
    }
    crate::server::acl::init_filter_check(ctx);
    crate::server::skip::init(ctx, is_itself(ctx, "multi"));
    if !["rename", "renamenx", "move"]
        .iter()
        .all(|name| is_itself(ctx, name))
    {
        // The name index would miss a move (nameidx.rs).
        crate::server::nameidx::INDEX.give_up();
        crate::server::api::log(
            ctx,
            "notice",
            "idmp: RENAME, RENAMENX or MOVE is renamed: every stream command is routed",
        );
    }
    let f = rm!(RedisModule_RegisterCommandFilter(
        ctx,
        Some(filter),
        raw::REDISMODULE_CMDFILTER_NOSELF as c_int
    ))
    .unwrap_or(std::ptr::null_mut());
    !f.is_null()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_finds_every_route_at_its_index() {
        for (i, &(native, _, _)) in ROUTES.iter().enumerate() {
            assert!(matches!(lookup(native.as_bytes()), Some(Target::Route(j, _)) if j == i));
            let upper = native.to_ascii_uppercase();
            assert!(matches!(lookup(upper.as_bytes()), Some(Target::Route(j, _)) if j == i));
        }
        assert_eq!(lookup(b"ScAn"), Some(Target::Scan));
        assert_eq!(lookup(b"CONFIG"), Some(Target::Config));
        // Bit 5 lowers letters only: no other byte reaches a name.
        for name in [
            &b"xad\x04"[..],
            b"XADD ",
            b"get",
            b"",
            b"xreadgroupx",
            b"x@dd",
        ] {
            assert_eq!(lookup(name), None, "{name:?}");
        }
        assert!(matches!(
            lookup(b"TYPE"),
            Some(Target::Route(_, Check::Skip(Skippable::Type)))
        ));
        assert_eq!(lookup(b"Multi"), Some(Target::Multi));
        for name in [&b"rename"[..], b"RENAMENX", b"Move"] {
            assert_eq!(lookup(name), Some(Target::Move), "{name:?}");
        }
    }

    /// The first-letter-and-length prefilter admits every name the match
    /// knows, and nothing of another letter or length reaches the match.
    #[test]
    fn lengths_admit_exactly_the_matched_names() {
        let mut names: Vec<&[u8]> = ROUTES.iter().map(|r| r.0.as_bytes()).collect();
        names.extend([
            &b"scan"[..],
            b"config",
            b"multi",
            b"rename",
            b"renamenx",
            b"move",
        ]);
        names.extend(crate::server::aclcache::PERMISSION_NAMES.iter().copied());
        let mut want = [0u16; 256];
        for n in &names {
            assert!(lookup(n).is_some(), "{n:?}");
            want[usize::from(n[0])] |= 1 << n.len();
        }
        // (Only a letter's byte with bit 5 set is a letter.)
        for b in 0..=255u8 {
            let expect = if b.is_ascii_alphabetic() {
                want[usize::from(b | 0x20)]
            } else {
                0
            };
            assert_eq!(lengths_of(b), expect, "{:?}", b as char);
        }
    }

    #[test]
    fn lookup_finds_the_names_that_change_permissions() {
        for &name in crate::server::aclcache::PERMISSION_NAMES {
            assert_eq!(lookup(name), Some(Target::AclChange));
            let upper = name.to_ascii_uppercase();
            assert_eq!(lookup(&upper), Some(Target::AclChange));
        }
        for name in [
            &b"get"[..],
            b"set",
            b"aclx",
            b"execute",
            b"idmp.xadd",
            b"xadd",
        ] {
            assert!(!crate::server::aclcache::invalidates(name));
            assert_ne!(lookup(name), Some(Target::AclChange));
        }
        // The rest are other modules' names, told by their dot.
        assert!(crate::server::aclcache::invalidates(b"other.cmd"));
        assert_eq!(lookup(b"other.cmd"), None);
    }
}
