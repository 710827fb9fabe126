//! Native streams and other keys served without `RedisModule_Call` (issue 13):
//! forwarding a routed command to its native implementation costs as much as
//! the command itself (a temporary client, the argument vector built again,
//! the reply copied twice). The commonest forwarded shapes are answered
//! through the module API instead, with the native reply, replication and
//! events:
//!
//! - `TYPE` of a key of a built-in type: the type's name;
//! - `XLEN` of a native stream: its length;
//! - `XADD key * field value ...` (no options) on a native stream, or on a
//!   missing key where new streams are native (`capture-new-streams no`):
//!   the entry appended with `RedisModule_StreamAdd`, answered with its ID,
//!   propagated as the native command propagates itself (`XADD key <id>
//!   field value ...`), with the `xadd` keyspace event, the modified-key
//!   signal and the readiness signal (by the stream API on close).
//!
//! Anything else (options, an odd field count, a failing append) returns
//! `false` with nothing changed, and the caller forwards as before.

use std::ffi::{c_char, c_int, c_long};

use redis_module::raw;

use crate::rm;
use crate::server::api::{self, str_bytes};
use crate::server::route::OpenKey;
use crate::stream::StreamId;

/// `TYPE`: answers the name of a built-in type; `false` for a module type.
pub fn type_reply(ctx: *mut raw::RedisModuleCtx, key: &OpenKey) -> bool {
    let t = rm!(RedisModule_KeyType(key.0)).unwrap_or(-1) as isize;
    let name: &std::ffi::CStr = match t {
        raw::REDISMODULE_KEYTYPE_EMPTY => c"none",
        raw::REDISMODULE_KEYTYPE_STRING => c"string",
        raw::REDISMODULE_KEYTYPE_LIST => c"list",
        raw::REDISMODULE_KEYTYPE_HASH => c"hash",
        raw::REDISMODULE_KEYTYPE_SET => c"set",
        raw::REDISMODULE_KEYTYPE_ZSET => c"zset",
        raw::REDISMODULE_KEYTYPE_STREAM => c"stream",
        _ => return false,
    };
    let _ = rm!(RedisModule_ReplyWithSimpleString(ctx, name.as_ptr()));
    true
}

/// `XLEN` of the native stream open at `key`.
pub fn xlen(ctx: *mut raw::RedisModuleCtx, key: &OpenKey) -> bool {
    let t = rm!(RedisModule_KeyType(key.0)).unwrap_or(-1) as isize;
    if t != raw::REDISMODULE_KEYTYPE_STREAM {
        return false;
    }
    let Some(len) = rm!(RedisModule_ValueLength(key.0)) else {
        return false;
    };
    let _ = rm!(RedisModule_ReplyWithLongLong(ctx, len as i64));
    true
}

/// `XADD key * field value ...` on the native stream open for writing at
/// `key`, or on the empty key when `create` (a new native stream, as the
/// host's XADD creates it); `argv` is the routed command's
/// (`idmp.xadd key * ...`), `own` when it is the client's own vector, to
/// change in place (`host::Host::argv_owned`: then it is propagated in
/// place, see `hot_xadd::propagate_native_xadd`).
pub fn xadd(
    ctx: *mut raw::RedisModuleCtx,
    key: &OpenKey,
    keyname: *mut raw::RedisModuleString,
    argv: &mut [*mut raw::RedisModuleString],
    create: bool,
    own: bool,
) -> bool {
    let Some((&star, fields)) = argv.get(2..).and_then(|r| r.split_first()) else {
        return false;
    };
    if str_bytes(star) != b"*" || fields.is_empty() || fields.len() % 2 != 0 {
        return false;
    }
    let t = rm!(RedisModule_KeyType(key.0)).unwrap_or(-1) as isize;
    if !(t == raw::REDISMODULE_KEYTYPE_STREAM || create && t == raw::REDISMODULE_KEYTYPE_EMPTY) {
        return false;
    }
    let mut id = raw::RedisModuleStreamID { ms: 0, seq: 0 };
    let pairs = (fields.len() / 2) as c_long;
    // The API takes a mutable pointer but only reads the fields: it is
    // given the command's own vector, no copy (a copy cost an allocation
    // per XADD).
    let fields_ptr = argv
        .get_mut(3..)
        .map_or(std::ptr::null_mut(), |f| f.as_mut_ptr());
    let ok = rm!(RedisModule_StreamAdd(
        key.0,
        raw::REDISMODULE_STREAM_ADD_AUTOID as c_int,
        &mut id,
        fields_ptr,
        pairs
    ))
    .is_some_and(|r| r == raw::Status::Ok as c_int);
    if !ok {
        return false;
    }
    let mut buf = [0u8; 41];
    let idb = StreamId::new(id.ms, id.seq).format_into(&mut buf);
    let _ = rm!(RedisModule_ReplyWithStringBuffer(
        ctx,
        idb.as_ptr().cast::<c_char>(),
        idb.len()
    ));
    // Propagated as native XADD propagates itself: the ID in place of `*`.
    if own {
        crate::server::hot_xadd::propagate_native_xadd(ctx, argv, idb);
    } else {
        let fields = argv.get(3..).unwrap_or_default();
        let mut fv: Vec<*mut raw::RedisModuleString> = Vec::with_capacity(fields.len() + 2);
        fv.push(keyname);
        fv.push(api::create_string(ctx, idb));
        fv.extend_from_slice(fields);
        // SAFETY: `fv` holds valid strings (the command's own and one owned by
        // the auto-memory of `ctx`); the "v" format takes the array and its length.
        if let Some(f) = unsafe { raw::RedisModule_Replicate } {
            unsafe {
                f(
                    ctx,
                    c"XADD".as_ptr(),
                    c"v".as_ptr(),
                    fv.as_mut_ptr(),
                    fv.len(),
                )
            };
        }
    }
    let _ = rm!(RedisModule_SignalModifiedKey(ctx, keyname));
    api::notify_c(ctx, c"xadd", keyname);
    true
}
