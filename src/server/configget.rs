//! `idmp.configget` / `idmp.configset`: CONFIG GET and CONFIG SET for
//! requests that name the Redis 8.6 configs `stream-idmp-duration` /
//! `stream-idmp-maxsize`. The filter sends such requests here; answers and
//! errors carry the names the client used, as native Redis 8.6.3's do, so
//! tools written for Redis 8.6 find their keys and messages.

use std::ffi::c_long;

use redis_module::raw;

use crate::commands::reply::Reply;
use crate::rm;
use crate::server::api::{create_string, str_bytes};
use crate::server::call::{call_v, REPLY_ARRAY, REPLY_ERROR, REPLY_MAP};
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

/// Serves `CONFIG SET name value ...` where some names are Redis 8.6 names:
/// runs it under the module's names; an error names the config as the
/// client did (`... argument 'stream-idmp-duration') ...`).
pub fn run_set(ctx: *mut raw::RedisModuleCtx, argv: &[*mut raw::RedisModuleString]) {
    let mut out = ModuleReply::new(ctx);
    let mut renamed: Vec<(&'static str, Vec<u8>)> = Vec::new();
    let mut args: Vec<*mut raw::RedisModuleString> = vec![create_string(ctx, b"SET")];
    for (i, &a) in argv.iter().enumerate().skip(1) {
        let name = str_bytes(a);
        match module_config_name(name).filter(|_| i % 2 == 1) {
            Some(m) => {
                renamed.push((m, name.to_vec()));
                args.push(create_string(ctx, m.as_bytes()));
            }
            None => args.push(a),
        }
    }
    let Some(reply) = call_v(ctx, "CONFIG", "0E", &mut args) else {
        out.error("ERR idmp: CONFIG SET could not be called");
        return;
    };
    let top = reply.elem();
    if top.kind() != REPLY_ERROR {
        let _ = rm!(RedisModule_ReplyWithCallReply(ctx, top.0));
        return;
    }
    let mut text = top.bytes().to_vec();
    for (m, asked) in &renamed {
        text = replace_quoted(&text, m.as_bytes(), asked);
    }
    out.error(&String::from_utf8_lossy(&text));
}

/// `text` with `'from'` replaced by `'to'` (quotes included).
fn replace_quoted(text: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let pat = [b"'", from, b"'"].concat();
    match text.windows(pat.len()).position(|w| w == pat.as_slice()) {
        Some(i) => [&text[..i], b"'", to, b"'", &text[i + pat.len()..]].concat(),
        None => text.to_vec(),
    }
}
