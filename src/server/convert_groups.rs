//! The consumer groups of a native stream being converted: read from the
//! native `XINFO STREAM key FULL COUNT 0` (every PEL entry, every consumer)
//! and rebuilt with the group model's builder, so that groups, read
//! counters, consumers (seen-time; active-time where the server reports it)
//! and PELs with owners, delivery times and counts carry over.

use redis_module::raw;

use crate::server::api::create_string;
use crate::server::call::{call_v, Elem};
use crate::stream::id::parse_strict_id;
use crate::stream::{Stream, StreamId};

const REPLY_INTEGER: i32 = 2;
const REPLY_ARRAY: i32 = 3;

/// The value after key `name` in a flat key/value array.
fn field(map: Elem, name: &[u8]) -> Option<Elem> {
    let mut i = 0;
    while i + 1 < map.len() {
        if map.at(i)?.bytes() == name {
            return map.at(i + 1);
        }
        i += 2;
    }
    None
}

fn id_of(e: Elem) -> Result<StreamId, String> {
    parse_strict_id(e.bytes()).ok_or_else(|| "ERR idmp: bad ID in XINFO during conversion".into())
}

fn int_of(e: Option<Elem>) -> Option<i64> {
    e.filter(|e| e.kind() == REPLY_INTEGER).map(Elem::integer)
}

fn bad() -> String {
    "ERR idmp: unexpected XINFO FULL reply during conversion".to_string()
}

/// Reads the native groups of `key` into `s.groups`.
pub fn read_groups(
    ctx: *mut raw::RedisModuleCtx,
    key: *mut raw::RedisModuleString,
    s: &mut Stream,
) -> Result<(), String> {
    let mut args = [
        create_string(ctx, b"STREAM"),
        key,
        create_string(ctx, b"FULL"),
        create_string(ctx, b"COUNT"),
        create_string(ctx, b"0"),
    ];
    let reply = call_v(ctx, "XINFO", "", &mut args)
        .ok_or_else(|| "ERR idmp: XINFO FULL failed during conversion".to_string())?;
    let top = reply.elem();
    if top.kind() != REPLY_ARRAY {
        return Err(bad());
    }
    let Some(groups) = field(top, b"groups").filter(|g| g.kind() == REPLY_ARRAY) else {
        return Err(bad());
    };
    for gi in 0..groups.len() {
        let g = groups.at(gi).ok_or_else(bad)?;
        let name = field(g, b"name").ok_or_else(bad)?.bytes().to_vec();
        let last = id_of(field(g, b"last-delivered-id").ok_or_else(bad)?)?;
        let entries_read = int_of(field(g, b"entries-read")).unwrap_or(-1);
        let cg = s
            .groups
            .create(&name, last, entries_read)
            .ok_or_else(|| "ERR idmp: duplicate group during conversion".to_string())?;
        let consumers = field(g, b"consumers").ok_or_else(bad)?;
        for ci in 0..consumers.len() {
            let c = consumers.at(ci).ok_or_else(bad)?;
            let cname = field(c, b"name").ok_or_else(bad)?.bytes().to_vec();
            let seen = int_of(field(c, b"seen-time")).unwrap_or(0).max(0) as u64;
            let active = int_of(field(c, b"active-time")).unwrap_or(-1);
            cg.insert_consumer(&cname, seen, active);
        }
        let pel = field(g, b"pending").ok_or_else(bad)?;
        for pi in 0..pel.len() {
            let p = pel.at(pi).ok_or_else(bad)?;
            let (Some(id), Some(owner), Some(time), Some(count)) =
                (p.at(0), p.at(1), p.at(2), p.at(3))
            else {
                return Err(bad());
            };
            let owner = owner.bytes().to_vec();
            // A PEL entry's consumer always exists natively; be lenient anyway.
            cg.insert_consumer(&owner, 0, -1);
            cg.insert_nack(
                id_of(id)?,
                &owner,
                time.integer().max(0) as u64,
                count.integer().max(0) as u64,
            )
            .map_err(|_| bad())?;
        }
    }
    Ok(())
}
