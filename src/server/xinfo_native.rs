//! `XINFO STREAM` on a native stream: the native reply with the six IDMP
//! fields (defaults and zeros) inserted after `recorded-first-entry-id`, so
//! that every stream reports them (SPEC sections 6 and 9).

use std::ffi::c_long;

use redis_module::raw;

use crate::commands::reply::Reply;
use crate::rm;
use crate::server::call::{call_v, Elem, REPLY_ARRAY, REPLY_MAP};
use crate::server::config;
use crate::server::reply::ModuleReply;

fn pass(ctx: *mut raw::RedisModuleCtx, e: Elem<'_>) {
    let _ = rm!(RedisModule_ReplyWithCallReply(ctx, e.0));
}

fn idmp_fields(out: &mut ModuleReply) {
    let d = config::defaults();
    for (name, v) in [
        ("idmp-duration", i64::from(d.duration_secs)),
        ("idmp-maxsize", i64::from(d.maxsize)),
        ("pids-tracked", 0),
        ("iids-tracked", 0),
        ("iids-added", 0),
        ("iids-duplicates", 0),
    ] {
        out.bulk(name.as_bytes());
        out.int(v);
    }
}

/// Forwards `XINFO STREAM key ...` to the native command and adds the IDMP fields.
pub fn forward_xinfo_stream(ctx: *mut raw::RedisModuleCtx, argv: &[*mut raw::RedisModuleString]) {
    let mut args: Vec<*mut raw::RedisModuleString> = argv.iter().skip(1).copied().collect();
    let mut out = ModuleReply::new(ctx);
    let Some(reply) = call_v(ctx, "XINFO", "0E", &mut args) else {
        out.error("ERR idmp: the native command could not be called");
        return;
    };
    let top = reply.elem();
    let kind = top.kind();
    if kind != REPLY_MAP && kind != REPLY_ARRAY {
        pass(ctx, top);
        return;
    }
    let pairs = top.pairs();
    let has_anchor = pairs
        .iter()
        .any(|(k, _)| k.bytes() == b"recorded-first-entry-id");
    let n = pairs.len() + if has_anchor { 6 } else { 0 };
    if kind == REPLY_MAP {
        let _ = rm!(RedisModule_ReplyWithMap(ctx, n as c_long));
    } else {
        let _ = rm!(RedisModule_ReplyWithArray(ctx, (2 * n) as c_long));
    }
    for (k, v) in pairs {
        pass(ctx, k);
        pass(ctx, v);
        if k.bytes() == b"recorded-first-entry-id" {
            idmp_fields(&mut out);
        }
    }
}
