//! XPENDING, a port of Redis 7.0's `xpendingCommand`: the summary form and
//! the extended form `[IDLE min] start end count [consumer]`. Arguments are
//! checked before the key.

use super::cg::{ms, nogroup_key_or_group};
use super::reply::Reply;
use super::util::{check_arity, is_kw, parse_ll, ERR_SYNTAX};
use super::{CmdError, Effects, ExecCtx};
use crate::stream::groups::Nack;
use crate::stream::id::parse_range_bound;
use crate::stream::stream::Stream;
use crate::stream::StreamId;

/// The extended form's arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingRange<'a> {
    /// IDLE (0 = no filter).
    pub min_idle: i64,
    /// Start (inclusive).
    pub start: StreamId,
    /// End (inclusive).
    pub end: StreamId,
    /// COUNT (negative given as 0).
    pub count: u64,
    /// Only this consumer's entries.
    pub consumer: Option<&'a [u8]>,
}

/// A parsed XPENDING.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XpendingRequest<'a> {
    /// The key.
    pub key: &'a [u8],
    /// The group.
    pub group: &'a [u8],
    /// `None` for the summary form.
    pub range: Option<PendingRange<'a>>,
}

impl<'a> XpendingRequest<'a> {
    /// Parses XPENDING.
    pub fn parse(argv: &[&'a [u8]], name: &str) -> Result<Self, CmdError> {
        check_arity(argv, -3, name)?;
        let argc = argv.len();
        let arg = |i: usize| argv.get(i).copied().unwrap_or_default();
        if argc != 3 && !(6..=9).contains(&argc) {
            return Err(ERR_SYNTAX.into());
        }
        let mut range = None;
        if argc >= 6 {
            let mut startidx = 3;
            let mut min_idle = 0;
            if is_kw(arg(3), "IDLE") {
                min_idle = parse_ll(arg(4))?;
                if argc < 8 {
                    return Err(ERR_SYNTAX.into());
                }
                startidx += 2;
            }
            let count = parse_ll(arg(startidx + 2))?.max(0) as u64;
            let start =
                parse_range_bound(arg(startidx), true).map_err(|e| e.message().to_string())?;
            let end =
                parse_range_bound(arg(startidx + 1), false).map_err(|e| e.message().to_string())?;
            let consumer = (startidx + 3 < argc).then(|| arg(startidx + 3));
            range = Some(PendingRange {
                min_idle,
                start,
                end,
                count,
                consumer,
            });
        }
        Ok(XpendingRequest {
            key: arg(1),
            group: arg(2),
            range,
        })
    }

    /// Replies (read-only).
    pub fn exec<'s>(
        &self,
        stream: Option<&'s Stream>,
        ctx: &ExecCtx,
        reply: &mut dyn Reply,
    ) -> Effects<'_> {
        let fx = Effects::default();
        let Some(g) = stream.and_then(|s| s.groups.get(self.group)) else {
            reply.error(&nogroup_key_or_group(self.key, self.group));
            return fx;
        };
        let now = ctx.now_ms;
        let Some(r) = &self.range else {
            reply.array(4);
            reply.int(ms(g.pending()));
            let (Some((first, _)), Some((last, _))) = (g.pel().next(), g.pel().next_back()) else {
                reply.null();
                reply.null();
                reply.null_array();
                return fx;
            };
            reply.stream_id(first);
            reply.stream_id(last);
            let owners: Vec<_> = g.consumers().filter(|c| c.pending() > 0).collect();
            reply.array(owners.len());
            for c in owners {
                reply.array(2);
                reply.bulk(c.name());
                reply.bulk(c.pending().to_string().as_bytes());
            }
            return fx;
        };
        let idle_of = |t: u64| i64::try_from(now).unwrap_or(i64::MAX) - ms(t);
        let mut rows: Vec<(StreamId, &[u8], i64, u64)> = Vec::new();
        let mut left = r.count;
        let mut push = |id: StreamId, n: &'s Nack| -> bool {
            if left == 0 {
                return false;
            }
            let idle = idle_of(n.delivery_time);
            if r.min_idle != 0 && idle < r.min_idle {
                return true;
            }
            left -= 1;
            rows.push((id, n.consumer(), idle.max(0), n.delivery_count));
            true
        };
        match r.consumer {
            Some(name) => {
                let Some(c) = g.consumer(name) else {
                    reply.array(0);
                    return fx;
                };
                for id in c.pel_range(r.start, r.end) {
                    if let Some(n) = g.nack(id) {
                        if !push(id, n) {
                            break;
                        }
                    }
                }
            }
            None => {
                for (id, n) in g.pel_range(r.start, r.end) {
                    if !push(id, n) {
                        break;
                    }
                }
            }
        }
        reply.array(rows.len());
        for (id, consumer, idle, count) in rows {
            reply.array(4);
            reply.stream_id(id);
            reply.bulk(consumer);
            reply.int(idle);
            reply.int(i64::try_from(count).unwrap_or(i64::MAX));
        }
        fx
    }
}
