//! Blocked XREADGROUP clients whose key goes away. Redis 7.0 serves
//! module-blocked clients only when a key that still exists is signalled, so
//! a deleted (expired, evicted, renamed or moved away, flushed) key would
//! leave an XREADGROUP blocked; Redis 7.2+ answers it with NOGROUP.
//!
//! * Keys written with another type: the key is signalled ready; the
//!   blocked request runs again (`xread_route`) and answers NOGROUP
//!   (XREADGROUP) or keeps waiting (XREAD).
//! * Keys that went away: a small registry of the blocked XREADGROUP
//!   clients (database, keys) is consulted and each client waiting on the
//!   key is unblocked with `RM_UnblockClient`, which runs the timeout
//!   callback; the private data is marked so that it answers NOGROUP.
//!   XREAD clients are not registered: they keep waiting, as native.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use redis_module::raw;

use crate::commands::xread::BlockSpec;
use crate::rm;
use crate::server::api::str_bytes;

/// The private data of a blocked XREAD/XREADGROUP client.
pub struct Blocked {
    /// What the request needs to run again.
    pub spec: BlockSpec,
    /// Set when the key went away (the timeout callback answers NOGROUP).
    pub gone: AtomicBool,
    /// The key that went away.
    pub gone_key: Mutex<Vec<u8>>,
}

struct Waiter {
    data: usize,
    client: usize,
    db: c_int,
    keys: Vec<Vec<u8>>,
}

static WAITERS: Mutex<Vec<Waiter>> = Mutex::new(Vec::new());

/// Registers a blocked XREADGROUP client.
pub fn register(
    data: *mut Blocked,
    client: *mut raw::RedisModuleBlockedClient,
    db: c_int,
    keys: Vec<Vec<u8>>,
) {
    if let Ok(mut w) = WAITERS.lock() {
        w.push(Waiter {
            data: data as usize,
            client: client as usize,
            db,
            keys,
        });
    }
}

/// Forgets a client (its private data is being freed).
pub fn forget(data: *mut c_void) {
    if let Ok(mut w) = WAITERS.lock() {
        w.retain(|x| x.data != data as usize);
    }
}

/// Unblocks the registered clients of `db` (all databases: `None`) waiting
/// on `key` (any key: `None`).
fn unblock(db: Option<c_int>, key: Option<&[u8]>) {
    let hit: Vec<Waiter> = match WAITERS.lock() {
        Ok(mut w) => {
            let (hit, keep): (Vec<Waiter>, Vec<Waiter>) = w.drain(..).partition(|x| {
                db.is_none_or(|d| d == x.db) && key.is_none_or(|k| x.keys.iter().any(|y| y == k))
            });
            *w = keep;
            hit
        }
        Err(_) => return,
    };
    for x in hit {
        let data = x.data as *mut Blocked;
        // SAFETY: registered private data stays alive until `forget`, which
        // the server calls only after the client is unblocked; each waiter
        // is unblocked once, having been removed from the registry above.
        if let Some(b) = unsafe { data.as_ref() } {
            b.gone.store(true, Ordering::Relaxed);
            // A flush names no key: the client's first key is the one gone.
            let k = key.or_else(|| x.keys.first().map(Vec::as_slice));
            if let (Ok(mut g), Some(k)) = (b.gone_key.lock(), k) {
                *g = k.to_vec();
            }
        }
        let _ = rm!(RedisModule_UnblockClient(
            x.client as *mut raw::RedisModuleBlockedClient,
            std::ptr::null_mut()
        ));
    }
}

const GONE: [&str; 5] = ["del", "rename_from", "move_from", "expired", "evicted"];

extern "C" fn on_event(
    ctx: *mut raw::RedisModuleCtx,
    _type: c_int,
    event: *const c_char,
    key: *mut raw::RedisModuleString,
) -> c_int {
    crate::server::guard::guard((), || {
        if key.is_null() || event.is_null() {
            return;
        }
        // SAFETY: the server passes a NUL-terminated event name.
        let ev = unsafe { CStr::from_ptr(event) }.to_bytes();
        if GONE.iter().any(|g| g.as_bytes() == ev) {
            let db = rm!(RedisModule_GetSelectedDb(ctx)).unwrap_or(0);
            unblock(Some(db), Some(str_bytes(key)));
        } else {
            let _ = rm!(RedisModule_SignalKeyAsReady(ctx, key));
        }
    });
    0
}

extern "C" fn on_flush(
    _ctx: *mut raw::RedisModuleCtx,
    _eid: raw::RedisModuleEvent,
    subevent: u64,
    data: *mut c_void,
) {
    crate::server::guard::guard((), || {
        if subevent != raw::REDISMODULE_SUBEVENT_FLUSHDB_START {
            return;
        }
        // SAFETY: the FlushDB event passes a RedisModuleFlushInfo.
        let info = unsafe { data.cast::<raw::RedisModuleFlushInfo>().as_ref() };
        let db = info.map_or(-1, |i| i.dbnum);
        unblock(if db < 0 { None } else { Some(db) }, None);
    });
}

/// Subscribes to the key events and to FLUSHDB/FLUSHALL.
pub fn init(ctx: *mut raw::RedisModuleCtx) -> bool {
    let types = raw::REDISMODULE_NOTIFY_GENERIC
        | raw::REDISMODULE_NOTIFY_STRING
        | raw::REDISMODULE_NOTIFY_LIST
        | raw::REDISMODULE_NOTIFY_SET
        | raw::REDISMODULE_NOTIFY_HASH
        | raw::REDISMODULE_NOTIFY_ZSET
        | raw::REDISMODULE_NOTIFY_EXPIRED
        | raw::REDISMODULE_NOTIFY_EVICTED;
    let keys = rm!(RedisModule_SubscribeToKeyspaceEvents(
        ctx,
        types,
        Some(on_event)
    ))
    .is_some_and(|r| r == raw::Status::Ok as c_int);
    let ev = raw::RedisModuleEvent {
        id: raw::REDISMODULE_EVENT_FLUSHDB,
        dataver: 1,
    };
    let _ = rm!(RedisModule_SubscribeToServerEvent(ctx, ev, Some(on_flush)));
    keys
}
