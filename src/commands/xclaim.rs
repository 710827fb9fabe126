//! XCLAIM, a port of Redis 7.0's `xclaimCommand`. The key and group are
//! checked first (NOGROUP), then min-idle-time, the IDs (up to the first
//! argument that is not one) and the options. Each claimed entry, and each
//! pending entry found deleted, propagates as `idmp.xclaim ... TIME
//! RETRYCOUNT FORCE JUSTID LASTID` (`streamPropagateXCLAIM`); a LASTID that
//! moved the group and was not carried by such a claim as `idmp.xgroup SETID`.

use super::cg::{
    nogroup_key_or_group, propagate_consumer_creation, propagate_group_id, propagate_xclaim,
};
use super::range::reply_entry;
use super::reply::Reply;
use super::util::{check_arity, is_kw, show};
use super::{CmdError, Effects, ExecCtx};
use crate::stream::id::{parse_strict_id, string2ll, ERR_INVALID_ID};
use crate::stream::stream::Stream;
use crate::stream::StreamId;

/// A parsed XCLAIM (arguments are checked at exec time, after the group).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XclaimRequest<'a> {
    /// The key.
    pub key: &'a [u8],
    /// The group.
    pub group: &'a [u8],
    /// The consumer.
    pub consumer: &'a [u8],
    /// min-idle-time, IDs and options.
    pub rest: Vec<&'a [u8]>,
}

/// The arguments after the consumer, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
struct ClaimArgs {
    min_idle: i64,
    ids: Vec<StreamId>,
    delivery_time: Option<i64>,
    retry: Option<i64>,
    force: bool,
    justid: bool,
    deleted_ok: bool,
    last_id: StreamId,
}

fn ll(arg: &[u8], msg: &str) -> Result<i64, String> {
    string2ll(arg).ok_or_else(|| format!("ERR {msg}"))
}

impl<'a> XclaimRequest<'a> {
    /// Parses `XCLAIM key group consumer min-idle-time id [id ...] [options]` (arity only).
    pub fn parse(argv: &[&'a [u8]], name: &str) -> Result<Self, CmdError> {
        check_arity(argv, -6, name)?;
        let arg = |i: usize| argv.get(i).copied().unwrap_or_default();
        Ok(XclaimRequest {
            key: arg(1),
            group: arg(2),
            consumer: arg(3),
            rest: argv.get(4..).unwrap_or_default().to_vec(),
        })
    }

    fn args(&self, now: i64, trusted: bool) -> Result<ClaimArgs, CmdError> {
        let mut it = self.rest.iter().copied().peekable();
        let min_idle = ll(
            it.next().unwrap_or_default(),
            "Invalid min-idle-time argument for XCLAIM",
        )?
        .max(0);
        let mut ids = Vec::new();
        while let Some(id) = it.peek().and_then(|a| parse_strict_id(a)) {
            ids.push(id);
            it.next();
        }
        let mut a = ClaimArgs {
            min_idle,
            ids,
            delivery_time: None,
            retry: None,
            force: false,
            justid: false,
            last_id: StreamId::MIN,
            deleted_ok: false,
        };
        while let Some(opt) = it.next() {
            let more = it.peek().is_some();
            if is_kw(opt, "FORCE") {
                a.force = true;
            } else if trusted && is_kw(opt, "DELETEDOK") {
                a.deleted_ok = true;
            } else if is_kw(opt, "JUSTID") {
                a.justid = true;
            } else if is_kw(opt, "IDLE") && more {
                let v = ll(
                    it.next().unwrap_or_default(),
                    "Invalid IDLE option argument for XCLAIM",
                )?;
                a.delivery_time = Some(now.wrapping_sub(v));
            } else if is_kw(opt, "TIME") && more {
                a.delivery_time = Some(ll(
                    it.next().unwrap_or_default(),
                    "Invalid TIME option argument for XCLAIM",
                )?);
            } else if is_kw(opt, "RETRYCOUNT") && more {
                a.retry = Some(ll(
                    it.next().unwrap_or_default(),
                    "Invalid RETRYCOUNT option argument for XCLAIM",
                )?);
            } else if is_kw(opt, "LASTID") && more {
                a.last_id = parse_strict_id(it.next().unwrap_or_default()).ok_or(ERR_INVALID_ID)?;
            } else {
                return Err(format!("ERR Unrecognized XCLAIM option '{}'", show(opt)));
            }
        }
        Ok(a)
    }

    /// Claims.
    pub fn exec(
        &self,
        stream: Option<&mut Stream>,
        ctx: &ExecCtx,
        reply: &mut dyn Reply,
    ) -> Effects<'_> {
        let mut fx = Effects::default();
        let Some(s) = stream.filter(|s| s.groups.get(self.group).is_some()) else {
            reply.error(&nogroup_key_or_group(self.key, self.group));
            return fx;
        };
        let now = i64::try_from(ctx.now_ms).unwrap_or(i64::MAX);
        let a = match self.args(now, ctx.trusted) {
            Ok(a) => a,
            Err(e) => {
                reply.error(&e);
                return fx;
            }
        };
        let Stream { store, groups, .. } = s;
        let Some(g) = groups.get_mut(self.group) else {
            return fx;
        };
        let mut propagate_last_id = false;
        if a.last_id > g.last_id {
            g.last_id = a.last_id;
            propagate_last_id = true;
        }
        // A bogus time becomes now, as 7.0 does; a trusted caller (master
        // link, AOF) keeps the time it gives, so that a replica whose clock
        // lags the master's still gets the master's delivery time.
        let delivery_time = match a.delivery_time {
            Some(t) if t >= 0 && (t <= now || ctx.trusted) => t as u64,
            _ => ctx.now_ms,
        };
        let retry = a.retry.filter(|r| *r >= 0).map(|r| r as u64);
        // Redis 7.2+: the consumer is looked up (seen-time refreshed) or
        // created before anything is claimed, even when nothing is.
        if g.ensure_consumer(self.consumer, ctx.now_ms) {
            fx.events.push("xgroup-createconsumer");
            propagate_consumer_creation(&mut fx, self.key, self.group, self.consumer);
        }
        let mut claimed: Vec<StreamId> = Vec::new();
        for id in &a.ids {
            let id = *id;
            let existing = g.nack(id).is_some();
            // DELETEDOK (trusted callers, the AOF rewrite): FORCE creates the
            // PEL entry even though its stream entry was deleted.
            let rebuild = a.force && a.deleted_ok;
            if store.get(id).is_none() && !rebuild {
                // Dropped from the PEL, propagated as XCLAIM (as XAUTOCLAIM).
                if let Some(n) = g.remove_nack(id) {
                    propagate_xclaim(
                        &mut fx,
                        self.key,
                        self.group,
                        self.consumer,
                        id,
                        &n,
                        g.last_id,
                    );
                    propagate_last_id = false;
                }
                continue;
            }
            if !existing && !a.force {
                continue;
            }
            if existing && a.min_idle != 0 {
                let t = g.nack(id).map_or(0, |n| n.delivery_time);
                let idle = now.wrapping_sub(i64::try_from(t).unwrap_or(i64::MAX));
                if idle < a.min_idle {
                    continue;
                }
            }
            let last = g.last_id;
            if let Some(n) = g.claim(id, self.consumer, delivery_time, retry, !a.justid) {
                propagate_xclaim(&mut fx, self.key, self.group, self.consumer, id, n, last);
                propagate_last_id = false;
                claimed.push(id);
            }
        }
        if !claimed.is_empty() {
            g.mark_active(self.consumer, ctx.now_ms);
        }
        if propagate_last_id {
            propagate_group_id(&mut fx, self.key, self.group, g.last_id, g.entries_read);
        }
        reply.array(claimed.len());
        for id in claimed {
            match (a.justid, store.get(id)) {
                (false, Some(e)) => reply_entry(reply, &e),
                _ => reply.stream_id(id),
            }
        }
        fx
    }
}
