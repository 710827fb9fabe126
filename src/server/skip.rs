//! When the command filter leaves a routed command to the host (issue 13):
//! routing costs a command on a native stream or a missing key about as much
//! as the command itself (the filter, the module's dispatch, the ACL check,
//! the key opened twice). The host answers these exactly as the module
//! would, whenever the key is not a module stream:
//!
//! - `TYPE key` (the module answers `stream` for a module stream only);
//! - `XLEN key` (0 for a missing key, the length of a native stream, the
//!   same WRONGTYPE text otherwise);
//! - `XADD key * field value [field value ...]` while new streams are native
//!   (`capture-new-streams no`): no option, so nothing the module adds and
//!   no argument error whose text could differ from Redis 8.6.3's (an odd
//!   field count is routed, and so is every option);
//! - `XRANGE`/`XREVRANGE`, `XACK`, and `XREAD`/`XREADGROUP` without BLOCK,
//!   CLAIM or a `+` ID, whose arguments the module's own parser accepts:
//!   routed, the module would forward them unchanged to the host's command
//!   on a native stream and answer for a missing key as the host does (an
//!   empty array, 0, a null, NOGROUP) or WRONGTYPE (the same text); a call
//!   the parser refuses stays routed, for Redis 8.6.3's error text.
//!
//! The key is certainly not a module stream when the name index says no
//! database holds one under its name ([`crate::server::nameidx`]). The
//! filter's decision must hold when the command runs, which is at once
//! except for:
//!
//! - a command queued in MULTI (it runs at EXEC, after the commands queued
//!   before it and after other clients' commands): the filter sees every
//!   MULTI and then routes the commands of the client that sent it (of
//!   every client on Redis 7.0, whose filter cannot tell them apart) until
//!   the server cron finds it out of its transaction ([`crate::server::txn`]);
//! - a command postponed while clients are paused (CLIENT PAUSE, FAILOVER,
//!   shutdown, a manual cluster failover): Redis 7.2+ runs it later without
//!   filtering it again, so nothing is left to the host while the server is
//!   paused (`RedisModule_AvoidReplicaTraffic`). (A command postponed
//!   while another module yields in a long command is postponed before the
//!   server looks it up, so it is filtered again when it runs; Redis 7.0
//!   filters every postponed command again.)
//!
//! Scripts and `RedisModule_Call` filter each command when it runs.

use std::ffi::{c_int, c_void};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use redis_module::raw;

use crate::rm;
use crate::server::api::{self, str_bytes};
use crate::server::guard::guard;
use crate::server::{config, nameidx, txn};

/// The commands the filter may leave to the host.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Skippable {
    /// `TYPE key`.
    Type,
    /// `XLEN key`.
    Xlen,
    /// `XADD key ...`.
    Xadd,
    /// `XRANGE` (`XREVRANGE` when `rev`) `key start end [COUNT n]`.
    Range {
        /// XREVRANGE.
        rev: bool,
    },
    /// `XREAD` (`XREADGROUP` when `group`), keys after STREAMS.
    Read {
        /// XREADGROUP.
        group: bool,
    },
    /// `XACK key group id...`.
    Xack,
}

/// Leaving commands to the host is possible on this server: MULTI is
/// reachable under its own name and the cron runs (set at init).
static ENABLED: AtomicBool = AtomicBool::new(false);
/// A command that may change permissions passed the filter while a client
/// may be in a transaction (it may be queued, to run inside an EXEC).
static PERMISSION_CHANGE_QUEUED: AtomicBool = AtomicBool::new(false);
/// Commands left to the host (INFO).
static LEFT: AtomicU64 = AtomicU64::new(0);

/// The filter saw a command that may change what a client is permitted
/// (aclcache.rs): if a client may be queueing, it may run inside an EXEC,
/// between two commands of the transaction.
pub fn saw_permission_change() {
    if txn::any() {
        PERMISSION_CHANGE_QUEUED.store(true, Ordering::SeqCst);
    }
}

/// Whether a routed command inside EXEC may use the cached permission
/// decisions: no command that changes permissions can be queued in a
/// transaction (the filter sees every MULTI and every such command, and
/// the mark stays until the cron finds no client in a transaction). Off
/// where the filter cannot see MULTI (renamed) or the cron does not run.
pub fn exec_may_use_cached_permissions() -> bool {
    ENABLED.load(Ordering::SeqCst) && !PERMISSION_CHANGE_QUEUED.load(Ordering::SeqCst)
}

/// Whether the filter leaves this call to the host; `argc` has passed the
/// native arity, `arg` reads an argument of the call, `client` names its
/// client (0: unknown).
pub fn leave_to_host(
    which: Skippable,
    argc: c_int,
    arg: impl Fn(c_int) -> *mut raw::RedisModuleString,
    client: impl FnOnce() -> u64,
) -> bool {
    if !ENABLED.load(Ordering::Relaxed) || txn::may_be_queueing(client) {
        return false;
    }
    if which == Skippable::Xadd && (config::capture() || argc % 2 == 0 || str_bytes(arg(2)) != b"*")
    {
        return false;
    }
    if !matches!(which, Skippable::Read { .. })
        && nameidx::INDEX.may_hold_lazy(|| str_bytes(arg(1)))
    {
        return false;
    }
    if matches!(
        which,
        Skippable::Range { .. } | Skippable::Read { .. } | Skippable::Xack
    ) && !parses_for_host(argc, &arg, which)
    {
        return false;
    }
    // A paused client's command runs later, unfiltered on Redis 7.2+.
    if rm!(RedisModule_AvoidReplicaTraffic()).unwrap_or(1) != 0 {
        return false;
    }
    crate::server::stats::bump(&LEFT, 1);
    true
}

/// Whether the module's parser accepts this call, in a form the module
/// would forward unchanged to a native stream: XRANGE/XREVRANGE; XACK;
/// XREAD/XREADGROUP without BLOCK (the module blocks readers itself), CLAIM
/// (module streams only) or a `+` ID (the module serves it on a missing
/// key, Redis 7.0 refuses it), on keys none of which may hold a module
/// stream. At most 16 arguments are looked at; a longer call stays routed.
fn parses_for_host(
    argc: c_int,
    arg: &impl Fn(c_int) -> *mut raw::RedisModuleString,
    which: Skippable,
) -> bool {
    use crate::commands::{range::RangeRequest, xack::XackRequest, xread::XreadRequest};
    if let (Skippable::Range { .. }, 4 | 6) = (which, argc) {
        // The common forms, without fetching the name and the key again or
        // parsing: a false here says nothing, the parse below decides.
        let mut tail: [&[u8]; 4] = [&[]; 4];
        let tail = &mut tail[..(argc - 2) as usize];
        for (i, a) in tail.iter_mut().enumerate() {
            *a = str_bytes(arg(i as c_int + 2));
        }
        if RangeRequest::surely_parses(tail) {
            return true;
        }
    }
    let mut buf: [&[u8]; 16] = [&[]; 16];
    let Some(args) = usize::try_from(argc).ok().and_then(|n| buf.get_mut(..n)) else {
        return false;
    };
    for (i, a) in args.iter_mut().enumerate() {
        *a = str_bytes(arg(i as c_int));
    }
    let args: &[&[u8]] = args;
    // The command's own parser, as the general parse dispatches to it by
    // name (which the filter already matched): the same acceptance.
    match which {
        Skippable::Range { rev } => RangeRequest::parse(args, rev, "xrange").is_ok(),
        Skippable::Xack => XackRequest::parse(args, "xack").is_ok(),
        Skippable::Read { group } => {
            let readable = |keys: &[&[u8]], ids: &[&[u8]]| {
                !ids.iter().any(|id| *id == b"+")
                    && !keys.iter().any(|k| nameidx::INDEX.may_hold_lazy(|| k))
            };
            // The common forms without the parse's allocations.
            if let Some((first, n)) = XreadRequest::quick_split(args, group) {
                let (keys, ids) = args.get(first..).unwrap_or_default().split_at(n);
                return readable(keys, ids);
            }
            XreadRequest::parse(args, group, "xread")
                .is_ok_and(|x| x.block.is_none() && x.claim.is_none() && readable(&x.keys, &x.ids))
        }
        _ => false,
    }
}

/// (commands left to the host, leaving suspended: off on this server or a
/// client may be in a transaction, suspended for every client: off or a
/// transaction the filter could not attribute, clients listed in a
/// transaction) for INFO.
pub fn counters() -> (u64, bool, bool, usize) {
    let off = !ENABLED.load(Ordering::Relaxed);
    (
        LEFT.load(Ordering::Relaxed),
        off || txn::any(),
        off || txn::all(),
        txn::listed(),
    )
}

extern "C" fn on_cron(
    ctx: *mut raw::RedisModuleCtx,
    _eid: raw::RedisModuleEvent,
    _sub: u64,
    _data: *mut c_void,
) {
    if !txn::any() {
        return;
    }
    guard((), || {
        if txn::cron(ctx) {
            PERMISSION_CHANGE_QUEUED.store(false, Ordering::SeqCst);
        }
    })
}

/// Turns leaving commands to the host on, when the host's MULTI is reachable
/// under its own name (a renamed MULTI would queue unseen) and the cron
/// event can be subscribed.
pub fn init(ctx: *mut raw::RedisModuleCtx, multi_is_multi: bool) {
    nameidx::init(ctx);
    if !multi_is_multi {
        api::log(
            ctx,
            "notice",
            "idmp: MULTI is renamed: every stream command is routed",
        );
        return;
    }
    txn::init(ctx);
    let ok = api::subscribe_event(ctx, raw::REDISMODULE_EVENT_CRON_LOOP, on_cron);
    ENABLED.store(ok, Ordering::SeqCst);
}
