//! `SCAN ... TYPE stream` that includes module streams: the server filters
//! SCAN by its own type names, where a module stream is `idmp-strm`. The
//! filter sends such calls here; the module runs SCAN without the TYPE
//! option and keeps the keys that are streams of either kind, so cursors and
//! batches behave as a native SCAN TYPE does.

use std::ffi::c_long;

use redis_module::raw;

use crate::commands::reply::Reply;
use crate::rm;
use crate::server::api::str_bytes;
use crate::server::call::call_v;
use crate::server::reply::ModuleReply;
use crate::server::route::{key_kind, Kind, OpenKey};

/// Serves `idmp.scan cursor [MATCH p] [COUNT n] TYPE stream`.
pub fn run(ctx: *mut raw::RedisModuleCtx, argv: &[*mut raw::RedisModuleString]) {
    let mut args: Vec<*mut raw::RedisModuleString> = Vec::with_capacity(argv.len());
    let mut rest = argv.iter().skip(1).copied();
    while let Some(a) = rest.next() {
        if str_bytes(a).eq_ignore_ascii_case(b"type") {
            // Drop TYPE and its value (the filter only routes `TYPE stream`).
            let _ = rest.next();
            continue;
        }
        args.push(a);
    }
    let mut out = ModuleReply::new(ctx);
    let Some(reply) = call_v(ctx, "SCAN", "0E", &mut args) else {
        out.error("ERR idmp: SCAN could not be called");
        return;
    };
    let top = reply.elem();
    let (Some(cursor), Some(keys)) = (top.at(0), top.at(1)) else {
        let _ = rm!(RedisModule_ReplyWithCallReply(ctx, top.0));
        return;
    };
    let streams: Vec<&[u8]> = (0..keys.len())
        .filter_map(|j| keys.at(j))
        .map(|k| k.bytes())
        .filter(|k| {
            let name = crate::server::api::create_string(ctx, k);
            let key = OpenKey::open(ctx, name, false);
            matches!(key_kind(key.0), Kind::Module(_) | Kind::Native)
        })
        .collect();
    let _ = rm!(RedisModule_ReplyWithArray(ctx, 2));
    let _ = rm!(RedisModule_ReplyWithCallReply(ctx, cursor.0));
    let _ = rm!(RedisModule_ReplyWithArray(ctx, streams.len() as c_long));
    for k in streams {
        out.bulk(k);
    }
}
