//! The command filter: routes the standard stream command names to the
//! module's `idmp.*` commands, and maps the Redis 8.6 config names
//! `stream-idmp-duration`/`stream-idmp-maxsize` onto the module configs in
//! CONFIG SET/GET. Registered with NOSELF so the module's own calls pass.

use std::ffi::c_int;
use std::sync::atomic::{AtomicPtr, Ordering};

use redis_module::raw;

use crate::rm;
use crate::server::api::{create_string, str_bytes};
use crate::server::guard::guard;

/// Standard name -> module command name.
pub const ROUTES: &[(&str, &str)] = &[
    ("xadd", "idmp.xadd"),
    ("xrange", "idmp.xrange"),
    ("xrevrange", "idmp.xrevrange"),
    ("xlen", "idmp.xlen"),
    ("xdel", "idmp.xdel"),
    ("xtrim", "idmp.xtrim"),
    ("xsetid", "idmp.xsetid"),
    ("xinfo", "idmp.xinfo"),
    ("type", "idmp.type"),
    ("xgroup", "idmp.xgroup"),
    ("xack", "idmp.xack"),
    ("xpending", "idmp.xpending"),
    ("xclaim", "idmp.xclaim"),
    ("xautoclaim", "idmp.xautoclaim"),
];

const CONFIG_NAMES: &[(&str, &str)] = &[
    ("stream-idmp-duration", "idmp.stream-idmp-duration"),
    ("stream-idmp-maxsize", "idmp.stream-idmp-maxsize"),
];

/// The module config a Redis 8.6 config name stands for.
pub fn module_config_name(name: &[u8]) -> Option<&'static str> {
    CONFIG_NAMES
        .iter()
        .find(|(from, _)| name.eq_ignore_ascii_case(from.as_bytes()))
        .map(|&(_, to)| to)
}

/// The Redis 8.6 name of a module config, for answers to CONFIG GET.
pub fn native_config_name(name: &[u8]) -> Option<&'static str> {
    CONFIG_NAMES
        .iter()
        .find(|(_, to)| name.eq_ignore_ascii_case(to.as_bytes()))
        .map(|&(from, _)| from)
}

static CONFIG_GET: AtomicPtr<raw::RedisModuleString> = AtomicPtr::new(std::ptr::null_mut());

/// Retained module strings for the route targets, created once at load.
static TARGETS: [AtomicPtr<raw::RedisModuleString>; ROUTES.len()] =
    [const { AtomicPtr::new(std::ptr::null_mut()) }; ROUTES.len()];

fn replace_with_retained(
    fctx: *mut raw::RedisModuleCommandFilterCtx,
    pos: c_int,
    s: *mut raw::RedisModuleString,
) {
    if s.is_null() {
        return;
    }
    // The filter takes ownership of one reference.
    let _ = rm!(RedisModule_RetainString(std::ptr::null_mut(), s));
    let _ = rm!(RedisModule_CommandFilterArgReplace(fctx, pos, s));
}

extern "C" fn filter(fctx: *mut raw::RedisModuleCommandFilterCtx) {
    guard((), || {
        let argc = rm!(RedisModule_CommandFilterArgsCount(fctx)).unwrap_or(0);
        if argc < 1 {
            return;
        }
        let a0 = rm!(RedisModule_CommandFilterArgGet(fctx, 0)).unwrap_or(std::ptr::null_mut());
        if a0.is_null() {
            return;
        }
        let name = str_bytes(a0);
        if name.len() < 4 || name.len() > 10 {
            return;
        }
        for (i, (native, _)) in ROUTES.iter().enumerate() {
            if name.eq_ignore_ascii_case(native.as_bytes()) {
                let t = TARGETS[i].load(Ordering::Relaxed);
                replace_with_retained(fctx, 0, t);
                return;
            }
        }
        if name.eq_ignore_ascii_case(b"config") && argc >= 3 {
            let sub = rm!(RedisModule_CommandFilterArgGet(fctx, 1)).unwrap_or(std::ptr::null_mut());
            let sub = str_bytes(sub);
            if sub.eq_ignore_ascii_case(b"set") {
                // CONFIG SET name value [name value ...]: rename the names.
                let mut pos = 2;
                while pos < argc {
                    let a = rm!(RedisModule_CommandFilterArgGet(fctx, pos))
                        .unwrap_or(std::ptr::null_mut());
                    if let Some(to) = module_config_name(str_bytes(a)) {
                        let s = create_string(std::ptr::null_mut(), to.as_bytes());
                        let _ = rm!(RedisModule_CommandFilterArgReplace(fctx, pos, s));
                    }
                    pos += 2;
                }
            } else if sub.eq_ignore_ascii_case(b"get") {
                // CONFIG GET naming a Redis 8.6 name goes to idmp.configget,
                // which answers under the names the client asked for.
                let asks_native = (2..argc).any(|pos| {
                    let a = rm!(RedisModule_CommandFilterArgGet(fctx, pos))
                        .unwrap_or(std::ptr::null_mut());
                    module_config_name(str_bytes(a)).is_some()
                });
                if asks_native {
                    replace_with_retained(fctx, 0, CONFIG_GET.load(Ordering::Relaxed));
                    let _ = rm!(RedisModule_CommandFilterArgDelete(fctx, 1));
                }
            }
        }
    })
}

/// Creates the route targets and registers the filter.
pub fn init(ctx: *mut raw::RedisModuleCtx) -> bool {
    for (i, (_, target)) in ROUTES.iter().enumerate() {
        let s = create_string(std::ptr::null_mut(), target.as_bytes());
        if s.is_null() {
            return false;
        }
        TARGETS[i].store(s, Ordering::Relaxed);
    }
    let cg = create_string(std::ptr::null_mut(), b"idmp.configget");
    if cg.is_null() {
        return false;
    }
    CONFIG_GET.store(cg, Ordering::Relaxed);
    let f = rm!(RedisModule_RegisterCommandFilter(
        ctx,
        Some(filter),
        raw::REDISMODULE_CMDFILTER_NOSELF as c_int
    ))
    .unwrap_or(std::ptr::null_mut());
    !f.is_null()
}
