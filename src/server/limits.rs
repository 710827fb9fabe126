//! The server's `stream-node-max-bytes` / `stream-node-max-entries`, read at
//! load and after every CONFIG SET, so that module streams split their nodes
//! (and so trim with `~`) exactly as native streams do.

use std::ffi::c_void;
use std::sync::atomic::{AtomicUsize, Ordering};

use redis_module::raw;

use crate::rm;
use crate::server::api::c_string;
use crate::server::guard::guard;
use crate::stream::NodeLimits;

static MAX_BYTES: AtomicUsize = AtomicUsize::new(4096);
static MAX_ENTRIES: AtomicUsize = AtomicUsize::new(100);

/// The limits in force.
pub fn node_limits() -> NodeLimits {
    NodeLimits {
        max_bytes: MAX_BYTES.load(Ordering::Relaxed),
        max_entries: MAX_ENTRIES.load(Ordering::Relaxed),
    }
}

/// Reads one numeric server config with `CONFIG GET`.
pub fn config_get_u64(ctx: *mut raw::RedisModuleCtx, name: &str) -> Option<u64> {
    let cmd = c_string("CONFIG");
    let fmt = c_string("cc");
    let get = c_string("GET");
    let cname = c_string(name);
    // SAFETY: RM_Call with format "cc" takes two C strings; the reply is freed below.
    let reply = match unsafe { raw::RedisModule_Call } {
        Some(f) => unsafe {
            f(
                ctx,
                cmd.as_ptr(),
                fmt.as_ptr(),
                get.as_ptr(),
                cname.as_ptr(),
            )
        },
        None => return None,
    };
    if reply.is_null() {
        return None;
    }
    let mut out = None;
    if let Some(val) = rm!(RedisModule_CallReplyArrayElement(reply, 1)) {
        if !val.is_null() {
            let mut len = 0usize;
            if let Some(p) = rm!(RedisModule_CallReplyStringPtr(val, &mut len)) {
                if !p.is_null() {
                    // SAFETY: the reply owns `len` bytes at `p` until it is freed.
                    let b = unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len) };
                    out = std::str::from_utf8(b).ok().and_then(|s| s.parse().ok());
                }
            }
        }
    }
    let _ = rm!(RedisModule_FreeCallReply(reply));
    out
}

/// Re-reads both limits from the server.
pub fn refresh(ctx: *mut raw::RedisModuleCtx) {
    if let Some(v) = config_get_u64(ctx, "stream-node-max-bytes") {
        MAX_BYTES.store(v as usize, Ordering::Relaxed);
    }
    if let Some(v) = config_get_u64(ctx, "stream-node-max-entries") {
        MAX_ENTRIES.store(v as usize, Ordering::Relaxed);
    }
}

extern "C" fn on_config_change(
    ctx: *mut raw::RedisModuleCtx,
    _eid: raw::RedisModuleEvent,
    _sub: u64,
    _data: *mut c_void,
) {
    crate::server::api::auto_memory(ctx);
    guard((), || refresh(ctx));
}

/// Reads the limits now and subscribes to config changes.
pub fn init(ctx: *mut raw::RedisModuleCtx) {
    refresh(ctx);
    let _ =
        crate::server::api::subscribe_event(ctx, raw::REDISMODULE_EVENT_CONFIG, on_config_change);
}
