//! Waking blocked readers when their key goes away or changes.
//!
//! Redis 7.2 and later answer a blocked XREADGROUP with an error when its key
//! is deleted, renamed away, overwritten with another type, flushed or
//! swapped out; Redis 7.0 does not signal those keys. The module keeps the
//! keys its blocked clients wait on, and signals them on such events so that
//! the blocked command runs again (and answers the group error, or serves a
//! stream that RENAME brought in).

use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_void};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use redis_module::raw;

use crate::rm;
use crate::server::api::{create_string, str_bytes};
use crate::server::guard::guard;
use crate::server::route::Kind;
use crate::server::xread::Gone;

type Waiting = HashMap<(i32, Vec<u8>), Vec<usize>>;

/// (db, key) -> the blocked reads (tokens of [`crate::server::xread`])
/// waiting on it.
static WAITING: Mutex<Option<Waiting>> = Mutex::new(None);

/// How many keys [`WAITING`] holds, kept beside it so that the keyspace
/// events of every other write (a SET, an LPUSH, ...: the module hears them
/// all) cost one load while no reader is blocked.
static WAITED_KEYS: AtomicUsize = AtomicUsize::new(0);

fn with_waiting<T>(f: impl FnOnce(&mut Waiting) -> T) -> Option<T> {
    let mut g = WAITING.lock().ok()?;
    let w = g.get_or_insert_with(HashMap::new);
    let out = f(w);
    WAITED_KEYS.store(w.len(), Ordering::Relaxed);
    Some(out)
}

/// Records that the blocked read `token` waits on `keys` of `db` (and, the
/// first time a reader blocks, subscribes to the key events).
pub fn add(ctx: *mut raw::RedisModuleCtx, db: i32, keys: &[Vec<u8>], token: usize) {
    subscribe_key_events(ctx);
    with_waiting(|w| {
        for k in keys {
            w.entry((db, k.clone())).or_default().push(token);
        }
    });
}

/// Records that the blocked read `token` stopped waiting.
pub fn remove(db: i32, keys: &[Vec<u8>], token: usize) {
    with_waiting(|w| {
        for k in keys {
            let e = (db, k.clone());
            if let Some(v) = w.get_mut(&e) {
                v.retain(|&t| t != token);
                if v.is_empty() {
                    w.remove(&e);
                }
            }
        }
    });
}

/// Whether the blocked read `token` is still registered (not yet freed).
pub fn is_waiting(token: usize) -> bool {
    with_waiting(|w| w.values().any(|v| v.contains(&token))).unwrap_or(false)
}

/// What to do for a waited key after an event: a key that is gone (or no
/// longer a stream) ends the waits that cannot survive it; a stream is
/// signalled so that its readers run again.
fn touched(ctx: *mut raw::RedisModuleCtx, db: i32, key: &[u8]) {
    let tokens = with_waiting(|w| w.get(&(db, key.to_vec())).cloned().unwrap_or_default())
        .unwrap_or_default();
    if tokens.is_empty() {
        return;
    }
    let s = create_string(ctx, key);
    let k = crate::server::route::OpenKey::open(ctx, s, false);
    let why = match crate::server::route::key_kind(k.0) {
        Kind::Module(_) | Kind::Native => None,
        Kind::Empty => Some(Gone::Missing),
        Kind::Other => Some(Gone::WrongType),
    };
    drop(k);
    match why {
        None => {
            let _ = rm!(RedisModule_SignalKeyAsReady(ctx, s));
        }
        Some(why) => {
            for t in tokens {
                crate::server::xread::key_gone(ctx, t, why);
            }
        }
    }
}

extern "C" fn on_key_event(
    ctx: *mut raw::RedisModuleCtx,
    _type: c_int,
    _event: *const c_char,
    key: *mut raw::RedisModuleString,
) -> c_int {
    // (Set and cleared on the main thread, as the events run there.)
    if WAITED_KEYS.load(Ordering::Relaxed) == 0 {
        return 0;
    }
    crate::server::api::auto_memory(ctx);
    guard((), || {
        let db = rm!(RedisModule_GetSelectedDb(ctx)).unwrap_or(0);
        touched(ctx, db, str_bytes(key));
    });
    0
}

/// Signals every waited key of `dbs` (all databases when `None`).
fn signal_dbs(ctx: *mut raw::RedisModuleCtx, dbs: Option<&[i32]>) {
    let keys: Vec<(i32, Vec<u8>)> = with_waiting(|w| {
        w.keys()
            .filter(|(db, _)| dbs.is_none_or(|d| d.contains(db)))
            .cloned()
            .collect()
    })
    .unwrap_or_default();
    if keys.is_empty() {
        return;
    }
    let current = rm!(RedisModule_GetSelectedDb(ctx)).unwrap_or(0);
    for (db, key) in keys {
        let _ = rm!(RedisModule_SelectDb(ctx, db));
        touched(ctx, db, &key);
    }
    let _ = rm!(RedisModule_SelectDb(ctx, current));
}

extern "C" fn on_flush(
    ctx: *mut raw::RedisModuleCtx,
    _eid: raw::RedisModuleEvent,
    sub: u64,
    data: *mut c_void,
) {
    crate::server::api::auto_memory(ctx);
    guard((), || {
        if sub != raw::REDISMODULE_SUBEVENT_FLUSHDB_END {
            return;
        }
        // SAFETY: for the FlushDB event the server passes a RedisModuleFlushInfo.
        let info = unsafe { data.cast::<raw::RedisModuleFlushInfo>().as_ref() };
        match info.map(|i| i.dbnum) {
            Some(db) if db >= 0 => signal_dbs(ctx, Some(&[db])),
            _ => signal_dbs(ctx, None),
        }
    })
}

extern "C" fn on_swapdb(
    ctx: *mut raw::RedisModuleCtx,
    _eid: raw::RedisModuleEvent,
    _sub: u64,
    data: *mut c_void,
) {
    crate::server::api::auto_memory(ctx);
    guard((), || {
        // SAFETY: for the SwapDB event the server passes a RedisModuleSwapDbInfo.
        let info = unsafe { data.cast::<raw::RedisModuleSwapDbInfo>().as_ref() };
        if let Some(i) = info {
            signal_dbs(ctx, Some(&[i.dbnum_first, i.dbnum_second]));
        }
    })
}

/// Whether [`subscribe_key_events`] has run.
static SUBSCRIBED: AtomicBool = AtomicBool::new(false);

/// Subscribes to the events of every key type, once, when the first reader
/// blocks: not at load, since the server then builds a module context for
/// each event of every write (a SET costs about 10 % more), on servers where
/// no reader ever blocks too. (Redis 7.0 has no way to unsubscribe.)
fn subscribe_key_events(ctx: *mut raw::RedisModuleCtx) {
    if SUBSCRIBED.swap(true, Ordering::Relaxed) {
        return;
    }
    let types = raw::REDISMODULE_NOTIFY_GENERIC
        | raw::REDISMODULE_NOTIFY_STRING
        | raw::REDISMODULE_NOTIFY_LIST
        | raw::REDISMODULE_NOTIFY_SET
        | raw::REDISMODULE_NOTIFY_HASH
        | raw::REDISMODULE_NOTIFY_ZSET
        | raw::REDISMODULE_NOTIFY_EXPIRED
        | raw::REDISMODULE_NOTIFY_EVICTED
        | raw::REDISMODULE_NOTIFY_MODULE;
    let _ = rm!(RedisModule_SubscribeToKeyspaceEvents(
        ctx,
        types,
        Some(on_key_event)
    ));
}

/// Subscribes to the server events (FLUSHDB, SWAPDB); the key events follow
/// when a reader first blocks ([`add`]).
pub fn init(ctx: *mut raw::RedisModuleCtx) {
    let _ = crate::server::api::subscribe_event(ctx, raw::REDISMODULE_EVENT_FLUSHDB, on_flush);
    let _ = crate::server::api::subscribe_event(ctx, raw::REDISMODULE_EVENT_SWAPDB, on_swapdb);
}
