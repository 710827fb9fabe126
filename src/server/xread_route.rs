//! XREAD / XREADGROUP in the server: several keys, each a module stream, a
//! native stream, missing, or of another type, and blocking.
//!
//! * Only native streams (or missing keys) and nothing 7.0 lacks (BLOCK,
//!   CLAIM, `+`): forwarded to the native command.
//! * Otherwise native streams among the keys are converted first (a
//!   forwarded call cannot block: `RM_Call` denies blocking), then the
//!   commands layer serves all keys ([`XreadRequest::exec_multi`]).
//! * Nothing to serve with BLOCK: the client blocks on its keys with
//!   `RM_BlockClientOnKeys`; each time one is signalled ready the reply
//!   callback runs the request again with the start IDs resolved at call
//!   time (as Redis 7.2+ re-runs the command): it answers, errors (NOGROUP
//!   when the key or group is gone) or keeps waiting. The timeout answers a
//!   null array. Where blocking is not allowed (MULTI, scripts) the answer
//!   is a null array at once, as native.

use std::ffi::{c_int, c_void};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use redis_module::raw;

use crate::commands::reply::Reply;
use crate::commands::xread::{BlockSpec, KeyLookup, XreadOutcome, XreadRequest};
use crate::commands::{parse, CmdError, Request};
use crate::rm;
use crate::server::api::{ctx_flags, str_bytes};
use crate::server::convert::convert_native;
use crate::server::reply::ModuleReply;
use crate::server::route::{apply_effects, exec_ctx, forward, key_kind, Kind, OpenKey, WRONGTYPE};
use crate::server::wake::{self, Blocked};
use crate::stream::Stream;

/// Opens the keys of one call as the commands layer asks for them.
struct Lookup {
    ctx: *mut raw::RedisModuleCtx,
    keys: Vec<(Vec<u8>, *mut raw::RedisModuleString)>,
    write: bool,
    open: Vec<OpenKey>,
}

impl Lookup {
    fn name(&self, key: &[u8]) -> Option<*mut raw::RedisModuleString> {
        self.keys.iter().find(|(k, _)| k == key).map(|(_, s)| *s)
    }
}

impl KeyLookup for Lookup {
    fn stream(&mut self, key: &[u8]) -> Result<Option<&mut Stream>, CmdError> {
        let Some(name) = self.name(key) else {
            return Ok(None);
        };
        let k = OpenKey::open(self.ctx, name, self.write);
        let kind = key_kind(k.0);
        self.open.push(k);
        match kind {
            Kind::Empty | Kind::Native => Ok(None),
            Kind::Other => Err(WRONGTYPE.to_string()),
            // SAFETY: the value of a key this call keeps open; the server is
            // single-threaded here and the reference does not outlive `self`.
            Kind::Module(p) => Ok(unsafe { p.as_mut() }),
        }
    }
}

/// The module strings of the keys of `x`, by the bytes they hold.
fn key_names(
    x: &XreadRequest<'_>,
    args: &[&[u8]],
    argv: &[*mut raw::RedisModuleString],
) -> Vec<(Vec<u8>, *mut raw::RedisModuleString)> {
    let mut out: Vec<(Vec<u8>, *mut raw::RedisModuleString)> = Vec::new();
    for k in &x.keys {
        if out.iter().any(|(b, _)| b.as_slice() == *k) {
            continue;
        }
        let pos = args
            .iter()
            .position(|a| a.as_ptr() == k.as_ptr() && a.len() == k.len());
        if let Some(s) = pos.and_then(|i| argv.get(i).copied()) {
            out.push((k.to_vec(), s));
        }
    }
    out
}

/// argv as byte slices with `idmp.` taken off argv\[0\].
fn arg_bytes<'a>(argv: &[*mut raw::RedisModuleString]) -> Vec<&'a [u8]> {
    let mut args: Vec<&[u8]> = argv.iter().map(|&s| str_bytes(s)).collect();
    if let Some(a0) = args.first_mut() {
        if a0.len() > 5 && a0[..5].eq_ignore_ascii_case(b"idmp.") {
            *a0 = &a0[5..];
        }
    }
    args
}

/// Parses as the server would for this caller (scripts: BLOCK is an error).
fn parse_xread<'a>(
    ctx: *mut raw::RedisModuleCtx,
    args: &[&'a [u8]],
) -> Result<Option<XreadRequest<'a>>, CmdError> {
    let ectx = exec_ctx(ctx);
    let in_script = ctx_flags(ctx) & raw::REDISMODULE_CTX_FLAGS_LUA != 0;
    let name = String::from_utf8_lossy(args.first().copied().unwrap_or_default()).to_lowercase();
    if in_script && (name == "xread" || name == "xreadgroup") {
        return XreadRequest::parse_in(args, name == "xreadgroup", &name, true).map(Some);
    }
    match parse(args, &ectx)? {
        Request::Xread(x) => Ok(Some(x)),
        _ => Ok(None),
    }
}

/// Runs the request over its keys, applying each key's effects; returns
/// the outcome (nothing written on `Block`).
fn serve(
    ctx: *mut raw::RedisModuleCtx,
    x: &XreadRequest<'_>,
    keys: Vec<(Vec<u8>, *mut raw::RedisModuleString)>,
    resume: Option<&BlockSpec>,
) -> XreadOutcome {
    let ectx = exec_ctx(ctx);
    let mut lookup = Lookup {
        ctx,
        keys,
        write: x.is_write(),
        open: Vec::new(),
    };
    let mut out = ModuleReply::new(ctx);
    let (outcome, per_key) = x.exec_multi(&mut lookup, &ectx, &mut out, resume);
    let names: Vec<_> = per_key.iter().map(|(k, _)| lookup.name(k)).collect();
    drop(lookup);
    for ((_, fx), name) in per_key.iter().zip(names) {
        if let Some(n) = name {
            apply_effects(ctx, n, fx);
        }
    }
    outcome
}

/// The handler body for `idmp.xread` / `idmp.xreadgroup`.
pub fn run(ctx: *mut raw::RedisModuleCtx, argv: &[*mut raw::RedisModuleString]) {
    let args = arg_bytes(argv);
    let x = match parse_xread(ctx, &args) {
        Ok(Some(x)) => x,
        Ok(None) => {
            ModuleReply::new(ctx).error("ERR idmp: not an XREAD");
            return;
        }
        Err(e) => {
            ModuleReply::new(ctx).error(&e);
            return;
        }
    };
    let keys = key_names(&x, &args, argv);
    let kinds: Vec<Kind> = keys
        .iter()
        .map(|(_, n)| key_kind(OpenKey::open(ctx, *n, false).0))
        .collect();
    let any_native = kinds.iter().any(|k| matches!(k, Kind::Native));
    let any_module = kinds.iter().any(|k| matches!(k, Kind::Module(_)));
    if any_native {
        if !any_module && x.block.is_none() && !x.needs_module_stream() {
            let native = if x.xreadgroup { "XREADGROUP" } else { "XREAD" };
            forward(ctx, native, x.is_write(), argv);
            return;
        }
        for ((_, n), k) in keys.iter().zip(&kinds) {
            if matches!(k, Kind::Native) {
                if let Err(e) = convert_native(ctx, *n) {
                    ModuleReply::new(ctx).error(&e);
                    return;
                }
            }
        }
    }
    let names: Vec<*mut raw::RedisModuleString> = keys.iter().map(|(_, n)| *n).collect();
    let key_bytes: Vec<Vec<u8>> = keys.iter().map(|(k, _)| k.clone()).collect();
    let spec = match serve(ctx, &x, keys, None) {
        XreadOutcome::Replied => return,
        XreadOutcome::Block(spec) => spec,
    };
    let deny = raw::REDISMODULE_CTX_FLAGS_MULTI
        | raw::REDISMODULE_CTX_FLAGS_LUA
        | raw::REDISMODULE_CTX_FLAGS_DENY_BLOCKING;
    if ctx_flags(ctx) & deny != 0 {
        ModuleReply::new(ctx).null_array();
        return;
    }
    let group_keys = x.xreadgroup.then_some(key_bytes);
    block(ctx, spec, names, group_keys);
}

fn block(
    ctx: *mut raw::RedisModuleCtx,
    spec: BlockSpec,
    mut names: Vec<*mut raw::RedisModuleString>,
    group_keys: Option<Vec<Vec<u8>>>,
) {
    let timeout = i64::try_from(spec.timeout_ms).unwrap_or(i64::MAX);
    let data = Box::into_raw(Box::new(Blocked {
        spec,
        gone: AtomicBool::new(false),
        gone_key: Mutex::new(Vec::new()),
    }));
    let bc = rm!(RedisModule_BlockClientOnKeys(
        ctx,
        Some(on_ready),
        Some(on_timeout),
        Some(free_spec),
        timeout,
        names.as_mut_ptr(),
        names.len() as c_int,
        data.cast::<c_void>()
    ))
    .unwrap_or(std::ptr::null_mut());
    if bc.is_null() {
        // SAFETY: the server did not take the private data; reclaim it.
        drop(unsafe { Box::from_raw(data) });
        ModuleReply::new(ctx).null_array();
        return;
    }
    if let Some(keys) = group_keys {
        let db = rm!(RedisModule_GetSelectedDb(ctx)).unwrap_or(0);
        wake::register(data, bc, db, keys);
    }
}

extern "C" fn on_ready(
    ctx: *mut raw::RedisModuleCtx,
    argv: *mut *mut raw::RedisModuleString,
    argc: c_int,
) -> c_int {
    let served = crate::server::guard::guard(None, || {
        let argv: &[*mut raw::RedisModuleString] = if argv.is_null() || argc <= 0 {
            &[]
        } else {
            // SAFETY: the server passes the blocked command's `argc` strings.
            unsafe { std::slice::from_raw_parts(argv, argc as usize) }
        };
        let p = rm!(RedisModule_GetBlockedClientPrivateData(ctx)).unwrap_or(std::ptr::null_mut());
        // SAFETY: the private data is the Blocked boxed by `block`, alive
        // until `free_spec`.
        let Some(spec) = (unsafe { p.cast::<Blocked>().as_ref() }).map(|b| &b.spec) else {
            ModuleReply::new(ctx).null_array();
            return Some(true);
        };
        let args = arg_bytes(argv);
        let Ok(Some(x)) = parse_xread(ctx, &args) else {
            ModuleReply::new(ctx).null_array();
            return Some(true);
        };
        let keys = key_names(&x, &args, argv);
        Some(matches!(
            serve(ctx, &x, keys, Some(spec)),
            XreadOutcome::Replied
        ))
    });
    match served {
        Some(false) => raw::Status::Err as c_int,
        Some(true) => raw::Status::Ok as c_int,
        None => {
            ModuleReply::new(ctx).error("ERR idmp: internal error, see the server log");
            raw::Status::Ok as c_int
        }
    }
}

/// The timeout callback: a null array, or, when `wake` unblocked the
/// client because its key went away, the NOGROUP error of XREADGROUP.
extern "C" fn on_timeout(
    ctx: *mut raw::RedisModuleCtx,
    argv: *mut *mut raw::RedisModuleString,
    argc: c_int,
) -> c_int {
    crate::server::guard::guard((), || {
        let p = rm!(RedisModule_GetBlockedClientPrivateData(ctx)).unwrap_or(std::ptr::null_mut());
        // SAFETY: the private data is the Blocked boxed by `block`.
        let gone = unsafe { p.cast::<Blocked>().as_ref() }
            .filter(|b| b.gone.load(Ordering::Relaxed))
            .and_then(|b| b.gone_key.lock().ok().map(|k| k.clone()));
        let argv: &[*mut raw::RedisModuleString] = if argv.is_null() || argc <= 0 {
            &[]
        } else {
            // SAFETY: the server passes the blocked command's `argc` strings.
            unsafe { std::slice::from_raw_parts(argv, argc as usize) }
        };
        let args = arg_bytes(argv);
        let group = match parse_xread(ctx, &args) {
            Ok(Some(x)) => x.group.map(|(g, _)| g.to_vec()),
            _ => None,
        };
        match (gone, group) {
            (Some(key), Some(group)) => ModuleReply::new(ctx).error(&format!(
                "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
                String::from_utf8_lossy(&key),
                String::from_utf8_lossy(&group)
            )),
            _ => ModuleReply::new(ctx).null_array(),
        }
    });
    raw::Status::Ok as c_int
}

extern "C" fn free_spec(_ctx: *mut raw::RedisModuleCtx, p: *mut c_void) {
    if !p.is_null() {
        wake::forget(p);
        // SAFETY: `p` is the Box<Blocked> leaked by `block`, freed once.
        drop(unsafe { Box::from_raw(p.cast::<Blocked>()) });
    }
}
