//! The consumer-group half of XREADGROUP: `streamReplyWithRange` with a
//! group and consumer, and `streamReplyWithRangeFromConsumerPEL` for
//! history reads (Redis 7.0). The parser and the multi-key driver are in
//! [`super::xread`].
//!
//! Propagation (exact effects, under module names):
//! * every entry delivered with a PEL entry: `idmp.xclaim key group consumer
//!   0 id TIME t RETRYCOUNT n FORCE JUSTID LASTID last` (as 7.0);
//! * a read that moved the group: `idmp.xgroup SETID key group last
//!   ENTRIESREAD n` (7.0 does this for NOACK only and lets XCLAIM's LASTID
//!   carry the last ID otherwise, which leaves a replica's `entries_read`
//!   behind; sending it always keeps the replica exact);
//! * a consumer created by the read: `idmp.xgroup CREATECONSUMER` (7.0 does
//!   this for NOACK only; doing it always keeps a replica's consumers equal
//!   when nothing is delivered);
//! * a history read that re-delivered entries: `idmp.xclaim` of each (7.0
//!   propagates nothing there, so a native replica's delivery counts drift;
//!   a module replica's do not).

use super::cg::{propagate_consumer_creation, propagate_group_id, propagate_xclaim};
use super::range::reply_entry;
use super::reply::Reply;
use super::{Effects, ExecCtx};
use crate::stream::groups::StreamMeta;
use crate::stream::stream::Stream;
use crate::stream::StreamId;

/// Serves one key of an XREADGROUP: writes its entries array and returns
/// the key's effects. `from` is inclusive; `history` serves the consumer's
/// own pending entries from `from`.
#[allow(clippy::too_many_arguments)]
pub fn serve_group(
    s: &mut Stream,
    key: &[u8],
    group: &[u8],
    consumer: &[u8],
    from: StreamId,
    count: u64,
    noack: bool,
    history: bool,
    ctx: &ExecCtx,
    reply: &mut dyn Reply,
) -> Effects {
    let mut fx = Effects::default();
    let now = ctx.now_ms;
    let meta = StreamMeta::of(s);
    let Stream { store, groups, .. } = s;
    let Some(g) = groups.get_mut(group) else {
        reply.array(0);
        return fx;
    };
    if g.ensure_consumer(consumer, now) {
        fx.events.push("xgroup-createconsumer");
        propagate_consumer_creation(&mut fx, key, group, consumer);
    }
    let limit = if count == 0 {
        usize::MAX
    } else {
        usize::try_from(count).unwrap_or(usize::MAX)
    };
    if history {
        let ids: Vec<StreamId> = g
            .consumer(consumer)
            .map(|c| c.pel_range(from, StreamId::MAX).take(limit).collect())
            .unwrap_or_default();
        reply.array(ids.len());
        let mut delivered = false;
        for id in ids {
            match store.get(id) {
                Some(e) => {
                    reply_entry(reply, &e);
                    let last = g.last_id;
                    if let Some(n) = g.redeliver(id, now) {
                        let n = n.clone();
                        propagate_xclaim(&mut fx, key, group, id, &n, last);
                    }
                    delivered = true;
                }
                None => {
                    reply.array(2);
                    reply.stream_id(id);
                    reply.null_array();
                }
            }
        }
        if delivered {
            g.mark_active(consumer, now);
        }
        return fx;
    }
    let entries: Vec<_> = store.range(from, StreamId::MAX).take(limit).collect();
    reply.array(entries.len());
    let mut propagate_last_id = false;
    for e in &entries {
        let id = e.id();
        if g.advance(id, &meta) {
            propagate_last_id = true;
        }
        reply_entry(reply, e);
        if !noack {
            let last = g.last_id;
            if let Some(n) = g.deliver(id, consumer, now) {
                let n = n.clone();
                propagate_xclaim(&mut fx, key, group, id, &n, last);
            }
        }
    }
    if !entries.is_empty() {
        g.mark_active(consumer, now);
    }
    if propagate_last_id {
        propagate_group_id(&mut fx, key, group, g.last_id, g.entries_read);
    }
    fx
}
