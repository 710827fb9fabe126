//! A cache of the routed commands' permission decisions (issue 13): the
//! check in [`crate::server::acl::check`] looks the caller's user up by name
//! on every call, which costs as much as a native XADD's own work. A client
//! that was allowed a command stays allowed until something that can change
//! permissions runs, so "allowed" is remembered per client ID and command,
//! under a generation that the command filter advances whenever such a
//! command passes it ([`invalidates`]): ACL (any subcommand), AUTH, HELLO,
//! RESET, MODULE, EXEC when a transaction may hold a queued ACL SETUSER or
//! AUTH (it ran the filter at queue time, which marked it: see
//! `skip::exec_may_use_cached_permissions`), and every command of another
//! module (one could authenticate its client as another user).
//!
//! Inside a script the decisions are kept per user name instead (the
//! script's client is shared by every caller and runs each script as its
//! caller's user).
//!
//! The filter's pre-check on Redis 7.2+ and Valkey
//! ([`crate::server::acl::denied_natively`]: whether the host would deny the
//! native command, keys included) is answered from the same slot when its
//! client was allowed the command and no argument can deny its user what
//! the command alone allows (keys `~*`, all databases, no selectors, no
//! first-argument rules). Whether that holds of a user is asked once per
//! user name and generation (`ACL GETUSER`).
//!
//! Never cached: denials (they always take the full path, with its ACL LOG
//! entry), calls inside EXEC while a transaction may hold a queued
//! permission change (it would run between the transaction's own commands:
//! the filter marks any such command seen while a client may be queueing,
//! see `skip::exec_may_use_cached_permissions`), replicated or loading calls
//! (they are not checked at all), and subcommand checks (XINFO STREAM,
//! XGROUP CREATE, CONFIG GET).

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};

use redis_module::raw;

/// The permission generation; advanced by the filter, read by every check.
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// The single-word commands whose decisions are cached; a decision is one
/// bit at the command's index.
const CACHED: &[&str] = &[
    "xadd",
    "xrange",
    "xrevrange",
    "xlen",
    "xdel",
    "xtrim",
    "xsetid",
    "type",
    "xread",
    "xreadgroup",
    "xack",
    "xpending",
    "xclaim",
    "xautoclaim",
];

/// Slots of the cache (direct-mapped on the client ID).
const SLOTS: usize = 256;

#[derive(Clone, Copy, Default)]
struct Slot {
    client: u64,
    generation: u64,
    allowed: u32,
    /// The filter's pre-check decisions (acl::denied_natively): allowed,
    /// whatever the arguments (no argument can deny the client's user what
    /// the command alone allows). Kept apart from `allowed`, which the module command sets
    /// when it runs: the pre-check runs when the command is filtered.
    native: u32,
}

impl Slot {
    const EMPTY: Slot = Slot {
        client: 0,
        generation: 0,
        allowed: 0,
        native: 0,
    };
}

thread_local! {
    static CACHE: RefCell<[Slot; SLOTS]> = const { RefCell::new([Slot::EMPTY; SLOTS]) };
}

/// Contexts whose calls are never answered from the cache.
const UNCACHED_FLAGS: u32 =
    raw::REDISMODULE_CTX_FLAGS_REPLICATED | raw::REDISMODULE_CTX_FLAGS_LOADING;

/// Slots of the script cache: decisions per user name.
const USER_SLOTS: usize = 8;

/// A decision slot of the script cache.
struct UserSlot {
    name: Vec<u8>,
    generation: u64,
    allowed: u32,
    /// What `ACL GETUSER` says of the user's rules, once asked.
    rules: Option<Rules>,
}

/// What the module needs to know of a user's rules beyond one command's
/// check (`ACL GETUSER`, acl.rs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rules {
    /// No argument can deny the user what a command alone allows.
    pub args_cannot_deny: bool,
    /// The user may use some databases only (Valkey 9+): the module API's
    /// command check, which knows no database, denies such a user every
    /// command.
    pub db_limited: bool,
}

thread_local! {
    static USERS: RefCell<(Vec<UserSlot>, usize)> = const { RefCell::new((Vec::new(), 0)) };
}

/// Who asks: a client, or inside a script the user the script runs as (the
/// script's client is shared by every caller and takes the caller's user
/// for each script; a script cannot change permissions: ACL, AUTH, HELLO,
/// RESET and MODULE are refused in scripts, and another module's command
/// passes the filter when the script calls it).
#[derive(Clone)]
enum Who {
    Client(u64),
    User(Vec<u8>),
}

/// The cache position of a call: who asks and the command's bit, or `None`
/// where the call is not cacheable.
#[derive(Clone)]
pub struct Key {
    who: Who,
    bit: u32,
}

/// The key of the call `native` (lower case) from the client of `ctx`;
/// `user_name` gives the name of the user a script runs as.
pub fn key(
    ctx: *mut raw::RedisModuleCtx,
    native: &str,
    flags: u32,
    user_name: impl FnOnce() -> Option<Vec<u8>>,
) -> Option<Key> {
    if flags & UNCACHED_FLAGS != 0 {
        return None;
    }
    // Inside EXEC only while no permission change can be queued
    // (skip::exec_may_use_cached_permissions).
    if flags & raw::REDISMODULE_CTX_FLAGS_MULTI != 0
        && !crate::server::skip::exec_may_use_cached_permissions()
    {
        return None;
    }
    let idx = CACHED.iter().position(|&c| c == native)?;
    let who = if flags & raw::REDISMODULE_CTX_FLAGS_LUA != 0 {
        Who::User(user_name()?)
    } else {
        let client = crate::rm!(RedisModule_GetClientId(ctx)).unwrap_or(0);
        if client == 0 {
            return None;
        }
        Who::Client(client)
    };
    Some(Key { who, bit: 1 << idx })
}

/// Whether the call was allowed under the current generation.
pub fn allowed(k: &Key) -> bool {
    let generation = GENERATION.load(Ordering::Relaxed);
    match &k.who {
        Who::Client(client) => CACHE.with(|c| {
            let c = c.borrow();
            c.get((*client as usize) % SLOTS).is_some_and(|s| {
                s.client == *client && s.generation == generation && s.allowed & k.bit != 0
            })
        }),
        Who::User(name) => USERS.with(|u| {
            u.borrow()
                .0
                .iter()
                .any(|s| s.name == *name && s.generation == generation && s.allowed & k.bit != 0)
        }),
    }
}

/// Remembers that the call was allowed (by a full check just made).
pub fn remember(k: Key) {
    let generation = GENERATION.load(Ordering::Relaxed);
    match k.who {
        Who::Client(client) => with_client_slot(client, generation, |s| s.allowed |= k.bit),
        Who::User(name) => USERS.with(|u| {
            let mut u = u.borrow_mut();
            let (slots, next) = &mut *u;
            if let Some(s) = user_slot(slots, next, name, generation) {
                s.allowed |= k.bit;
            }
        }),
    }
}

/// The slot of user `name` under `generation` (emptied if it was of an
/// older one), made if there is none.
fn user_slot<'a>(
    slots: &'a mut Vec<UserSlot>,
    next: &mut usize,
    name: Vec<u8>,
    generation: u64,
) -> Option<&'a mut UserSlot> {
    let fresh = |name| UserSlot {
        name,
        generation,
        allowed: 0,
        rules: None,
    };
    let at = match slots.iter().position(|s| s.name == name) {
        Some(i) => {
            if let Some(s) = slots.get_mut(i).filter(|s| s.generation != generation) {
                *s = fresh(std::mem::take(&mut s.name));
            }
            i
        }
        None if slots.len() < USER_SLOTS => {
            slots.push(fresh(name));
            slots.len() - 1
        }
        None => {
            // (Round robin: a few users are asked about at a time.)
            let i = *next % USER_SLOTS;
            *next = next.wrapping_add(1);
            if let Some(s) = slots.get_mut(i) {
                *s = fresh(name);
            }
            i
        }
    };
    slots.get_mut(at)
}

/// The bit of the single-word command `native` (lower case), if its
/// decisions are cached.
pub fn bit_of(native: &str) -> Option<u32> {
    CACHED.iter().position(|&c| c == native).map(|i| 1 << i)
}

/// Whether the filter's pre-check for client `client` and the command of
/// `bit` may be answered "allowed" without asking: a full pre-check allowed
/// it under the current generation, for any keys ([`remember_native`]).
pub fn natively_allowed(client: u64, bit: u32) -> bool {
    let generation = GENERATION.load(Ordering::Relaxed);
    let hit = CACHE.with(|c| {
        c.borrow().get((client as usize) % SLOTS).is_some_and(|s| {
            s.client == client && s.generation == generation && s.native & bit != 0
        })
    });
    if hit {
        crate::server::stats::bump(&NATIVE_HITS, 1);
    }
    hit
}

/// Pre-checks answered by [`natively_allowed`] (INFO).
static NATIVE_HITS: AtomicU64 = AtomicU64::new(0);

/// The number of pre-checks answered from the cache, for INFO.
pub fn native_hits() -> u64 {
    NATIVE_HITS.load(Ordering::Relaxed)
}

/// Remembers that a full pre-check allowed client `client` the command of
/// `bit`, whose user no argument can deny what the command allows (so that no other
/// call of the command can be denied by its keys).
pub fn remember_native(client: u64, bit: u32) {
    let generation = GENERATION.load(Ordering::Relaxed);
    with_client_slot(client, generation, |s| s.native |= bit);
}

/// Runs `f` on the slot of `client` under `generation`, emptied first if it
/// held another client or an older generation.
fn with_client_slot(client: u64, generation: u64, f: impl FnOnce(&mut Slot)) {
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if let Some(s) = c.get_mut((client as usize) % SLOTS) {
            if s.client != client || s.generation != generation {
                *s = Slot {
                    client,
                    generation,
                    ..Slot::EMPTY
                };
            }
            f(s);
        }
    })
}

/// The rules of user `name`, as `ask` (called at most once per user and
/// generation) says.
pub fn user_rules(name: &[u8], ask: impl FnOnce() -> Rules) -> Rules {
    let generation = GENERATION.load(Ordering::Relaxed);
    let known = USERS.with(|u| {
        u.borrow()
            .0
            .iter()
            .find(|s| s.name == name && s.generation == generation)
            .and_then(|s| s.rules)
    });
    if let Some(rules) = known {
        return rules;
    }
    let rules = ask();
    USERS.with(|u| {
        let mut u = u.borrow_mut();
        let (slots, next) = &mut *u;
        if let Some(s) = user_slot(slots, next, name.to_vec(), generation) {
            s.rules = Some(rules);
        }
    });
    rules
}

/// Forgets every decision.
pub fn invalidate() {
    GENERATION.fetch_add(1, Ordering::Relaxed);
}

/// The server's commands that may change what a client is permitted (the
/// filter's name lookup knows them too: filter.rs checks the two agree).
pub const PERMISSION_NAMES: &[&[u8]] = &[b"acl", b"auth", b"hello", b"reset", b"module", b"exec"];

/// Whether a command named `name` (as a client sent it) may change what a
/// client is permitted, so that the cache must be dropped before it runs.
pub fn invalidates(name: &[u8]) -> bool {
    if PERMISSION_NAMES
        .iter()
        .any(|n| name.eq_ignore_ascii_case(n))
    {
        return true;
    }
    // Another module's command (they are named `module.command`): it could
    // authenticate its client as another user. The module's own names do not.
    name.contains(&b'.') && !(name.len() > 5 && name[..5].eq_ignore_ascii_case(b"idmp."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_names_hold_no_dot() {
        // filter.rs calls `invalidates` for a name it does not know only
        // when the name holds a dot: the server's own names hold none.
        for n in PERMISSION_NAMES {
            assert!(!n.contains(&b'.'));
        }
    }

    #[test]
    fn permission_changing_names() {
        for n in [
            "ACL",
            "acl",
            "Auth",
            "HELLO",
            "reset",
            "module",
            "EXEC",
            "other.auth",
        ] {
            assert!(invalidates(n.as_bytes()), "{n}");
        }
        for n in [
            "xadd",
            "get",
            "multi",
            "idmp.xadd",
            "IDMP.TYPE",
            "config",
            "client",
        ] {
            assert!(!invalidates(n.as_bytes()), "{n}");
        }
    }

    #[test]
    fn remembered_until_invalidated() {
        let key = |who, bit| Key { who, bit };
        let k = key(Who::Client(7), 1 << 3);
        let other_cmd = key(Who::Client(7), 1 << 4);
        let other_client = key(Who::Client(7 + SLOTS as u64), 1 << 3);
        assert!(!allowed(&k));
        remember(k.clone());
        assert!(allowed(&k));
        assert!(!allowed(&other_cmd));
        assert!(!allowed(&other_client));
        remember(other_client.clone()); // same slot: evicts client 7
        assert!(!allowed(&k));
        assert!(allowed(&other_client));
        invalidate();
        assert!(!allowed(&other_client));
    }

    #[test]
    fn pre_check_decisions_apart_from_the_commands_own() {
        let (client, bit) = (11, 1 << 2);
        assert!(!natively_allowed(client, bit));
        remember(Key {
            who: Who::Client(client),
            bit,
        });
        // the command's own decision does not answer the pre-check
        assert!(!natively_allowed(client, bit));
        remember_native(client, bit);
        assert!(natively_allowed(client, bit));
        assert!(!natively_allowed(client, 1 << 3));
        assert!(!natively_allowed(client + SLOTS as u64, bit));
        // nor the reverse
        assert!(allowed(&Key {
            who: Who::Client(client),
            bit
        }));
        remember_native(client, 1 << 5);
        assert!(!allowed(&Key {
            who: Who::Client(client),
            bit: 1 << 5
        }));
        invalidate();
        assert!(!natively_allowed(client, bit));
    }

    #[test]
    fn rules_asked_about_once_per_user_and_generation() {
        let asked = std::cell::Cell::new(0);
        let ask = |yes| {
            asked.set(asked.get() + 1);
            Rules {
                args_cannot_deny: yes,
                db_limited: !yes,
            }
        };
        let cannot_deny = |name: &[u8], yes| user_rules(name, || ask(yes)).args_cannot_deny;
        assert!(cannot_deny(b"frank", true));
        assert!(cannot_deny(b"frank", false));
        assert!(!user_rules(b"frank", || ask(false)).db_limited);
        assert!(!cannot_deny(b"gina", false));
        assert!(!cannot_deny(b"gina", true));
        assert!(user_rules(b"gina", || ask(true)).db_limited);
        assert_eq!(asked.get(), 2);
        invalidate();
        assert!(!cannot_deny(b"frank", false));
        assert_eq!(asked.get(), 3);
        assert_eq!(bit_of("xlen"), Some(1 << 3));
        assert_eq!(bit_of("xinfo"), None);
    }

    #[test]
    fn script_decisions_per_user_name() {
        let user = |name: &[u8], bit| Key {
            who: Who::User(name.to_vec()),
            bit,
        };
        let dave = user(b"dave", 1);
        assert!(!allowed(&dave));
        remember(dave.clone());
        assert!(allowed(&dave));
        assert!(!allowed(&user(b"erin", 1)));
        assert!(!allowed(&user(b"dave", 2)));
        assert!(!allowed(&Key {
            who: Who::Client(1),
            bit: 1
        }));
        // More users than slots: the oldest is replaced, none is confused.
        for i in 0..USER_SLOTS as u8 + 2 {
            remember(user(&[b'u', i], 1));
        }
        assert!(allowed(&user(&[b'u', USER_SLOTS as u8 + 1], 1)));
        assert!(!allowed(&user(b"erin", 1)));
        invalidate();
        assert!(!allowed(&user(&[b'u', USER_SLOTS as u8 + 1], 1)));
    }
}
