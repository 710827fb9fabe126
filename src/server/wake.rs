//! Waking blocked readers when their key goes away or changes.
//!
//! Redis 8.6.3 answers a blocked XREADGROUP with the group error when its
//! key is deleted, renamed or moved away, expires, is flushed or swapped
//! out, and with WRONGTYPE when it is overwritten with another type; a
//! blocked XREAD keeps waiting. How the module learns of these changes
//! depends on the host ([`crate::server::host::Host::unblock_deleted`]):
//!
//! - Redis 7.2+ and Valkey wake a module's client blocked with
//!   `REDISMODULE_BLOCK_UNBLOCK_DELETED` on each of them, as they wake their
//!   own XREADGROUP: xread.rs blocks XREADGROUP so, and re-runs it.
//! - Redis 7.0 signals none of them. The module keeps the keys its blocked
//!   clients wait on ([`WAITING`]). A module stream leaving a waited key
//!   (any of the changes above but a flush) passes the type's `unlink2`
//!   ([`unlinked`]); the key is looked at by a 0 ms timer, after the command
//!   or transaction that changed it, and its readers are signalled (a
//!   stream) or ended ([`crate::server::xread::key_gone`]). A native stream
//!   has no such callback: only when an XREADGROUP waits on one does the
//!   module subscribe to the key events of every type ([`on_key_event`]).
//!   From then on every write of every key builds a module context for each
//!   of its events (a `SET ... EX`, two events, costs about 1,800 more
//!   instructions; Redis 7.0 cannot unsubscribe).
//! - FLUSHDB, FLUSHALL and SWAPDB are server events, on every host.
//!
//! Before this, the module subscribed to every key event once any reader
//! blocked: a `SET k v EX 1000` cost 12,170 instructions instead of the
//! host's 9,220 while one XREADGROUP waited on a module stream.

use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_void};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

use redis_module::raw;

use crate::rm;
use crate::server::api::{create_string, str_bytes};
use crate::server::guard::guard;
use crate::server::host::host;
use crate::server::route::{key_kind, Kind, OpenKey};
use crate::server::xread::Gone;

type Waiting = HashMap<(i32, Vec<u8>), Vec<usize>>;

/// (db, key) -> the blocked reads (tokens of [`crate::server::xread`])
/// waiting on it.
static WAITING: Mutex<Option<Waiting>> = Mutex::new(None);

/// How many keys [`WAITING`] holds, kept beside it so that the keyspace
/// events of every other write (a SET, an LPUSH, ...: the module hears them
/// all) cost one load while no reader is blocked.
static WAITED_KEYS: AtomicUsize = AtomicUsize::new(0);

/// Two bits per waited key name (a Bloom filter), set when a key is added
/// and cleared when no key is waited: a key event of a name with a bit
/// missing is not a waited key's, and costs no lock.
static WAITED_BITS: AtomicU64 = AtomicU64::new(0);

/// The filter bits of a key name (FNV-1a).
fn bits_of(key: &[u8]) -> u64 {
    let h = key.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    (1 << (h & 63)) | (1 << ((h >> 6) & 63))
}

fn with_waiting<T>(f: impl FnOnce(&mut Waiting) -> T) -> Option<T> {
    let mut g = WAITING.lock().ok()?;
    let w = g.get_or_insert_with(HashMap::new);
    let out = f(w);
    WAITED_KEYS.store(w.len(), Ordering::Relaxed);
    if w.is_empty() {
        WAITED_BITS.store(0, Ordering::Relaxed);
    }
    Some(out)
}

/// Whether `key` may be waited on (no false negative).
fn may_be_waited(key: &[u8]) -> bool {
    WAITED_KEYS.load(Ordering::Relaxed) != 0 && {
        let b = bits_of(key);
        WAITED_BITS.load(Ordering::Relaxed) & b == b
    }
}

/// Records that the blocked read `token` (an XREADGROUP when `group`)
/// waits on `keys` of `db`, the selected database of `ctx`. On a host that
/// does not wake it on a deleted key, an XREADGROUP waiting on a native
/// stream needs the key events (see the module's doc).
pub fn add(ctx: *mut raw::RedisModuleCtx, db: i32, keys: &[Vec<u8>], token: usize, group: bool) {
    with_waiting(|w| {
        for k in keys {
            WAITED_BITS.fetch_or(bits_of(k), Ordering::Relaxed);
            w.entry((db, k.clone())).or_default().push(token);
        }
    });
    if group && !host().unblock_deleted && !SUBSCRIBED.load(Ordering::Relaxed) {
        let native = keys.iter().any(|k| {
            let key = OpenKey::open(ctx, create_string(ctx, k), false);
            matches!(key_kind(key.0), Kind::Native)
        });
        if native {
            subscribe_key_events(ctx);
        }
    }
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
    let k = OpenKey::open(ctx, s, false);
    let why = match key_kind(k.0) {
        Kind::Module(_) => None,
        Kind::Native => {
            // A stream renamed, copied or restored over a module stream:
            // its deletion will pass no `unlink2`.
            if !host().unblock_deleted {
                subscribe_key_events(ctx);
            }
            None
        }
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
    if !may_be_waited(str_bytes(key)) {
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
    touched_all(ctx, keys);
}

/// [`touched`] for each (db, key), each with its database selected in
/// `ctx` (the selection is restored after).
fn touched_all(ctx: *mut raw::RedisModuleCtx, keys: Vec<(i32, Vec<u8>)>) {
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

/// The (db, key) pairs [`unlinked`] found waited, for [`on_unlinked`].
static UNLINKED: Mutex<Vec<(i32, Vec<u8>)>> = Mutex::new(Vec::new());
/// A detached context for arming [`on_unlinked`]'s timer from `unlink2`,
/// which has none (Redis 7.0 only; null elsewhere).
static TIMER_CTX: AtomicPtr<raw::RedisModuleCtx> = AtomicPtr::new(std::ptr::null_mut());

/// The type's `unlink2`: a module stream leaves the key `key` of `db`
/// (deleted, expired, evicted, overwritten, renamed or moved away). On
/// Redis 7.0, a waited key is looked at after the command (see the
/// module's doc); the host does it elsewhere. One load when no reader waits.
pub fn unlinked(db: i32, key: &[u8]) {
    if !may_be_waited(key) {
        return;
    }
    let ctx = TIMER_CTX.load(Ordering::Relaxed);
    if ctx.is_null() || with_waiting(|w| !w.contains_key(&(db, key.to_vec()))).unwrap_or(true) {
        return;
    }
    let Ok(mut pending) = UNLINKED.lock() else {
        return;
    };
    if pending.is_empty() {
        // The timer runs after the command (or EXEC), as Redis 7.2+ serves
        // its blocked clients; a key a later command brings back as a
        // stream is signalled by the host (dbAdd) before that.
        let _ = rm!(RedisModule_CreateTimer(
            ctx,
            0,
            Some(on_unlinked),
            std::ptr::null_mut()
        ));
    }
    pending.push((db, key.to_vec()));
}

extern "C" fn on_unlinked(ctx: *mut raw::RedisModuleCtx, _data: *mut c_void) {
    crate::server::api::auto_memory(ctx);
    guard((), || {
        let keys = UNLINKED.lock().map(|mut p| std::mem::take(&mut *p));
        touched_all(ctx, keys.unwrap_or_default());
    })
}

/// Whether [`subscribe_key_events`] has run.
static SUBSCRIBED: AtomicBool = AtomicBool::new(false);

/// Whether the module hears every key event (INFO).
pub fn key_events_subscribed() -> bool {
    SUBSCRIBED.load(Ordering::Relaxed)
}

/// Subscribes to the events of every key type, once, when an XREADGROUP
/// first waits on a native stream on Redis 7.0: the server then builds a
/// module context for each event of every write. (Redis 7.0 has no way to
/// unsubscribe.)
fn subscribe_key_events(ctx: *mut raw::RedisModuleCtx) {
    if SUBSCRIBED.swap(true, Ordering::Relaxed) {
        return;
    }
    // Every class whose commands may delete or overwrite a key of another
    // type (SORT ... STORE is a list event, SINTERSTORE a set one); no hash
    // command can, and a hash event's key was no stream before it.
    let types = raw::REDISMODULE_NOTIFY_GENERIC
        | raw::REDISMODULE_NOTIFY_STRING
        | raw::REDISMODULE_NOTIFY_LIST
        | raw::REDISMODULE_NOTIFY_SET
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

/// Subscribes to the server events (FLUSHDB, SWAPDB) and, where the host
/// does not wake blocked clients on deleted keys, keeps a context for
/// [`unlinked`]'s timer.
pub fn init(ctx: *mut raw::RedisModuleCtx) {
    if !host().unblock_deleted {
        let d = rm!(RedisModule_GetDetachedThreadSafeContext(ctx)).unwrap_or(std::ptr::null_mut());
        TIMER_CTX.store(d, Ordering::Relaxed);
    }
    let _ = crate::server::api::subscribe_event(ctx, raw::REDISMODULE_EVENT_FLUSHDB, on_flush);
    let _ = crate::server::api::subscribe_event(ctx, raw::REDISMODULE_EVENT_SWAPDB, on_swapdb);
}
