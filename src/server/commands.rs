//! Registration of the module's commands. The routed XADD, XLEN and TYPE
//! have handlers of their own; every other command is served by one handler
//! that dispatches on argv\[0\] through [`route::run`].

use std::ffi::c_int;

use redis_module::raw;

use crate::commands::reply::Reply;
use crate::rm;
use crate::server::acl;
use crate::server::api::{self, c_string};
use crate::server::filter::ROUTES;
use crate::server::getkeys;
use crate::server::guard::guard;
use crate::server::reply::ModuleReply;
use crate::server::route;

/// (name, flags, first key, last key, key step) of every module command.
/// Flags follow the native commands so OOM, read-only replicas and scripts
/// behave natively.
pub const COMMANDS: &[(&str, &str, i32, i32, i32)] = &[
    ("idmp.xadd", "write deny-oom fast", 1, 1, 1),
    ("idmp.xrange", "readonly", 1, 1, 1),
    ("idmp.xrevrange", "readonly", 1, 1, 1),
    ("idmp.xlen", "readonly fast", 1, 1, 1),
    ("idmp.xdel", "write fast", 1, 1, 1),
    ("idmp.xtrim", "write", 1, 1, 1),
    ("idmp.xsetid", "write deny-oom fast", 1, 1, 1),
    ("idmp.xinfo", "readonly", 2, 2, 1),
    ("idmp.type", "readonly fast", 1, 1, 1),
    ("idmp.idmpcounters", "write fast", 1, 1, 1),
    ("xcfgset", "write fast", 1, 1, 1),
    ("xidmprecord", "write deny-oom fast", 1, 1, 1),
    ("idmp.xidmprecord", "write deny-oom fast", 1, 1, 1),
    (
        "idmp.configget",
        "admin deny-script allow-loading allow-stale",
        0,
        0,
        0,
    ),
    (
        "idmp.configset",
        "admin deny-script allow-loading allow-stale",
        0,
        0,
        0,
    ),
    ("idmp.scan", "readonly", 0, 0, 0),
    // getkeys-api: the cluster finds their keys through the command (see
    // getkeys.rs).
    ("idmp.xread", "readonly blocking getkeys-api", 0, 0, 0),
    ("idmp.xreadgroup", "write blocking getkeys-api", 0, 0, 0),
    ("idmp.xgroup", "write", 2, 2, 1),
    ("idmp.xack", "write fast", 1, 1, 1),
    ("xdelex", "write fast", 1, 1, 1),
    ("xackdel", "write fast", 1, 1, 1),
    ("idmp.xpending", "readonly", 1, 1, 1),
    ("idmp.xclaim", "write fast", 1, 1, 1),
    ("idmp.xautoclaim", "write fast", 1, 1, 1),
];

/// The server's argument vector as a slice (empty when there is none).
fn args_of<'a>(
    argv: *mut *mut raw::RedisModuleString,
    argc: c_int,
) -> &'a mut [*mut raw::RedisModuleString] {
    if argv.is_null() || argc <= 0 {
        &mut []
    } else {
        // SAFETY: the server passes `argc` valid string pointers in `argv`
        // for the duration of the call; the vector is the client's, which
        // the command may change where it is the client's own (see
        // host::Host::argv_owned).
        unsafe { std::slice::from_raw_parts_mut(argv, argc as usize) }
    }
}

/// Runs `serve` under the panic guard; a panic answers an internal error.
fn guarded(ctx: *mut raw::RedisModuleCtx, serve: impl FnOnce()) -> c_int {
    let ok = guard(false, || {
        serve();
        true
    });
    if !ok {
        ModuleReply::new(ctx).error("ERR idmp: internal error, see the server log");
    }
    raw::Status::Ok as c_int
}

/// A command the filter routed from the native `native` (lower case, one
/// word): the caller's ACL is checked against it, then `serve` runs with the
/// arguments and the context flags (asked for once: they cost a few hundred
/// instructions).
fn serve_routed(
    ctx: *mut raw::RedisModuleCtx,
    argv: *mut *mut raw::RedisModuleString,
    argc: c_int,
    native: &str,
    serve: impl FnOnce(&mut [*mut raw::RedisModuleString], u32),
) -> c_int {
    guarded(ctx, || {
        let args = args_of(argv, argc);
        let flags = api::ctx_flags(ctx);
        match acl::check(ctx, native, args, 1, flags) {
            Some(err) => ModuleReply::new(ctx).error(&err),
            None => serve(args, flags),
        }
    })
}

/// `idmp.xadd key ...`: the routed XADD (see [`route::run`]). A handler of
/// its own, like `idmp.xlen` and `idmp.type`, so that the hottest commands
/// skip the name dispatch of [`handler`].
extern "C" fn xadd_handler(
    ctx: *mut raw::RedisModuleCtx,
    argv: *mut *mut raw::RedisModuleString,
    argc: c_int,
) -> c_int {
    serve_routed(ctx, argv, argc, "xadd", |args, flags| {
        route::run(ctx, args, flags)
    })
}

/// `idmp.xlen key`: the routed XLEN.
extern "C" fn xlen_handler(
    ctx: *mut raw::RedisModuleCtx,
    argv: *mut *mut raw::RedisModuleString,
    argc: c_int,
) -> c_int {
    serve_routed(ctx, argv, argc, "xlen", |args, flags| {
        if !route::run_xlen(ctx, args) {
            route::run(ctx, args, flags);
        }
    })
}

/// `idmp.type key`: the routed TYPE.
extern "C" fn type_handler(
    ctx: *mut raw::RedisModuleCtx,
    argv: *mut *mut raw::RedisModuleString,
    argc: c_int,
) -> c_int {
    serve_routed(ctx, argv, argc, "type", |args, _| {
        route::run_type(ctx, args)
    })
}

/// Every other command: dispatches on argv\[0\].
extern "C" fn handler(
    ctx: *mut raw::RedisModuleCtx,
    argv: *mut *mut raw::RedisModuleString,
    argc: c_int,
) -> c_int {
    // Automatic memory is turned on where strings, keys or call replies are
    // made with `ctx` (everything but the hot paths, which make none: the
    // server then skips its bookkeeping for every key they open).
    guarded(ctx, || {
        let args = args_of(argv, argc);
        // A key position request (cluster routing of XREAD/XREADGROUP): answer
        // the positions, run nothing.
        if getkeys::is_request(ctx) {
            api::auto_memory(ctx);
            getkeys::report_stream_keys(ctx, args);
            return;
        }
        let name = args.first().map(|&a| api::str_bytes(a)).unwrap_or_default();
        #[cfg(feature = "debug-panic")]
        if name.eq_ignore_ascii_case(b"idmp.debugpanic") {
            panic!("idmp.debugpanic: a panic injected on request");
        }
        let flags = api::ctx_flags(ctx);
        if let Some(err) = routed_acl_check(ctx, name, args, flags) {
            ModuleReply::new(ctx).error(&err);
            return;
        }
        if name.eq_ignore_ascii_case(b"idmp.scan") {
            api::auto_memory(ctx);
            crate::server::scan::run(ctx, args);
        } else if name.eq_ignore_ascii_case(b"idmp.configget") {
            api::auto_memory(ctx);
            crate::server::configget::run(ctx, args);
        } else if name.eq_ignore_ascii_case(b"idmp.configset") {
            api::auto_memory(ctx);
            crate::server::configget::run_set(ctx, args);
        } else {
            // (Turns automatic memory on past its hot paths.)
            route::run(ctx, args, flags);
        }
    })
}

/// The handler registered for `name` (the table's name, before
/// [`crate::server::host::Host::command_name`]).
fn handler_of(
    name: &str,
) -> extern "C" fn(*mut raw::RedisModuleCtx, *mut *mut raw::RedisModuleString, c_int) -> c_int {
    match name {
        "idmp.xadd" => xadd_handler,
        "idmp.xlen" => xlen_handler,
        "idmp.type" => type_handler,
        _ => handler,
    }
}

/// For a command the filter routed (`idmp.<native>`), checks the caller's
/// ACL against the native command; `Some(error)` when denied.
fn routed_acl_check(
    ctx: *mut raw::RedisModuleCtx,
    name: &[u8],
    args: &[*mut raw::RedisModuleString],
    flags: u32,
) -> Option<String> {
    if let Some(err) = acl::check_own(ctx, name) {
        api::auto_memory(ctx);
        return Some(err);
    }
    let native = name
        .get(5..)
        .filter(|_| name.len() > 5 && name[..5].eq_ignore_ascii_case(b"idmp."))?;
    // The routed names come from the filter's table, lower case (no
    // allocation on the hot path); the module's other `idmp.*` names
    // (configget, idmpcounters, ...) are lowered here.
    let lower;
    let native: &str = match ROUTES
        .iter()
        .find(|(n, _, _)| native.eq_ignore_ascii_case(n.as_bytes()))
    {
        Some(&(n, _, _)) => n,
        None => {
            lower = std::str::from_utf8(native).ok()?.to_ascii_lowercase();
            &lower
        }
    };
    match native {
        "xinfo" => acl::check(ctx, "xinfo", args, 2, flags),
        "xgroup" => acl::check(ctx, "xgroup", args, 2, flags),
        "configget" | "configset" => {
            api::auto_memory(ctx);
            let sub: &[u8] = if native == "configget" {
                b"get"
            } else {
                b"set"
            };
            acl::check(ctx, "config", &config_argv(ctx, sub, args), 2, flags)
        }
        "idmpcounters" => None,
        "scan" => acl::check(ctx, "scan", args, 1, flags),
        _ => acl::check(ctx, native, args, 1, flags),
    }
}

/// `idmp.configget a b` (`idmp.configset a 1`) as the `CONFIG GET a b`
/// (`CONFIG SET a 1`) it stands for.
fn config_argv(
    ctx: *mut raw::RedisModuleCtx,
    sub: &[u8],
    args: &[*mut raw::RedisModuleString],
) -> Vec<*mut raw::RedisModuleString> {
    let mut v = vec![
        api::create_string(ctx, b"config"),
        api::create_string(ctx, sub),
    ];
    v.extend(args.iter().skip(1).copied());
    v
}

/// The test-build command that panics inside the handler (feature
/// `debug-panic`, never in a release build of the module).
#[cfg(feature = "debug-panic")]
const DEBUG_COMMANDS: &[(&str, &str, i32, i32, i32)] = &[("idmp.debugpanic", "fast", 0, 0, 0)];
#[cfg(not(feature = "debug-panic"))]
const DEBUG_COMMANDS: &[(&str, &str, i32, i32, i32)] = &[];

/// Registers every command; false if one fails.
pub fn register_all(ctx: *mut raw::RedisModuleCtx) -> bool {
    let host = crate::server::host::host();
    for &(name, flags, first, last, step) in COMMANDS.iter().chain(DEBUG_COMMANDS) {
        // A command the host already serves (XDELEX on 8.2) is registered
        // under the module prefix; the filter routes to it.
        let serve = handler_of(name);
        let name = host.command_name(name);
        let n = c_string(name);
        let f = c_string(flags);
        let r = rm!(RedisModule_CreateCommand(
            ctx,
            n.as_ptr(),
            Some(serve),
            f.as_ptr(),
            first,
            last,
            step
        ))
        .unwrap_or(raw::Status::Err as c_int);
        if r != raw::Status::Ok as c_int {
            api::log(
                ctx,
                "warning",
                &format!("idmp: cannot register command {name}"),
            );
            return false;
        }
    }
    true
}
