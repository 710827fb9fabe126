//! Migration mode (issue 15): the module-internal names a 7.x master with the
//! module propagates (`idmp.xadd`, `idmp.xsetid`, ...; also found in the tail
//! of an AOF with an RDB preamble) registered as translators into the host's
//! native commands, so that an 8.6 replica applies the master's command
//! stream to native streams. A key still holding a module stream (an AOF
//! tail before loading ended, a failed conversion) is converted first.
//!
//! The table is in `persist::translate`.
//!
//! Also a command filter for the one propagated form that carries a native
//! name with a non-native arity: `XIDMPRECORD key pid iid id IDMPAT t` from a
//! master (the native command has arity 5); it drops `IDMPAT t`.

use std::ffi::c_int;

use redis_module::raw;

use crate::commands::reply::Reply;
use crate::persist::translate::translate;
use crate::rm;
use crate::server::api::{self, c_string, create_string, str_bytes};
use crate::server::call::call_v;
use crate::server::guard::guard;
use crate::server::reply::ModuleReply;
use crate::server::route::{key_kind, Kind, OpenKey};

/// (name, key position) of every translator.
const TRANSLATORS: &[(&str, i32)] = &[
    ("idmp.xadd", 1),
    ("idmp.xdel", 1),
    ("idmp.xtrim", 1),
    ("idmp.xsetid", 1),
    ("idmp.xack", 1),
    ("idmp.xclaim", 1),
    ("idmp.xgroup", 2),
    ("idmp.idmpcounters", 1),
    ("idmp.xidmprecord", 1),
];

extern "C" fn handler(
    ctx: *mut raw::RedisModuleCtx,
    argv: *mut *mut raw::RedisModuleString,
    argc: c_int,
) -> c_int {
    api::auto_memory(ctx);
    let ok = guard(false, || {
        let args: &[*mut raw::RedisModuleString] = if argv.is_null() || argc <= 0 {
            &[]
        } else {
            // SAFETY: the server passes `argc` valid strings for the call.
            unsafe { std::slice::from_raw_parts(argv, argc as usize) }
        };
        let bytes: Vec<&[u8]> = args.iter().map(|&a| str_bytes(a)).collect();
        // Only what the server must obey: a client could otherwise write
        // through here what its ACL denies it natively.
        let obey = raw::REDISMODULE_CTX_FLAGS_LOADING | raw::REDISMODULE_CTX_FLAGS_REPLICATED;
        if crate::server::api::ctx_flags(ctx) & obey == 0 {
            let name = String::from_utf8_lossy(bytes.first().copied().unwrap_or_default());
            ModuleReply::new(ctx).error(&format!(
                "ERR idmp: {name} is accepted only from a master or the AOF (migration mode)"
            ));
            return true;
        }
        let key_pos = if bytes
            .first()
            .is_some_and(|n| n.eq_ignore_ascii_case(b"idmp.xgroup"))
        {
            2
        } else {
            1
        };
        if let Some(&key) = bytes.get(key_pos) {
            let is_module = {
                let k = OpenKey::open(ctx, create_string(ctx, key), false);
                matches!(key_kind(k.0), Kind::Module(_))
            };
            if is_module {
                let r = crate::server::migrate::convert_key(ctx, key);
                let db = rm!(RedisModule_GetSelectedDb(ctx)).unwrap_or(0);
                crate::server::migrate::report(ctx, db, key, r.clone());
                if let Err(e) = r {
                    ModuleReply::new(ctx)
                        .error(&format!("ERR idmp: migration of the key failed: {e}"));
                    return true;
                }
            }
        }
        let mut last_err = None;
        for cmd in translate(&bytes) {
            let Some((name, rest)) = cmd.split_first() else {
                continue;
            };
            let mut a: Vec<*mut raw::RedisModuleString> =
                rest.iter().map(|x| create_string(ctx, x)).collect();
            let n = String::from_utf8_lossy(name).into_owned();
            match call_v(ctx, &n, "!E", &mut a) {
                Some(r) if r.elem().kind() == raw::REDISMODULE_REPLY_ERROR as i32 => {
                    last_err = Some(String::from_utf8_lossy(r.elem().bytes()).into_owned());
                }
                Some(_) => {}
                None => last_err = Some(format!("ERR idmp: {n} could not be called")),
            }
        }
        match last_err {
            Some(e) => ModuleReply::new(ctx).error(&e),
            None => ModuleReply::new(ctx).simple("OK"),
        }
        true
    });
    if !ok {
        ModuleReply::new(ctx).error("ERR idmp: internal error, see the server log");
    }
    raw::Status::Ok as c_int
}

extern "C" fn filter(fctx: *mut raw::RedisModuleCommandFilterCtx) {
    guard((), || {
        let argc = rm!(RedisModule_CommandFilterArgsCount(fctx)).unwrap_or(0);
        if argc != 7 {
            return;
        }
        let arg = |i: c_int| {
            let p = rm!(RedisModule_CommandFilterArgGet(fctx, i)).unwrap_or(std::ptr::null_mut());
            str_bytes(p)
        };
        if arg(0).eq_ignore_ascii_case(b"XIDMPRECORD") && arg(5).eq_ignore_ascii_case(b"IDMPAT") {
            let _ = rm!(RedisModule_CommandFilterArgDelete(fctx, 6));
            let _ = rm!(RedisModule_CommandFilterArgDelete(fctx, 5));
        }
    })
}

/// Registers the translators and the XIDMPRECORD filter.
pub fn register(ctx: *mut raw::RedisModuleCtx) -> bool {
    for &(name, key) in TRANSLATORS {
        let n = c_string(name);
        let f = c_string("write");
        let r = rm!(RedisModule_CreateCommand(
            ctx,
            n.as_ptr(),
            Some(handler),
            f.as_ptr(),
            key,
            key,
            1
        ))
        .unwrap_or(raw::Status::Err as c_int);
        if r != raw::Status::Ok as c_int {
            api::log(ctx, "warning", &format!("idmp: cannot register {name}"));
            return false;
        }
    }
    rm!(RedisModule_RegisterCommandFilter(
        ctx,
        Some(filter),
        raw::REDISMODULE_CMDFILTER_NOSELF as c_int
    ))
    .is_some_and(|f| !f.is_null())
}
