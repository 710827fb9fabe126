//! In-place conversion of a native stream into a module stream: entries, IDs,
//! metadata (last-generated-id, max-deleted-entry-id, entries-added,
//! recorded-first-entry-id), consumer groups with their consumers and PELs,
//! and TTL. Deterministic, so a replica or an AOF
//! replay converting the same native stream ends with the same value.

use std::ffi::c_int;

use redis_module::raw;

use crate::rm;
use crate::server::api::{self, create_string};
use crate::server::call::{call_v, Elem, REPLY_ARRAY, REPLY_INTEGER};
use crate::server::dtype::raw_type;
use crate::server::{config, limits, nameidx, stats};
use crate::stream::id::parse_strict_id;
use crate::stream::{Stream, StreamId};

fn id_of(e: Elem<'_>) -> Option<StreamId> {
    parse_strict_id(e.bytes())
}

/// Key/value pairs of a flat RESP2 map reply.
fn pairs(e: Elem<'_>) -> Vec<(&[u8], Elem<'_>)> {
    e.pairs().into_iter().map(|(k, v)| (k.bytes(), v)).collect()
}

fn field<'r>(ps: &[(&[u8], Elem<'r>)], name: &[u8]) -> Option<Elem<'r>> {
    ps.iter().find(|(k, _)| *k == name).map(|&(_, v)| v)
}

fn int_of(e: Option<Elem<'_>>) -> Option<i64> {
    e.filter(|v| v.kind() == REPLY_INTEGER).map(|v| v.integer())
}

fn corrupt() -> String {
    "ERR idmp: unexpected XINFO STREAM FULL reply during conversion".to_string()
}

/// Adds one native group (an element of FULL's `groups`) to `s`.
fn add_group(s: &mut Stream, g: Elem<'_>) -> Result<(), String> {
    let gp = pairs(g);
    let name = field(&gp, b"name").ok_or_else(corrupt)?.bytes();
    let last = field(&gp, b"last-delivered-id")
        .and_then(id_of)
        .ok_or_else(corrupt)?;
    // A nil entries-read is the "invalid" counter (-1), as in the server.
    let entries_read = int_of(field(&gp, b"entries-read")).unwrap_or(-1);
    let group = s
        .groups
        .create(name, last, entries_read)
        .ok_or_else(corrupt)?;
    if let Some(consumers) = field(&gp, b"consumers") {
        for i in 0..consumers.len() {
            let Some(c) = consumers.at(i) else { continue };
            let cp = pairs(c);
            let cname = field(&cp, b"name").ok_or_else(corrupt)?.bytes();
            let seen = int_of(field(&cp, b"seen-time")).unwrap_or(0).max(0) as u64;
            // A host without active-time (Redis 7.0): its seen-time, as Redis
            // 8.6 does when it loads a consumer saved before 7.2.
            let active = int_of(field(&cp, b"active-time")).unwrap_or(seen as i64);
            group.insert_consumer(cname, seen, active);
        }
    }
    if let Some(pending) = field(&gp, b"pending") {
        for i in 0..pending.len() {
            let Some(p) = pending.at(i) else { continue };
            let (Some(id), Some(owner), Some(time), Some(count)) = (
                p.at(0).and_then(id_of),
                p.at(1),
                p.at(2).map(|t| t.integer()),
                p.at(3).map(|c| c.integer()),
            ) else {
                return Err(corrupt());
            };
            group
                .insert_nack(id, owner.bytes(), time.max(0) as u64, count.max(0) as u64)
                .map_err(|_| corrupt())?;
        }
    }
    Ok(())
}

/// Builds the module stream equal to the native stream at `key`, from one
/// `XINFO STREAM key FULL COUNT 0` (entries, metadata, groups, consumers,
/// PELs with their delivery times and counts).
fn read_native(
    ctx: *mut raw::RedisModuleCtx,
    key: *mut raw::RedisModuleString,
) -> Result<Stream, String> {
    let mut args = [
        create_string(ctx, b"STREAM"),
        key,
        create_string(ctx, b"FULL"),
        create_string(ctx, b"COUNT"),
        create_string(ctx, b"0"),
    ];
    let reply = call_v(ctx, "XINFO", "", &mut args)
        .ok_or_else(|| "ERR idmp: XINFO failed during conversion".to_string())?;
    let top = reply.elem();
    if top.kind() != REPLY_ARRAY {
        return Err(corrupt());
    }
    let tp = pairs(top);
    let mut s = Stream::new(config::defaults());
    let lim = limits::node_limits();
    let mut fields: Vec<&[u8]> = Vec::new();
    if let Some(entries) = field(&tp, b"entries") {
        for i in 0..entries.len() {
            let Some(entry) = entries.at(i) else { continue };
            let (Some(id), Some(fv)) = (entry.at(0).and_then(id_of), entry.at(1)) else {
                return Err(corrupt());
            };
            fields.clear();
            fields.extend((0..fv.len()).filter_map(|j| fv.at(j)).map(|x| x.bytes()));
            s.append(id, &fields, lim);
        }
    }
    s.last_id = field(&tp, b"last-generated-id")
        .and_then(id_of)
        .ok_or_else(corrupt)?;
    s.max_deleted_id = field(&tp, b"max-deleted-entry-id")
        .and_then(id_of)
        .unwrap_or_default();
    s.entries_added = int_of(field(&tp, b"entries-added")).unwrap_or(0).max(0) as u64;
    s.first_id = field(&tp, b"recorded-first-entry-id")
        .and_then(id_of)
        .unwrap_or_default();
    if let Some(groups) = field(&tp, b"groups") {
        for i in 0..groups.len() {
            if let Some(g) = groups.at(i) {
                add_group(&mut s, g)?;
            }
        }
    }
    Ok(s)
}

/// Converts the native stream at `key` into a module stream in place.
pub fn convert_native(
    ctx: *mut raw::RedisModuleCtx,
    key: *mut raw::RedisModuleString,
) -> Result<(), String> {
    let s = read_native(ctx, key)?;
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
    stats::stream_added(&s);
    let boxed = Box::into_raw(Box::new(s));
    nameidx::bind(boxed.cast(), Some(api::str_bytes(key)));
    let ok = rm!(RedisModule_ModuleTypeSetValue(k, raw_type(), boxed.cast()))
        .is_some_and(|r| r == raw::Status::Ok as c_int);
    if !ok {
        nameidx::unbind(boxed.cast());
        // SAFETY: the server did not take the value; reclaim it.
        let s = unsafe { Box::from_raw(boxed) };
        stats::stream_removed(&s);
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
