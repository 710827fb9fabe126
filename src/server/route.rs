//! Routing of one stream command: parse, look at the key, then run the module
//! logic (empty key or module stream), forward to the native command (native
//! stream), or convert the native stream first when the command needs a
//! module stream. Effects are applied in the order DESIGN "Writes" gives.

use std::ffi::c_int;

use redis_module::raw;

use crate::commands::reply::Reply;
use crate::commands::xgroup::XgroupSub;
use crate::commands::{parse, Effects, ExecCtx, Propagation, Request};
use crate::rm;
use crate::server::api::{self, ctx_flags, str_bytes};
use crate::server::call::call_v;
use crate::server::convert::convert_native;
use crate::server::dtype::raw_type;
use crate::server::host::host;
use crate::server::native_fast;
use crate::server::reply::ModuleReply;
use crate::server::{config, limits, nameidx, stats};
use crate::stream::Stream;

/// The native error for a key of another type.
pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

/// Forwards the command to the native implementation with the same
/// arguments and passes its reply through unchanged.
pub fn forward(
    ctx: *mut raw::RedisModuleCtx,
    native: &str,
    write: bool,
    argv: &[*mut raw::RedisModuleString],
) {
    let mut args: Vec<*mut raw::RedisModuleString> = argv.iter().skip(1).copied().collect();
    let flags = if write { "!0E" } else { "0E" };
    match call_v(ctx, native, flags, &mut args) {
        Some(reply) => {
            let _ = rm!(RedisModule_ReplyWithCallReply(ctx, reply.0));
        }
        None => {
            ModuleReply::new(ctx).error("ERR idmp: the native command could not be called");
        }
    }
}

/// The execution context of the current call.
pub fn exec_ctx(ctx: *mut raw::RedisModuleCtx) -> ExecCtx {
    exec_ctx_with(ctx_flags(ctx))
}

/// The execution context of the current call, whose context flags are `flags`.
pub fn exec_ctx_with(flags: u32) -> ExecCtx {
    ExecCtx {
        now_ms: api::now_ms(),
        limits: limits::node_limits(),
        trusted: flags
            & (raw::REDISMODULE_CTX_FLAGS_LOADING | raw::REDISMODULE_CTX_FLAGS_REPLICATED)
            != 0,
        defaults: config::defaults(),
    }
}

/// What a key holds, as far as routing cares.
pub enum Kind {
    /// No key.
    Empty,
    /// A module stream.
    Module(*mut Stream),
    /// A native stream.
    Native,
    /// Any other type.
    Other,
}

pub fn key_kind(key: *mut raw::RedisModuleKey) -> Kind {
    let t = rm!(RedisModule_KeyType(key)).unwrap_or(raw::REDISMODULE_KEYTYPE_EMPTY as c_int);
    match t as isize {
        raw::REDISMODULE_KEYTYPE_EMPTY => Kind::Empty,
        raw::REDISMODULE_KEYTYPE_STREAM => Kind::Native,
        raw::REDISMODULE_KEYTYPE_MODULE => {
            let mt = rm!(RedisModule_ModuleTypeGetType(key)).unwrap_or(std::ptr::null_mut());
            if !mt.is_null() && mt == raw_type() {
                let v = rm!(RedisModule_ModuleTypeGetValue(key)).unwrap_or(std::ptr::null_mut());
                if v.is_null() {
                    Kind::Other
                } else {
                    Kind::Module(v.cast::<Stream>())
                }
            } else {
                Kind::Other
            }
        }
        _ => Kind::Other,
    }
}

/// An open key, closed on drop.
pub struct OpenKey(pub *mut raw::RedisModuleKey);

impl OpenKey {
    /// Opens `name` for reading, and writing when `write`.
    pub fn open(
        ctx: *mut raw::RedisModuleCtx,
        name: *mut raw::RedisModuleString,
        write: bool,
    ) -> Self {
        let mode = if write {
            raw::REDISMODULE_READ | raw::REDISMODULE_WRITE
        } else {
            raw::REDISMODULE_READ
        };
        OpenKey(rm!(RedisModule_OpenKey(ctx, name, mode as c_int)).unwrap_or(std::ptr::null_mut()))
    }
}

impl Drop for OpenKey {
    fn drop(&mut self) {
        if !self.0.is_null() {
            let _ = rm!(RedisModule_CloseKey(self.0));
        }
    }
}

/// Stores `stream` at the empty key `keyname`, opened for writing, and
/// binds it to the name in the name index.
pub fn store_stream(
    key: &OpenKey,
    keyname: *mut raw::RedisModuleString,
    stream: Box<Stream>,
) -> bool {
    stats::stream_added(&stream);
    let raw_stream = Box::into_raw(stream);
    nameidx::bind(raw_stream.cast(), Some(str_bytes(keyname)));
    let ok = rm!(RedisModule_ModuleTypeSetValue(
        key.0,
        raw_type(),
        raw_stream.cast()
    ))
    .is_some_and(|r| r == raw::Status::Ok as c_int);
    if !ok {
        nameidx::unbind(raw_stream.cast());
        // SAFETY: the server did not take ownership; reclaim the box.
        let stream = unsafe { Box::from_raw(raw_stream) };
        stats::stream_removed(&stream);
    }
    ok
}

/// Applies a write's effects: replication, keyspace events, readiness.
pub fn apply_effects(
    ctx: *mut raw::RedisModuleCtx,
    keyname: *mut raw::RedisModuleString,
    fx: &Effects<'_>,
    own: api::OwnArgs<'_>,
) {
    for p in &fx.replicate {
        match p {
            Propagation::Argv(argv) => api::replicate(ctx, argv, own),
            Propagation::Xclaim(x) => api::replicate_xclaim(ctx, x, own),
        }
    }
    if !fx.replicate.is_empty() || !fx.events.is_empty() {
        let _ = rm!(RedisModule_SignalModifiedKey(ctx, keyname));
    }
    for ev in &fx.events {
        api::notify(ctx, ev, keyname);
    }
    if fx.signal_ready {
        let _ = rm!(RedisModule_SignalKeyAsReady(ctx, keyname));
    }
}

/// The native command a routed request stands for.
fn native_name(req: &Request<'_>) -> &'static str {
    match req {
        Request::Xadd(_) => "XADD",
        Request::Range(r) if r.rev => "XREVRANGE",
        Request::Range(_) => "XRANGE",
        Request::Xlen(_) => "XLEN",
        Request::Xdel(_) => "XDEL",
        Request::Xtrim(_) => "XTRIM",
        Request::Xsetid(_) => "XSETID",
        Request::Xinfo(_) => "XINFO",
        Request::Xcfgset(_) => "XCFGSET",
        Request::Xidmprecord(_) => "XIDMPRECORD",
        Request::Counters(_) => "IDMP.IDMPCOUNTERS",
        Request::Xgroup(_) => "XGROUP",
        Request::Xread(r) if r.xreadgroup => "XREADGROUP",
        Request::Xread(_) => "XREAD",
        Request::Xack(_) => "XACK",
        Request::Xpending(_) => "XPENDING",
        Request::Xclaim(_) => "XCLAIM",
        Request::Xautoclaim(_) => "XAUTOCLAIM",
        Request::Xdelex(r) if r.group.is_some() => "XACKDEL",
        Request::Xdelex(_) => "XDELEX",
    }
}

/// The server's answer to a deny-oom command above `maxmemory`.
const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";

/// XGROUP CREATE and CREATECONSUMER are deny-oom natively, the other XGROUP
/// subcommands are not; `idmp.xgroup` is one command registered without
/// the flag, so it refuses those two itself, as the server would have after
/// its evictions (which run before every command when maxmemory is set).
/// Under MULTI the server already refuses to queue any command when out of
/// memory.
fn denied_for_memory(req: &Request<'_>, ectx: &ExecCtx) -> bool {
    let Request::Xgroup(g) = req else {
        return false;
    };
    if ectx.trusted || !matches!(g.sub, XgroupSub::Create | XgroupSub::CreateConsumer) {
        return false;
    }
    rm!(RedisModule_GetUsedMemoryRatio()).is_some_and(|level| level > 1.0)
}

/// Runs a routed command: the body of every `idmp.*` command handler.
/// `flags`: the context flags of `ctx`.
pub fn run(ctx: *mut raw::RedisModuleCtx, argv: &mut [*mut raw::RedisModuleString], flags: u32) {
    // An XADD IDMP/IDMPAUTO the filter reserved slots in: its hot path, or
    // what the client sent for the general path (a copy: no in-place
    // propagation from it). `own`: the client's own vector, to change in
    // place (not a copy, nor a vector a script lends: Host::argv_owned).
    if let Some(m) = crate::server::hot_idmp::marks(argv) {
        if crate::server::hot_idmp::run(ctx, argv, m, flags) {
            return;
        }
    }
    let mut unmarked: Vec<*mut raw::RedisModuleString>;
    let (argv, own): (&mut [*mut raw::RedisModuleString], bool) =
        match crate::server::hot_idmp::without_marks(argv) {
            Some(v) => {
                unmarked = v;
                (&mut unmarked, false)
            }
            None => (argv, host().argv_owned(flags)),
        };
    // The arguments' bytes, on the stack for the usual short commands.
    let mut stack: [&[u8]; 16] = [&[]; 16];
    let mut heap: Vec<&[u8]>;
    let args: &mut [&[u8]] = if argv.len() <= stack.len() {
        for (d, &s) in stack.iter_mut().zip(argv.iter()) {
            *d = str_bytes(s);
        }
        stack.get_mut(..argv.len()).unwrap_or_default()
    } else {
        heap = argv.iter().map(|&s| str_bytes(s)).collect();
        &mut heap
    };
    // Errors name the standard command: `idmp.xadd` answers as `xadd`.
    if let Some(a0) = args.first_mut() {
        if a0.len() > 5 && a0[..5].eq_ignore_ascii_case(b"idmp.") {
            *a0 = &a0[5..];
        }
    }
    let args: &[&[u8]] = args;
    if own && crate::server::hot_xadd::run(ctx, argv, args, flags) {
        return;
    }
    // The general path makes strings, keys and call replies with `ctx`.
    api::auto_memory(ctx);
    let ectx = exec_ctx_with(flags);
    let mut out = ModuleReply::new(ctx);
    let req = match parse(args, &ectx) {
        Ok(r) => r,
        Err(e) => {
            out.error(&e);
            return;
        }
    };
    if let Request::Xread(x) = &req {
        crate::server::xread::run(ctx, argv, args, x);
        return;
    }
    if denied_for_memory(&req, &ectx) {
        out.error(OOM);
        return;
    }
    let write = req.is_write();
    let native = native_name(&req);
    // The key's module string: the argument whose bytes the request borrows.
    let keyname = req.key().and_then(|k| {
        args.iter()
            .position(|a| a.as_ptr() == k.as_ptr() && a.len() == k.len())
            .and_then(|i| argv.get(i).copied())
    });
    let Some(keyname) = keyname else {
        forward(ctx, native, write, argv);
        return;
    };
    let needs_module = req.needs_module_stream_on(host().stream_features());
    let mut key = OpenKey::open(ctx, keyname, write || needs_module);
    let stream: Option<*mut Stream> = match key_kind(key.0) {
        Kind::Other => {
            out.error(WRONGTYPE);
            return;
        }
        Kind::Module(p) => Some(p),
        Kind::Empty => {
            if req.creates_key() && !needs_module && !config::capture() {
                if matches!(req, Request::Xadd(_))
                    && native_fast::xadd(ctx, &key, keyname, argv, true, own)
                {
                    stats::bump(&stats::FORWARDED, 1);
                    return;
                }
                drop(key);
                on_native(ctx, &req, native, write, argv);
                return;
            }
            None
        }
        Kind::Native => {
            if !needs_module {
                let fast = match &req {
                    Request::Xadd(_) => native_fast::xadd(ctx, &key, keyname, argv, false, own),
                    Request::Xlen(_) => native_fast::xlen(ctx, &key),
                    _ => false,
                };
                if fast {
                    stats::bump(&stats::FORWARDED, 1);
                    return;
                }
            }
            drop(key);
            if !needs_module {
                on_native(ctx, &req, native, write, argv);
                return;
            }
            // XCFGSET reads its options after the key: a native stream that
            // gets an option error stays native.
            if let Request::Xcfgset(x) = &req {
                if let Err(e) = x.settings() {
                    out.error(&e);
                    return;
                }
            }
            if let Err(e) = convert_native(ctx, keyname) {
                out.error(&e);
                return;
            }
            key = OpenKey::open(ctx, keyname, true);
            match key_kind(key.0) {
                Kind::Module(p) => Some(p),
                _ => {
                    out.error("ERR idmp: conversion of the native stream failed");
                    return;
                }
            }
        }
    };
    // SAFETY: the pointer is the live value of the open key; the server is
    // single-threaded here and nothing else borrows it during this call.
    let stream_ref: Option<&mut Stream> = stream.and_then(|p| unsafe { p.as_mut() });
    let before = stream_ref.as_deref().map(stats::Tally::of);
    let mut fx = req.exec(stream_ref, &ectx, &mut out);
    if let Some(new_stream) = fx.new_stream.take() {
        if !store_stream(&key, keyname, new_stream) {
            api::log(ctx, "warning", "idmp: could not store a new stream");
        }
    } else if let Some(before) = before {
        // SAFETY: as above; the exec's borrow has ended.
        if let Some(s) = stream.and_then(|p| unsafe { p.as_ref() }) {
            stats::account(before, stats::Tally::of(s));
        }
    }
    drop(key);
    let own = api::OwnArgs {
        bytes: args,
        strs: argv,
    };
    apply_effects(ctx, keyname, &fx, own);
}

/// `XLEN key` without the general path (it has nothing to parse but its
/// arity, which the filter and the server checked): the module stream's
/// length through the same [`XlenRequest::exec`], the native stream's
/// through the API, 0 for a missing key, WRONGTYPE otherwise.
///
/// [`XlenRequest::exec`]: crate::commands::xlen::XlenRequest::exec
pub fn run_xlen(ctx: *mut raw::RedisModuleCtx, argv: &[*mut raw::RedisModuleString]) -> bool {
    let &[_, keyname] = argv else {
        return false;
    };
    let key = str_bytes(keyname);
    let open = OpenKey::open(ctx, keyname, false);
    let req = crate::commands::xlen::XlenRequest { key };
    let mut out = ModuleReply::new(ctx);
    match key_kind(open.0) {
        // SAFETY: the live value of the open key, only read here.
        Kind::Module(p) => {
            let _ = req.exec(unsafe { p.as_ref() }, &mut out);
        }
        Kind::Empty => {
            let _ = req.exec(None, &mut out);
        }
        Kind::Native => return native_fast::xlen(ctx, &open),
        Kind::Other => out.error(WRONGTYPE),
    }
    true
}

/// The native-stream path: forward unchanged (XINFO STREAM adds the IDMP fields).
fn on_native(
    ctx: *mut raw::RedisModuleCtx,
    req: &Request<'_>,
    native: &str,
    write: bool,
    argv: &[*mut raw::RedisModuleString],
) {
    stats::bump(&stats::FORWARDED, 1);
    if let Request::Xinfo(x) = req {
        if matches!(x.sub, crate::commands::xinfo::XinfoSub::Stream { .. }) {
            crate::server::xinfo_native::forward_xinfo_stream(ctx, argv);
            return;
        }
    }
    forward(ctx, native, write, argv);
}

/// `TYPE key`: `stream` for a module stream, the native answer otherwise.
/// (Automatic memory is off until it forwards.)
pub fn run_type(ctx: *mut raw::RedisModuleCtx, argv: &[*mut raw::RedisModuleString]) {
    if argv.len() == 2 {
        let key = OpenKey::open(ctx, argv[1], false);
        if let Kind::Module(_) = key_kind(key.0) {
            ModuleReply::new(ctx).simple("stream");
            return;
        }
        if native_fast::type_reply(ctx, &key) {
            return;
        }
    }
    api::auto_memory(ctx);
    forward(ctx, "TYPE", false, argv);
}
