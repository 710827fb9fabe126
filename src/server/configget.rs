//! `idmp.configget`: CONFIG GET for requests that name the Redis 8.6 configs
//! `stream-idmp-duration` / `stream-idmp-maxsize`. The filter sends such
//! requests here; the answer carries the names the client asked for, so
//! tools written for Redis 8.6 find their keys.

use std::ffi::c_long;

use redis_module::raw;

use crate::commands::reply::Reply;
use crate::rm;
use crate::server::api::{create_string, str_bytes};
use crate::server::call::{call_v, REPLY_ARRAY, REPLY_MAP};
use crate::server::filter::{module_config_name, native_config_name};
use crate::server::reply::ModuleReply;

/// Serves `CONFIG GET name...` where some names are Redis 8.6 names.
pub fn run(ctx: *mut raw::RedisModuleCtx, argv: &[*mut raw::RedisModuleString]) {
    let mut out = ModuleReply::new(ctx);
    let mut asked_native: Vec<&'static str> = Vec::new();
    let mut args: Vec<*mut raw::RedisModuleString> = vec![create_string(ctx, b"GET")];
    for &a in argv.iter().skip(1) {
        match module_config_name(str_bytes(a)) {
            Some(m) => {
                asked_native.push(m);
                args.push(create_string(ctx, m.as_bytes()));
            }
            None => args.push(a),
        }
    }
    let Some(reply) = call_v(ctx, "CONFIG", "0E", &mut args) else {
        out.error("ERR idmp: CONFIG GET could not be called");
        return;
    };
    let top = reply.elem();
    if top.kind() != REPLY_MAP && top.kind() != REPLY_ARRAY {
        let _ = rm!(RedisModule_ReplyWithCallReply(ctx, top.0));
        return;
    }
    let ps = top.pairs();
    if top.kind() == REPLY_MAP {
        let _ = rm!(RedisModule_ReplyWithMap(ctx, ps.len() as c_long));
    } else {
        let _ = rm!(RedisModule_ReplyWithArray(ctx, (2 * ps.len()) as c_long));
    }
    for (k, v) in ps {
        let name = k.bytes();
        match native_config_name(name) {
            Some(native)
                if asked_native
                    .iter()
                    .any(|m| name.eq_ignore_ascii_case(m.as_bytes())) =>
            {
                out.bulk(native.as_bytes());
            }
            _ => {
                let _ = rm!(RedisModule_ReplyWithCallReply(ctx, k.0));
            }
        }
        let _ = rm!(RedisModule_ReplyWithCallReply(ctx, v.0));
    }
}
