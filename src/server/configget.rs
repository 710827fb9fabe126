//! `idmp.configget` / `idmp.configset`: CONFIG GET and CONFIG SET for
//! requests that name the Redis 8.6 configs `stream-idmp-duration` /
//! `stream-idmp-maxsize`. The filter sends such requests here; answers and
//! errors carry the names the client used, as native Redis 8.6.3's do, so
//! tools written for Redis 8.6 find their keys and messages.

use std::ffi::c_long;

use redis_module::raw;

use crate::commands::glob::{glob_match_nocase, is_pattern};
use crate::commands::reply::Reply;
use crate::rm;
use crate::server::api::{create_string, str_bytes};
use crate::server::call::{call_v, REPLY_ARRAY, REPLY_ERROR, REPLY_MAP};
use crate::server::filter::{module_config_name, native_config_names};
use crate::server::reply::ModuleReply;

/// Serves `CONFIG GET name...` where some names are Redis 8.6 names or
/// patterns matching one: the host answers the other arguments (patterns
/// included, for its own configs), the module configs answer under the
/// names the client used (a pattern's match under its 8.6 name), each
/// config once, as 8.6.3's `configGetCommand` does.
pub fn run(ctx: *mut raw::RedisModuleCtx, argv: &[*mut raw::RedisModuleString]) {
    let mut out = ModuleReply::new(ctx);
    // (module config, the name to answer under), first one wins.
    let mut asked: Vec<(&'static str, Vec<u8>)> = Vec::new();
    let mut host: Vec<*mut raw::RedisModuleString> = vec![create_string(ctx, b"GET")];
    for &a in argv.iter().skip(1) {
        let name = str_bytes(a);
        if is_pattern(name) {
            for native in native_config_names() {
                if !glob_match_nocase(name, native.as_bytes()) {
                    continue;
                }
                if let Some(m) = module_config_name(native.as_bytes()) {
                    if !asked.iter().any(|(x, _)| *x == m) {
                        asked.push((m, native.as_bytes().to_vec()));
                    }
                }
            }
            host.push(a);
        } else if let Some(m) = module_config_name(name) {
            if !asked.iter().any(|(x, _)| *x == m) {
                asked.push((m, name.to_vec()));
            }
        } else {
            host.push(a);
        }
    }
    let host_reply = if host.len() > 1 {
        match call_v(ctx, "CONFIG", "0E", &mut host) {
            Some(r) => Some(r),
            None => {
                out.error("ERR idmp: CONFIG GET could not be called");
                return;
            }
        }
    } else {
        None
    };
    let mut mine: Vec<*mut raw::RedisModuleString> = vec![create_string(ctx, b"GET")];
    mine.extend(asked.iter().map(|(m, _)| create_string(ctx, m.as_bytes())));
    let Some(mine_reply) = call_v(ctx, "CONFIG", "0E", &mut mine) else {
        out.error("ERR idmp: CONFIG GET could not be called");
        return;
    };
    for r in host_reply.iter().chain(std::iter::once(&mine_reply)) {
        let kind = r.elem().kind();
        if kind != REPLY_MAP && kind != REPLY_ARRAY {
            let _ = rm!(RedisModule_ReplyWithCallReply(ctx, r.elem().0));
            return;
        }
    }
    let host_pairs = host_reply
        .as_ref()
        .map(|r| r.elem().pairs())
        .unwrap_or_default();
    let mine_pairs = mine_reply.elem().pairs();
    let n = host_pairs.len() + mine_pairs.len();
    if mine_reply.elem().kind() == REPLY_MAP {
        let _ = rm!(RedisModule_ReplyWithMap(ctx, n as c_long));
    } else {
        let _ = rm!(RedisModule_ReplyWithArray(ctx, (2 * n) as c_long));
    }
    for (k, v) in host_pairs {
        let _ = rm!(RedisModule_ReplyWithCallReply(ctx, k.0));
        let _ = rm!(RedisModule_ReplyWithCallReply(ctx, v.0));
    }
    for (k, v) in mine_pairs {
        match asked
            .iter()
            .find(|(m, _)| k.bytes().eq_ignore_ascii_case(m.as_bytes()))
        {
            Some((_, name)) => out.bulk(name),
            None => {
                let _ = rm!(RedisModule_ReplyWithCallReply(ctx, k.0));
            }
        }
        let _ = rm!(RedisModule_ReplyWithCallReply(ctx, v.0));
    }
}

/// Serves `CONFIG SET name value ...` where some names are Redis 8.6 names:
/// runs it under the module's names; an error names the config as 8.6.3
/// does: by its Redis 8.6 name when a value is refused, by the client's
/// spelling of the repeated name for `duplicate parameter`.
pub fn run_set(ctx: *mut raw::RedisModuleCtx, argv: &[*mut raw::RedisModuleString]) {
    let mut out = ModuleReply::new(ctx);
    // (module config, canonical Redis 8.6 name, the client's spellings).
    let mut renamed: Vec<(&'static str, &'static str, Vec<&[u8]>)> = Vec::new();
    let mut args: Vec<*mut raw::RedisModuleString> = vec![create_string(ctx, b"SET")];
    for (i, &a) in argv.iter().enumerate().skip(1) {
        let name = str_bytes(a);
        match module_config_name(name).filter(|_| i % 2 == 1) {
            Some(m) => {
                match renamed.iter_mut().find(|(x, _, _)| *x == m) {
                    Some((_, _, spellings)) => spellings.push(name),
                    None => {
                        let canonical = native_config_names()
                            .find(|n| name.eq_ignore_ascii_case(n.as_bytes()))
                            .unwrap_or_default();
                        renamed.push((m, canonical, vec![name]));
                    }
                }
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
    let duplicate = text.ends_with(b"duplicate parameter");
    for (m, canonical, spellings) in &renamed {
        let name = match spellings.get(1) {
            Some(second) if duplicate => second,
            _ => canonical.as_bytes(),
        };
        text = replace_quoted(&text, m.as_bytes(), name);
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
