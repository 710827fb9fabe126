//! XADD's hot path (issue 13): `XADD key <id> field value ...` with no
//! option, on a key that already holds a stream.
//!
//! The general path ([`route::run`]) parses into a request, runs it into an
//! [`Effects`](crate::commands::Effects) list and replicates through
//! `RedisModule_Replicate`, which looks the command name up again and copies
//! every argument (about 3,000 instructions of a 14,000-instruction XADD).
//! Here the shape is checked on the arguments themselves, the entry appended
//! with [`crate::commands::xadd::append_entry`] (the same code the general path runs), and
//! the command propagated as the client sent it, the way the host's own XADD
//! propagates itself: the ID argument is replaced in the client's argument
//! vector by the ID the entry got (`*` -> `1700000000000-0`) and
//! `RedisModule_ReplicateVerbatim` propagates the vector. The propagated
//! command is byte for byte the general path's (`idmp.xadd key <id> field
//! value ...`), with the same keyspace event, modified-key and ready-key
//! signals, in the same order.
//!
//! A missing key, when new streams are module streams, gets one here too
//! ([`create`]): created with the default settings, stored, and propagated
//! as the general path propagates a creation (`idmp.xadd key IDMPCFG
//! <duration> <maxsize> <id> field value ...`), through one
//! `RedisModule_Replicate` of the command's own strings.
//!
//! Anything else returns `false` having changed nothing: options, IDMP, an
//! odd field count, an argument that is not an ID, a missing key whose
//! stream would be native, another type, or
//! the module name spelled otherwise than `idmp.xadd` (the propagated name
//! must stay the general path's). Whether the vector is the client's own
//! ([`Host::argv_owned`]: not on a host where it never is, nor in a
//! script's call where scripts lend theirs) [`route::run`] decides once,
//! before calling.
//!
//! [`Host::argv_owned`]: crate::server::host::Host::argv_owned
//! [`route::run`]: crate::server::route::run

use std::sync::atomic::AtomicPtr;

use redis_module::raw;

use crate::commands::reply::Reply;
use crate::commands::xadd::{append_entry, plain_id};
use crate::rm;
use crate::server::api::{self, str_bytes};
use crate::server::native_fast;
use crate::server::reply::ModuleReply;
use crate::server::route::{self, exec_ctx_with, key_kind, Kind, OpenKey};
use crate::server::stats;
use crate::stream::id::StreamId;
use crate::stream::stream::{IdRequest, Stream};

/// Serves `argv` (`idmp.xadd key <id> field value ...`, which must be the
/// client's own vector: the caller asks [`crate::server::host::Host::argv_owned`]) when it has
/// the hot shape; `false` with nothing done otherwise.
/// `args`: the arguments' bytes; `flags`: the context flags.
pub fn run(
    ctx: *mut raw::RedisModuleCtx,
    argv: &mut [*mut raw::RedisModuleString],
    args: &[&[u8]],
    flags: u32,
) -> bool {
    if args.len() < 5 || !(args.len() - 3).is_multiple_of(2) {
        return false;
    }
    let (Some(&name), Some(&keyname)) = (argv.first(), argv.get(1)) else {
        return false;
    };
    if !crate::server::filter::is_xadd_name(name) {
        return false;
    }
    let Some(id_req) = args.get(2).and_then(|a| plain_id(a)) else {
        return false;
    };
    let fields = args.get(3..).unwrap_or_default();
    let key = OpenKey::open(ctx, keyname, true);
    let p = match key_kind(key.0) {
        Kind::Module(p) => p,
        Kind::Native if id_req == IdRequest::Auto => {
            // The host's own stream: appended through the stream API.
            let done = native_fast::xadd(ctx, &key, keyname, argv, false, true);
            if done {
                stats::bump(&stats::FORWARDED, 1);
            }
            return done;
        }
        Kind::Empty if crate::server::config::capture() => {
            let field_strs = argv.get(3..).unwrap_or_default();
            return create(ctx, key, keyname, id_req, fields, field_strs, flags);
        }
        _ => return false,
    };
    let ectx = exec_ctx_with(flags);
    // SAFETY: the pointer is the live value of the open key; the server is
    // single-threaded here and nothing else borrows it during this call.
    let Some(s) = (unsafe { p.as_mut() }) else {
        return false;
    };
    let before = stats::Tally::of(s);
    s.idmp.expire(ectx.now_ms);
    let appended = append_entry(s, id_req, fields, &ectx);
    stats::account(before, stats::Tally::of(s));
    let mut buf = [0u8; 41];
    let Some(id_bytes) = reply_appended(ctx, appended, &mut buf) else {
        return true;
    };
    drop(key);
    // (An explicit ID the entry got as given stays.)
    let replaced: &[(usize, Arg<'_>)] = if args.get(2) == Some(&id_bytes) {
        &[]
    } else {
        &[(2, Arg::Bytes(id_bytes))]
    };
    propagate_replaced(ctx, argv, replaced);
    signal_added(ctx, keyname);
    true
}

/// Replies to an append: the new entry's ID, formatted in `buf` and
/// returned, or the error (`None`: nothing was appended).
#[inline]
fn reply_appended<'b>(
    ctx: *mut raw::RedisModuleCtx,
    appended: Result<StreamId, &str>,
    buf: &'b mut [u8; 41],
) -> Option<&'b [u8]> {
    let mut out = ModuleReply::new(ctx);
    match appended {
        Ok(id) => {
            let id_bytes = id.format_into(buf);
            out.bulk(id_bytes);
            Some(id_bytes)
        }
        Err(e) => {
            out.error(e);
            None
        }
    }
}

/// After an entry was added to `keyname` (and propagated): the
/// modified-key signal, the `xadd` keyspace event and the ready-key
/// signal, in the order of the general path (`route::apply_effects`).
#[inline]
pub fn signal_added(ctx: *mut raw::RedisModuleCtx, keyname: *mut raw::RedisModuleString) {
    let _ = rm!(RedisModule_SignalModifiedKey(ctx, keyname));
    api::notify_c(ctx, c"xadd", keyname);
    let _ = rm!(RedisModule_SignalKeyAsReady(ctx, keyname));
}

/// Creates the module stream of a plain XADD on a missing key, as the
/// general path does (`XaddRequest::exec` with no stream, then
/// `route::store_stream` and `route::apply_effects`): the default
/// settings, the entry, the reply; on success the stream stored, its
/// creation propagated ([`api::replicate_created`]), the modified-key
/// signal, the `xadd` event and the ready-key signal, in that order. An ID
/// the new stream refuses is answered with nothing created.
fn create(
    ctx: *mut raw::RedisModuleCtx,
    key: OpenKey,
    keyname: *mut raw::RedisModuleString,
    id_req: IdRequest,
    fields: &[&[u8]],
    field_strs: &[*mut raw::RedisModuleString],
    flags: u32,
) -> bool {
    let ectx = exec_ctx_with(flags);
    let mut s = Box::new(Stream::new(ectx.defaults));
    let appended = append_entry(&mut s, id_req, fields, &ectx);
    let mut buf = [0u8; 41];
    let Some(id_bytes) = reply_appended(ctx, appended, &mut buf) else {
        return true;
    };
    let cfg = s.idmp.settings();
    if !route::store_stream(&key, keyname, s) {
        api::log(ctx, "warning", "idmp: could not store a new stream");
    }
    drop(key);
    api::replicate_created(
        ctx,
        keyname,
        cfg.duration_secs,
        cfg.maxsize,
        id_bytes,
        field_strs,
    );
    signal_added(ctx, keyname);
    true
}

/// The name a native stream's XADD propagates under, created once.
static XADD_NAME: AtomicPtr<raw::RedisModuleString> = AtomicPtr::new(std::ptr::null_mut());

/// A replacement for one argument of the client's vector.
#[derive(Clone, Copy)]
pub enum Arg<'b> {
    /// A new string with these bytes.
    Bytes(&'b [u8]),
    /// One more reference to this long-lived string (created once).
    Shared(*mut raw::RedisModuleString),
}

impl Arg<'_> {
    fn bytes(&self) -> &[u8] {
        match *self {
            Arg::Bytes(b) => b,
            Arg::Shared(s) => str_bytes(s),
        }
    }
}

/// Propagates the client's vector `argv` with the arguments at the given
/// positions replaced, the way the host's own XADD propagates itself (its
/// ID in place of `*`). Every listed argument is replaced: callers list
/// only those whose bytes differ (an explicit `5-0` stays), which they
/// know without asking the server for the bytes again (replacing an
/// argument by equal bytes would propagate the same command, only slower).
/// The vector is the client's, freed by the
/// server after the command ([`Host::argv_owned`]): a new string is
/// handed to it and the replaced one released; the caller must hold the
/// client's own vector (not a copy) and not read the replaced arguments'
/// bytes afterwards.
///
/// [`Host::argv_owned`]: crate::server::host::Host::argv_owned
pub fn propagate_replaced(
    ctx: *mut raw::RedisModuleCtx,
    argv: &mut [*mut raw::RedisModuleString],
    repl: &[(usize, Arg<'_>)],
) {
    for &(i, arg) in repl {
        let Some(slot) = argv.get_mut(i) else {
            continue;
        };
        let new = match arg {
            Arg::Bytes(b) => api::create_string(std::ptr::null_mut(), b),
            Arg::Shared(s) => {
                // One reference for the vector, which releases it.
                let _ = rm!(RedisModule_RetainString(std::ptr::null_mut(), s));
                s
            }
        };
        if new.is_null() {
            fallback(ctx, argv, repl);
            return;
        }
        let old = std::mem::replace(slot, new);
        api::free_string(std::ptr::null_mut(), old);
    }
    let _ = rm!(RedisModule_ReplicateVerbatim(ctx));
}

/// Propagates the native XADD's vector: named `XADD`, `id` in place of `*`
/// (`argv[2]` is `*`, its name the module's: both differ).
pub fn propagate_native_xadd(
    ctx: *mut raw::RedisModuleCtx,
    argv: &mut [*mut raw::RedisModuleString],
    id: &[u8],
) {
    match api::long_lived(&XADD_NAME, b"XADD") {
        Some(name) => propagate_replaced(ctx, argv, &[(0, Arg::Shared(name)), (2, Arg::Bytes(id))]),
        None => fallback(ctx, argv, &[(0, Arg::Bytes(b"XADD")), (2, Arg::Bytes(id))]),
    }
}

/// Replicates a copy of the vector with the replacements (not expected: a
/// string could not be created, which the server treats as out of memory).
fn fallback(
    ctx: *mut raw::RedisModuleCtx,
    argv: &[*mut raw::RedisModuleString],
    repl: &[(usize, Arg<'_>)],
) {
    let mut own: Vec<std::borrow::Cow<'_, [u8]>> =
        argv.iter().map(|&a| str_bytes(a).into()).collect();
    for (i, arg) in repl {
        if let Some(a) = own.get_mut(*i) {
            *a = arg.bytes().to_vec().into();
        }
    }
    api::auto_memory(ctx); // (replicate makes its strings with ctx)
    api::replicate(ctx, &own, api::OwnArgs::default());
}
