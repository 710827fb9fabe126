//! XREAD and XREADGROUP: several keys, blocking.
//!
//! When no key is a module stream the command is forwarded to the native
//! one (`RM_Call` never blocks: it answers a null array when there is
//! nothing), and when it must block the module blocks the client on the keys
//! and forwards again, with `$` resolved, each time a key is signalled. When
//! a key is a module stream the module serves the command itself
//! ([`XreadRequest::exec_multi`]), converting native streams among the keys.
//! Blocked clients are re-run on every signal of one of their keys, as Redis
//! 7.2+ does: a still-empty read keeps waiting, a deleted key or group
//! answers the group error.

use std::ffi::{c_int, c_void};

use redis_module::raw;

use crate::commands::reply::Reply;
use crate::commands::xread::{BlockSpec, KeyLookup, XreadOutcome, XreadRequest};
use crate::commands::{CmdError, ExecCtx};
use crate::rm;
use crate::server::api::{create_string, ctx_flags, str_bytes};
use crate::server::call::{call_v, REPLY_NULL};
use crate::server::config;
use crate::server::convert::convert_native;
use crate::server::reply::ModuleReply;
use crate::server::route::{apply_effects, exec_ctx, key_kind, Kind, OpenKey, WRONGTYPE};
use crate::server::wake;
use crate::stream::Stream;

/// What a blocked client keeps: its argv (with `$` resolved for native
/// forwarding) and, when the module served it, the block spec.
struct Blocked {
    argv: Vec<Vec<u8>>,
    spec: Option<BlockSpec>,
    /// The database and keys registered with [`wake`] while blocked.
    db: i32,
    keys: Vec<Vec<u8>>,
    /// The blocked client's handle (set right after blocking).
    bc: *mut raw::RedisModuleBlockedClient,
    /// Set when a waited key went away: the timeout callback then answers
    /// this instead of a timeout.
    gone: Option<Gone>,
    /// XREADGROUP CLAIM: the timer that re-runs the read when a pending
    /// entry becomes claimable (0: none).
    timer: raw::RedisModuleTimerID,
}

impl Blocked {
    /// Whether the blocked read is an XREADGROUP.
    fn is_group(&self) -> bool {
        self.argv
            .first()
            .is_some_and(|n| n.eq_ignore_ascii_case(b"xreadgroup"))
    }
}

/// Why a blocked XREADGROUP was ended by a change of one of its keys.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Gone {
    /// The key no longer exists (deleted, renamed away, flushed, swapped
    /// out): the group error.
    Missing,
    /// The key now holds another type (SET, a transaction, SWAPDB): the
    /// re-run command's WRONGTYPE, as Redis 7.2+ answers.
    WrongType,
}

/// A key a blocked read waits on is gone (deleted, renamed away, flushed,
/// swapped out, or overwritten with another type). XREADGROUP can no longer
/// be served and is answered with the group error (or WRONGTYPE when the key
/// holds another type), as Redis 7.2+ does; XREAD keeps waiting for the key
/// to come back.
pub fn key_gone(ctx: *mut raw::RedisModuleCtx, token: usize, why: Gone) {
    let p = token as *mut Blocked;
    // SAFETY: tokens are the private data of blocked clients, registered at
    // block time and removed in `free_blocked` before the box is freed.
    let Some(b) = (unsafe { p.as_mut() }) else {
        return;
    };
    if !b.is_group() || b.gone.is_some() || b.bc.is_null() {
        return;
    }
    b.gone = Some(why);
    // Not at once: 7.0 answers a client blocked on keys from inside
    // RM_UnblockClient (its timeout callback), which would be in the middle
    // of the command or transaction that changed the key, where Redis
    // answers after it (see `gone_now`). A 0 ms timer runs right after.
    arm_timer(ctx, b, 0);
}

/// 7.0's NOGROUP text for XREADGROUP on a missing key or group.
fn nogroup(b: &Blocked) -> String {
    let key = b
        .keys
        .first()
        .map(|k| String::from_utf8_lossy(k).into_owned())
        .unwrap_or_default();
    let group = b
        .argv
        .iter()
        .position(|a| a.eq_ignore_ascii_case(b"group"))
        .and_then(|i| b.argv.get(i + 1))
        .map(|g| String::from_utf8_lossy(g).into_owned())
        .unwrap_or_default();
    format!(
        "NOGROUP No such key '{key}' or consumer group '{group}' in XREADGROUP with GROUP option"
    )
}

/// Whether the client may block (not in MULTI, a script, or a context that
/// denies blocking).
fn can_block(ctx: *mut raw::RedisModuleCtx) -> bool {
    let f = ctx_flags(ctx);
    f & (raw::REDISMODULE_CTX_FLAGS_MULTI
        | raw::REDISMODULE_CTX_FLAGS_LUA
        | raw::REDISMODULE_CTX_FLAGS_DENY_BLOCKING)
        == 0
}

/// Opens the keys of an XREAD one at a time for the command layer.
struct GlueLookup<'a> {
    ctx: *mut raw::RedisModuleCtx,
    names: &'a [*mut raw::RedisModuleString],
    write: bool,
}

impl GlueLookup<'_> {
    fn name_of(&self, key: &[u8]) -> Option<*mut raw::RedisModuleString> {
        self.names.iter().copied().find(|&n| str_bytes(n) == key)
    }
}

impl KeyLookup for GlueLookup<'_> {
    fn stream(&mut self, key: &[u8]) -> Result<Option<&mut Stream>, CmdError> {
        let Some(name) = self.name_of(key) else {
            return Ok(None);
        };
        let mut k = OpenKey::open(self.ctx, name, self.write);
        let mut kind = key_kind(k.0);
        if let Kind::Native = kind {
            drop(k);
            convert_native(self.ctx, name)?;
            k = OpenKey::open(self.ctx, name, self.write);
            kind = key_kind(k.0);
        }
        match kind {
            Kind::Empty => Ok(None),
            // SAFETY: the value stays owned by the keyspace after the key
            // handle closes; nothing deletes it during this command, and only
            // one stream borrow is alive at a time.
            Kind::Module(p) => Ok(unsafe { p.as_mut() }),
            Kind::Native | Kind::Other => Err(WRONGTYPE.to_string()),
        }
    }
}

/// The keys of the request as module strings (argv positions).
fn key_names(
    argv: &[*mut raw::RedisModuleString],
    req: &XreadRequest<'_>,
) -> Vec<*mut raw::RedisModuleString> {
    let n = req.keys.len();
    argv.len()
        .checked_sub(2 * n)
        .and_then(|first| argv.get(first..first + n))
        .map(<[_]>::to_vec)
        .unwrap_or_default()
}

fn any_module_key(ctx: *mut raw::RedisModuleCtx, names: &[*mut raw::RedisModuleString]) -> bool {
    names.iter().any(|&n| {
        let k = OpenKey::open(ctx, n, false);
        matches!(key_kind(k.0), Kind::Module(_))
    })
}

/// The native command's name for the request.
fn native(req: &XreadRequest<'_>) -> &'static str {
    if req.xreadgroup {
        "XREADGROUP"
    } else {
        "XREAD"
    }
}

/// Forwards to the native command; `Some(true)` when it replied, `Some(false)`
/// when it had nothing (null), `None` when the call failed.
fn forward_once(
    ctx: *mut raw::RedisModuleCtx,
    req: &XreadRequest<'_>,
    argv: &[*mut raw::RedisModuleString],
    reply_if_null: bool,
) -> bool {
    let mut args: Vec<*mut raw::RedisModuleString> = argv.iter().skip(1).copied().collect();
    let flags = if req.xreadgroup { "!0E" } else { "0E" };
    let Some(r) = call_v(ctx, native(req), flags, &mut args) else {
        ModuleReply::new(ctx).error("ERR idmp: the native command could not be called");
        return true;
    };
    if r.elem().kind() == REPLY_NULL && !reply_if_null {
        return false;
    }
    let _ = rm!(RedisModule_ReplyWithCallReply(ctx, r.0));
    true
}

/// `$` resolved to each native key's last-generated-id (0-0 when missing).
fn resolve_dollars(
    ctx: *mut raw::RedisModuleCtx,
    argv: &[*mut raw::RedisModuleString],
    req: &XreadRequest<'_>,
) -> Vec<Vec<u8>> {
    let n = req.keys.len();
    let ids_from = argv.len() - n;
    argv.iter()
        .enumerate()
        .map(|(i, &a)| {
            let b = str_bytes(a);
            let key = i.checked_sub(n).and_then(|k| argv.get(k)).copied();
            match key {
                Some(key) if i >= ids_from && b == b"$" => {
                    last_generated_id(ctx, key).unwrap_or_else(|| b"0-0".to_vec())
                }
                _ => b.to_vec(),
            }
        })
        .collect()
}

fn last_generated_id(
    ctx: *mut raw::RedisModuleCtx,
    key: *mut raw::RedisModuleString,
) -> Option<Vec<u8>> {
    let mut args = [create_string(ctx, b"STREAM"), key];
    let r = call_v(ctx, "XINFO", "", &mut args)?;
    let top = r.elem();
    top.pairs()
        .into_iter()
        .find(|(k, _)| k.bytes() == b"last-generated-id")
        .map(|(_, v)| v.bytes().to_vec())
}

fn block(
    ctx: *mut raw::RedisModuleCtx,
    names: &[*mut raw::RedisModuleString],
    timeout_ms: u64,
    blocked: Blocked,
) {
    let mut keys = names.to_vec();
    let mut blocked = blocked;
    blocked.db = rm!(RedisModule_GetSelectedDb(ctx)).unwrap_or(0);
    blocked.keys = names.iter().map(|&n| str_bytes(n).to_vec()).collect();
    let group = blocked.is_group();
    let raw_blocked = Box::into_raw(Box::new(blocked));
    let priv_ptr = raw_blocked.cast::<c_void>();
    let timeout = timeout_ms.min(i64::MAX as u64) as i64;
    let bc = if group && crate::server::host::host().unblock_deleted {
        // Woken when a key is deleted or overwritten, as the native
        // XREADGROUP is (blocked.c, unblock_on_nokey): `on_ready` re-runs it.
        rm!(RedisModule_BlockClientOnKeysWithFlags(
            ctx,
            Some(on_ready),
            Some(on_timeout),
            Some(free_blocked),
            timeout,
            keys.as_mut_ptr(),
            keys.len() as c_int,
            priv_ptr,
            raw::REDISMODULE_BLOCK_UNBLOCK_DELETED as c_int
        ))
    } else {
        rm!(RedisModule_BlockClientOnKeys(
            ctx,
            Some(on_ready),
            Some(on_timeout),
            Some(free_blocked),
            timeout,
            keys.as_mut_ptr(),
            keys.len() as c_int,
            priv_ptr
        ))
    }
    .unwrap_or(std::ptr::null_mut());
    if bc.is_null() {
        // SAFETY: the server did not take the private data; reclaim it.
        drop(unsafe { Box::from_raw(raw_blocked) });
        ModuleReply::new(ctx).null_array();
        return;
    }
    // SAFETY: the box is alive until free_blocked; nothing else uses it now.
    if let Some(b) = unsafe { raw_blocked.as_mut() } {
        b.bc = bc;
        wake::add(ctx, b.db, &b.keys, raw_blocked as usize, group);
        if let Some(at) = b.spec.as_ref().and_then(|s| s.claim_wake_ms) {
            arm_timer(ctx, b, at.saturating_sub(crate::server::api::now_ms()));
        }
    }
}

/// Arms (or re-arms) the blocked read's timer, `delay_ms` from now. When
/// it fires: a gone key ([`key_gone`]) ends the read; otherwise it is the
/// XREADGROUP CLAIM wake-up, which signals the read's keys when one of
/// their pending entries becomes claimable: no write would wake the reader
/// then (Redis 8.4 checks these times in beforeSleep,
/// handleClaimableStreamEntries).
fn arm_timer(ctx: *mut raw::RedisModuleCtx, b: &mut Blocked, delay_ms: u64) {
    if b.timer != 0 {
        let _ = rm!(RedisModule_StopTimer(ctx, b.timer, std::ptr::null_mut()));
    }
    let delay = delay_ms;
    let data = (b as *mut Blocked).cast::<c_void>();
    b.timer = rm!(RedisModule_CreateTimer(
        ctx,
        delay.min(i64::MAX as u64) as raw::mstime_t,
        Some(on_timer),
        data
    ))
    .unwrap_or(0);
}

extern "C" fn on_timer(ctx: *mut raw::RedisModuleCtx, data: *mut c_void) {
    crate::server::api::auto_memory(ctx);
    crate::server::guard::guard((), || {
        // The timer is stopped in free_blocked, and a token no longer
        // registered with `wake` is not dereferenced.
        if !wake::is_waiting(data as usize) {
            return;
        }
        // SAFETY: `data` is a Box<Blocked> still registered with `wake`, so
        // free_blocked has not run for it.
        let Some(b) = (unsafe { data.cast::<Blocked>().as_mut() }) else {
            return;
        };
        b.timer = 0;
        if b.gone.is_some() {
            if !b.bc.is_null() {
                let _ = rm!(RedisModule_UnblockClient(b.bc, std::ptr::null_mut()));
            }
            return;
        }
        let current = rm!(RedisModule_GetSelectedDb(ctx)).unwrap_or(0);
        let _ = rm!(RedisModule_SelectDb(ctx, b.db));
        for k in &b.keys {
            let _ = rm!(RedisModule_SignalKeyAsReady(ctx, create_string(ctx, k)));
        }
        let _ = rm!(RedisModule_SelectDb(ctx, current));
    });
}

/// Serves the request through the module; returns the block spec when it
/// found nothing and BLOCK was given.
fn serve_module(
    ctx: *mut raw::RedisModuleCtx,
    req: &XreadRequest<'_>,
    names: &[*mut raw::RedisModuleString],
    ectx: &ExecCtx,
    resume: Option<&BlockSpec>,
    reply: &mut dyn Reply,
    own: crate::server::api::OwnArgs<'_>,
) -> Option<BlockSpec> {
    let mut lookup = GlueLookup {
        ctx,
        names,
        write: req.is_write(),
    };
    let (outcome, per_key) = req.exec_multi(&mut lookup, ectx, reply, resume);
    for (key, fx) in per_key {
        if let Some(name) = lookup.name_of(key) {
            apply_effects(ctx, name, &fx, own);
        }
    }
    match outcome {
        XreadOutcome::Replied => None,
        XreadOutcome::Block(spec) => Some(spec),
    }
}

/// Runs XREAD / XREADGROUP (`args` already has argv\[0\] as the native name).
pub fn run(
    ctx: *mut raw::RedisModuleCtx,
    argv: &[*mut raw::RedisModuleString],
    args: &[&[u8]],
    req: &XreadRequest<'_>,
) {
    let names = key_names(argv, req);
    let ectx = exec_ctx(ctx);
    let blocking_ok = can_block(ctx);
    // What the keys hold, looked up once.
    let kinds: Vec<Kind> = names
        .iter()
        .map(|&n| key_kind(OpenKey::open(ctx, n, false).0))
        .collect();
    let mut any_module = kinds.iter().any(|k| matches!(k, Kind::Module(_)));
    let any_native = kinds.iter().any(|k| matches!(k, Kind::Native));
    // Options the host lacks (CLAIM before Redis 8.4) need module streams.
    let needs_module = req.needs_module_stream() && !crate::server::host::host().native_claim;
    if needs_module {
        for (&n, kind) in names.iter().zip(&kinds) {
            if matches!(kind, Kind::Native) {
                if let Err(e) = convert_native(ctx, n) {
                    ModuleReply::new(ctx).error(&e);
                    return;
                }
                any_module = true;
            }
        }
    }
    // With only missing keys, a `+` ID (Redis 7.4) is the module's to serve
    // when new streams are module streams; a native key keeps the native
    // answer (7.0 rejects `+`).
    let plus_for_module = config::capture() && req.ids.iter().any(|a| *a == b"+") && !any_native;
    if !any_module && !needs_module && !plus_for_module {
        let wants_block = req.block.is_some() && blocking_ok;
        if forward_once(ctx, req, argv, !wants_block) {
            return;
        }
        let mut resolved = resolve_dollars(ctx, argv, req);
        // Stored under the standard name, as the module-served form is.
        if let Some(a0) = resolved.first_mut() {
            *a0 = native(req).to_ascii_lowercase().into_bytes();
        }
        let timeout = req.block.unwrap_or(0);
        block(
            ctx,
            &names,
            timeout,
            Blocked {
                argv: resolved,
                spec: None,
                db: 0,
                keys: Vec::new(),
                bc: std::ptr::null_mut(),
                gone: None,
                timer: 0,
            },
        );
        return;
    }
    let mut out = ModuleReply::new(ctx);
    let own = crate::server::api::OwnArgs {
        bytes: args,
        strs: argv,
    };
    if let Some(spec) = serve_module(ctx, req, &names, &ectx, None, &mut out, own) {
        if blocking_ok {
            let timeout = spec.timeout_ms;
            block(
                ctx,
                &names,
                timeout,
                Blocked {
                    argv: args.iter().map(|a| a.to_vec()).collect(),
                    spec: Some(spec),
                    db: 0,
                    keys: Vec::new(),
                    bc: std::ptr::null_mut(),
                    gone: None,
                    timer: 0,
                },
            );
        } else {
            out.null_array();
        }
    }
}

/// Re-runs a blocked read; OK when it replied, ERR to keep waiting (with
/// the new claim wake-up time of XREADGROUP CLAIM).
fn retry(ctx: *mut raw::RedisModuleCtx, b: &Blocked) -> Result<(), Option<u64>> {
    let slices: Vec<&[u8]> = b.argv.iter().map(|a| a.as_slice()).collect();
    let xreadgroup = b.is_group();
    let Ok(req) = XreadRequest::parse(
        &slices,
        xreadgroup,
        if xreadgroup { "xreadgroup" } else { "xread" },
    ) else {
        ModuleReply::new(ctx).null_array();
        return Ok(());
    };
    let strings: Vec<*mut raw::RedisModuleString> =
        slices.iter().map(|a| create_string(ctx, a)).collect();
    let names = key_names(&strings, &req);
    if !any_module_key(ctx, &names) {
        return if forward_once(ctx, &req, &strings, false) {
            Ok(())
        } else {
            Err(None)
        };
    }
    let ectx = exec_ctx(ctx);
    let mut out = ModuleReply::new(ctx);
    let own = crate::server::api::OwnArgs {
        bytes: &slices,
        strs: &strings,
    };
    match serve_module(ctx, &req, &names, &ectx, b.spec.as_ref(), &mut out, own) {
        None => Ok(()),
        Some(spec) => Err(spec.claim_wake_ms),
    }
}

/// Whether the key that woke a blocked read lets it be re-run. As Redis
/// serves a client blocked on a stream key only when the key now holds a
/// stream (blocked.c, handleClientsBlockedOnKey), XREAD keeps waiting when
/// the key is missing or of another type (`XADD + DEL + LPUSH` in one
/// transaction); XREADGROUP is re-run on any change, as the server does for
/// it (unblock_on_nokey), and answers what the key now holds.
fn ready_key_serves(ctx: *mut raw::RedisModuleCtx, b: &Blocked) -> bool {
    if b.is_group() {
        return true;
    }
    let key = rm!(RedisModule_GetBlockedClientReadyKey(ctx)).unwrap_or(std::ptr::null_mut());
    if key.is_null() {
        return true;
    }
    let k = OpenKey::open(ctx, key, false);
    matches!(key_kind(k.0), Kind::Module(_) | Kind::Native)
}

extern "C" fn on_ready(
    ctx: *mut raw::RedisModuleCtx,
    _argv: *mut *mut raw::RedisModuleString,
    _argc: c_int,
) -> c_int {
    crate::server::api::auto_memory(ctx);
    let served = crate::server::guard::guard(true, || {
        let p = rm!(RedisModule_GetBlockedClientPrivateData(ctx)).unwrap_or(std::ptr::null_mut());
        // SAFETY: the private data is the Box<Blocked> given at block time,
        // alive until free_blocked.
        match unsafe { p.cast::<Blocked>().as_mut() } {
            Some(b) if !ready_key_serves(ctx, b) => false,
            Some(b) => match retry(ctx, b) {
                Ok(()) => true,
                Err(wake_at) => {
                    if let Some(at) = wake_at {
                        arm_timer(ctx, b, at.saturating_sub(crate::server::api::now_ms()));
                    }
                    false
                }
            },
            None => {
                ModuleReply::new(ctx).null_array();
                true
            }
        }
    });
    if served {
        raw::Status::Ok as c_int
    } else {
        raw::Status::Err as c_int
    }
}

/// What a gone key holds when the ended XREADGROUP is answered, after the
/// whole command (or transaction) that ended it: `MULTI; DEL k; SADD k e;
/// EXEC` first deletes the key, then gives it another type, and Redis, which
/// serves blocked clients only after EXEC, answers WRONGTYPE.
fn gone_now(ctx: *mut raw::RedisModuleCtx, b: &Blocked) -> Gone {
    let current = rm!(RedisModule_GetSelectedDb(ctx)).unwrap_or(0);
    let _ = rm!(RedisModule_SelectDb(ctx, b.db));
    let other = b.keys.iter().any(|k| {
        let key = OpenKey::open(ctx, create_string(ctx, k), false);
        matches!(key_kind(key.0), Kind::Other)
    });
    let _ = rm!(RedisModule_SelectDb(ctx, current));
    if other {
        Gone::WrongType
    } else {
        b.gone.unwrap_or(Gone::Missing)
    }
}

extern "C" fn on_timeout(
    ctx: *mut raw::RedisModuleCtx,
    _argv: *mut *mut raw::RedisModuleString,
    _argc: c_int,
) -> c_int {
    crate::server::api::auto_memory(ctx);
    crate::server::guard::guard((), || {
        let p = rm!(RedisModule_GetBlockedClientPrivateData(ctx)).unwrap_or(std::ptr::null_mut());
        // SAFETY: the private data is the Box<Blocked> given at block time.
        match unsafe { p.cast::<Blocked>().as_ref() } {
            Some(b) if b.gone.is_some() => match gone_now(ctx, b) {
                Gone::Missing => ModuleReply::new(ctx).error(&nogroup(b)),
                Gone::WrongType => ModuleReply::new(ctx).error(WRONGTYPE),
            },
            _ => ModuleReply::new(ctx).null_array(),
        }
    });
    raw::Status::Ok as c_int
}

extern "C" fn free_blocked(ctx: *mut raw::RedisModuleCtx, p: *mut c_void) {
    crate::server::guard::guard((), || {
        if !p.is_null() {
            // SAFETY: `p` is the Box<Blocked> given at block time; the server
            // frees it exactly once.
            let b = unsafe { Box::from_raw(p.cast::<Blocked>()) };
            wake::remove(b.db, &b.keys, p as usize);
            if b.timer != 0 && !ctx.is_null() {
                let _ = rm!(RedisModule_StopTimer(ctx, b.timer, std::ptr::null_mut()));
            }
        }
    });
}
