//! In-place conversion of a native stream into a module stream: entries, IDs,
//! metadata (last-generated-id, max-deleted-entry-id, entries-added,
//! recorded-first-entry-id), consumer groups (`convert_groups`) and TTL. Deterministic, so a replica or an AOF
//! replay converting the same native stream ends with the same value.

use std::ffi::c_int;

use redis_module::raw;

use crate::rm;
use crate::server::api::{self, create_string};
use crate::server::call::{call_v, Elem};
use crate::server::dtype::raw_type;
use crate::server::{config, limits};
use crate::stream::id::parse_strict_id;
use crate::stream::{Stream, StreamId};

const REPLY_STRING: i32 = 0;
const REPLY_INTEGER: i32 = 2;
const REPLY_ARRAY: i32 = 3;

fn id_of(e: Elem) -> Option<StreamId> {
    parse_strict_id(e.bytes())
}

/// The native metadata read from `XINFO STREAM`.
#[derive(Default)]
struct Meta {
    last_id: StreamId,
    max_deleted: StreamId,
    entries_added: u64,
    first_id: StreamId,
    groups: i64,
}

fn read_meta(
    ctx: *mut raw::RedisModuleCtx,
    key: *mut raw::RedisModuleString,
) -> Result<Meta, String> {
    let mut args = [create_string(ctx, b"STREAM"), key];
    let reply = call_v(ctx, "XINFO", "", &mut args)
        .ok_or_else(|| "ERR idmp: XINFO failed during conversion".to_string())?;
    let top = reply.elem();
    if top.kind() != REPLY_ARRAY {
        return Err("ERR idmp: unexpected XINFO reply during conversion".to_string());
    }
    let mut m = Meta::default();
    let mut i = 0;
    while i + 1 < top.len() {
        let (Some(k), Some(v)) = (top.at(i), top.at(i + 1)) else {
            break;
        };
        match k.bytes() {
            b"last-generated-id" => m.last_id = id_of(v).unwrap_or_default(),
            b"max-deleted-entry-id" => m.max_deleted = id_of(v).unwrap_or_default(),
            b"entries-added" if v.kind() == REPLY_INTEGER => {
                m.entries_added = v.integer().max(0) as u64
            }
            b"recorded-first-entry-id" => m.first_id = id_of(v).unwrap_or_default(),
            b"groups" if v.kind() == REPLY_INTEGER => m.groups = v.integer(),
            _ => {}
        }
        i += 2;
    }
    Ok(m)
}

/// Converts the native stream at `key` into a module stream in place.
pub fn convert_native(
    ctx: *mut raw::RedisModuleCtx,
    key: *mut raw::RedisModuleString,
) -> Result<(), String> {
    let meta = read_meta(ctx, key)?;
    let mut s = Stream::new(config::defaults());
    if meta.groups > 0 {
        crate::server::convert_groups::read_groups(ctx, key, &mut s)?;
    }
    let lim = limits::node_limits();
    {
        let mut args = [key, create_string(ctx, b"-"), create_string(ctx, b"+")];
        let reply = call_v(ctx, "XRANGE", "", &mut args)
            .ok_or_else(|| "ERR idmp: XRANGE failed during conversion".to_string())?;
        let top = reply.elem();
        let mut fields: Vec<&[u8]> = Vec::new();
        for i in 0..top.len() {
            let Some(entry) = top.at(i) else { continue };
            let (Some(idel), Some(fv)) = (entry.at(0), entry.at(1)) else {
                continue;
            };
            let Some(id) = id_of(idel) else { continue };
            fields.clear();
            for j in 0..fv.len() {
                if let Some(x) = fv.at(j) {
                    if x.kind() == REPLY_STRING {
                        fields.push(x.bytes());
                    }
                }
            }
            s.append(id, &fields, lim);
        }
    }
    s.last_id = meta.last_id;
    s.max_deleted_id = meta.max_deleted;
    s.entries_added = meta.entries_added;
    s.first_id = meta.first_id;

    let k = rm!(RedisModule_OpenKey(
        ctx,
        key,
        (raw::REDISMODULE_READ | raw::REDISMODULE_WRITE) as c_int
    ))
    .unwrap_or(std::ptr::null_mut());
    if k.is_null() {
        return Err("ERR idmp: cannot open the key for conversion".to_string());
    }
    let ttl = rm!(RedisModule_GetExpire(k)).unwrap_or(-1);
    let boxed = Box::into_raw(Box::new(s));
    let ok = rm!(RedisModule_ModuleTypeSetValue(k, raw_type(), boxed.cast()))
        .is_some_and(|r| r == raw::Status::Ok as c_int);
    if !ok {
        // SAFETY: the server did not take the value; reclaim it.
        drop(unsafe { Box::from_raw(boxed) });
        let _ = rm!(RedisModule_CloseKey(k));
        return Err("ERR idmp: cannot store the converted stream".to_string());
    }
    if ttl >= 0 {
        let _ = rm!(RedisModule_SetExpire(k, ttl.max(1)));
    }
    let _ = rm!(RedisModule_CloseKey(k));
    api::log(
        ctx,
        "verbose",
        &format!(
            "idmp: converted native stream '{}' into a module stream",
            String::from_utf8_lossy(api::str_bytes(key))
        ),
    );
    crate::server::stats::CONVERTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Ok(())
}
