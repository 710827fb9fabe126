//! XAUTOCLAIM, a port of Redis 7.0's `xautoclaimCommand`: arguments are
//! checked before the key; the scan visits at most `COUNT * 10` PEL entries;
//! pending entries whose stream entry is gone are dropped and listed.
//! Every change propagates as `idmp.xclaim` (`streamPropagateXCLAIM`).

use super::cg::{nogroup_key_or_group, propagate_consumer_creation, propagate_xclaim};
use super::range::reply_entry;
use super::reply::Reply;
use super::util::{check_arity, is_kw, ERR_SYNTAX};
use super::{CmdError, Effects, ExecCtx};
use crate::stream::id::{parse_range_bound, string2ll};
use crate::stream::stream::Stream;
use crate::stream::StreamId;

/// `LONG_MAX / max(sizeof(streamID), attempts_factor)`.
const MAX_COUNT: i64 = i64::MAX / 16;

/// A parsed XAUTOCLAIM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XautoclaimRequest<'a> {
    /// The key.
    pub key: &'a [u8],
    /// The group.
    pub group: &'a [u8],
    /// The consumer.
    pub consumer: &'a [u8],
    /// min-idle-time (negative as 0).
    pub min_idle: i64,
    /// Start of the scan (inclusive).
    pub start: StreamId,
    /// COUNT (default 100).
    pub count: u64,
    /// JUSTID.
    pub justid: bool,
}

impl<'a> XautoclaimRequest<'a> {
    /// Parses `XAUTOCLAIM key group consumer min-idle-time start [COUNT n] [JUSTID]`.
    pub fn parse(argv: &[&'a [u8]], name: &str) -> Result<Self, CmdError> {
        check_arity(argv, -6, name)?;
        let arg = |i: usize| argv.get(i).copied().unwrap_or_default();
        let min_idle = string2ll(arg(4))
            .ok_or("ERR Invalid min-idle-time argument for XAUTOCLAIM")?
            .max(0);
        let start = parse_range_bound(arg(5), true).map_err(|e| e.message().to_string())?;
        let mut count: i64 = 100;
        let mut justid = false;
        let mut j = 6;
        while j < argv.len() {
            let more = argv.len() - 1 - j;
            let opt = arg(j);
            if is_kw(opt, "COUNT") && more > 0 {
                count = string2ll(arg(j + 1))
                    .filter(|c| (1..=MAX_COUNT).contains(c))
                    .ok_or("ERR COUNT must be > 0")?;
                j += 1;
            } else if is_kw(opt, "JUSTID") {
                justid = true;
            } else {
                return Err(ERR_SYNTAX.into());
            }
            j += 1;
        }
        Ok(XautoclaimRequest {
            key: arg(1),
            group: arg(2),
            consumer: arg(3),
            min_idle,
            start,
            count: count as u64,
            justid,
        })
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
        let Stream { store, groups, .. } = s;
        let Some(g) = groups.get_mut(self.group) else {
            return fx;
        };
        let now = ctx.now_ms;
        let mut count = self.count;
        let mut attempts = count.saturating_mul(10);
        let mut cursor = Some(self.start);
        let mut eof = false;
        // Redis 7.2+: the consumer is looked up (seen-time refreshed) or
        // created before anything is claimed, even when nothing is.
        if g.ensure_consumer(self.consumer, now) {
            fx.events.push("xgroup-createconsumer");
            propagate_consumer_creation(&mut fx, self.key, self.group, self.consumer);
        }
        let mut claimed: Vec<StreamId> = Vec::new();
        let mut deleted: Vec<StreamId> = Vec::new();
        loop {
            if attempts == 0 {
                break;
            }
            attempts -= 1;
            if count == 0 {
                break;
            }
            let Some(id) = cursor.and_then(|c| g.pel_next(c)) else {
                eof = true;
                break;
            };
            cursor = id.incr();
            if store.get(id).is_none() {
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
                }
                deleted.push(id);
                count -= 1;
                continue;
            }
            if self.min_idle != 0 {
                let t = g.nack(id).map_or(0, |n| n.delivery_time);
                let idle = i64::try_from(now)
                    .unwrap_or(i64::MAX)
                    .wrapping_sub(i64::try_from(t).unwrap_or(i64::MAX));
                if idle < self.min_idle {
                    continue;
                }
            }
            let last = g.last_id;
            if let Some(n) = g.claim(id, self.consumer, now, None, !self.justid) {
                propagate_xclaim(&mut fx, self.key, self.group, self.consumer, id, n, last);
                claimed.push(id);
                count -= 1;
            }
        }
        // The cursor: the next pending ID after the last one looked at.
        let next = if eof {
            None
        } else {
            cursor.and_then(|c| g.pel_next(c))
        };
        if !claimed.is_empty() {
            g.mark_active(self.consumer, now);
        }
        reply.array(3);
        reply.stream_id(next.unwrap_or(StreamId::MIN));
        reply.array(claimed.len());
        for id in claimed {
            match (self.justid, store.get(id)) {
                (false, Some(e)) => reply_entry(reply, &e),
                _ => reply.stream_id(id),
            }
        }
        reply.array(deleted.len());
        for id in deleted {
            reply.stream_id(id);
        }
        fx
    }
}
