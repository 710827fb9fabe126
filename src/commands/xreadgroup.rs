//! The consumer-group half of XREADGROUP: `streamReplyWithRange` with a
//! group and consumer, and `streamReplyWithRangeFromConsumerPEL` for
//! history reads (Redis 7.0). The parser and the multi-key driver are in
//! [`super::xread`].
//!
//! Propagation (exact effects, under module names):
//! * every entry delivered with a PEL entry: `idmp.xclaim key group consumer
//!   0 id TIME t RETRYCOUNT n FORCE JUSTID LASTID last`, `last` the group's
//!   last ID from before the read (as 8.6.3; 7.0 sends it after each entry);
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

use super::cg::{ms, propagate_consumer_creation, propagate_group_id, propagate_xclaim};
use super::range::reply_entry;
use super::reply::Reply;
use super::{Effects, ExecCtx};
use crate::stream::groups::{ConsumerGroup, StreamMeta};
use crate::stream::stream::Stream;
use crate::stream::StreamId;

/// How one key of an XREADGROUP is served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServeOpts {
    /// First ID (inclusive) of new entries, or of the consumer's history.
    pub from: StreamId,
    /// COUNT (0 = no limit).
    pub count: u64,
    /// NOACK: new entries get no PEL entry.
    pub noack: bool,
    /// Serve the consumer's own pending entries from `from`.
    pub history: bool,
    /// CLAIM min-idle-time (Redis 8.4); ignored for history reads.
    pub claim: Option<u64>,
}

/// The pending entries of `g` that CLAIM `min_idle` takes: idle at least
/// that long and still in the stream, in ID order, with their idle time.
pub fn claimable<'a>(
    s: &'a Stream,
    g: &'a ConsumerGroup,
    now: u64,
    min_idle: u64,
) -> impl Iterator<Item = (StreamId, u64)> + 'a {
    g.pel()
        .map(move |(id, n)| (id, now.saturating_sub(n.delivery_time)))
        .filter(move |(id, idle)| *idle >= min_idle && s.store.get(*id).is_some())
}

/// Serves one key of an XREADGROUP: writes its entries array and returns
/// the key's effects.
///
/// With CLAIM (and `>`), pending entries idle at least min-idle-time are
/// first claimed by the reader (delivery time now, count + 1, propagated as
/// `idmp.xclaim`), then new entries follow within the same COUNT; every
/// entry is then `[id, fields, idle-ms, delivery-count]`, where a claimed
/// entry shows its idle time and delivery count from before this read and
/// a new entry 0 and 0.
pub fn serve_group<'a>(
    s: &mut Stream,
    key: &'a [u8],
    group: &'a [u8],
    consumer: &'a [u8],
    o: &ServeOpts,
    ctx: &ExecCtx,
    reply: &mut dyn Reply,
) -> Effects<'a> {
    let mut fx = Effects::default();
    let now = ctx.now_ms;
    let meta = StreamMeta::of(s);
    let claims: Vec<(StreamId, u64)> = match (o.claim, o.history, s.groups.get(group)) {
        (Some(min), false, Some(g)) => claimable(s, g, now, min).collect(),
        _ => Vec::new(),
    };
    let Stream { store, groups, .. } = s;
    let Some(g) = groups.get_mut(group) else {
        reply.array(0);
        return fx;
    };
    if g.ensure_consumer(consumer, now) {
        fx.events.push("xgroup-createconsumer");
        propagate_consumer_creation(&mut fx, key, group, consumer);
    }
    let limit = if o.count == 0 {
        usize::MAX
    } else {
        usize::try_from(o.count).unwrap_or(usize::MAX)
    };
    if o.history {
        let ids: Vec<StreamId> = g
            .consumer(consumer)
            .map(|c| c.pel_range(o.from, StreamId::MAX).take(limit).collect())
            .unwrap_or_default();
        reply.array(ids.len());
        for id in ids {
            match store.get(id) {
                Some(e) => {
                    reply_entry(reply, &e);
                    let last = g.last_id;
                    if let Some(n) = g.redeliver(id, now) {
                        propagate_xclaim(&mut fx, key, group, consumer, id, n, last);
                    }
                }
                None => {
                    reply.array(2);
                    reply.stream_id(id);
                    reply.null_array();
                }
            }
        }
        // Redis 8.6 leaves active-time alone for history reads.
        return fx;
    }
    let claims: Vec<(StreamId, u64)> = claims.into_iter().take(limit).collect();
    let entries: Vec<_> = store
        .range(o.from, StreamId::MAX)
        .take(limit.saturating_sub(claims.len()))
        .collect();
    let with_meta = o.claim.is_some();
    // Every XCLAIM carries the group's last ID from before the read, as
    // 8.6.3's `streamReplyWithRange` makes it once (7.0: after each entry);
    // the SETID after them moves a replica's group.
    let last_before = g.last_id;
    reply.array(claims.len() + entries.len());
    for (id, idle) in &claims {
        let before = g.nack(*id).map_or(0, |n| n.delivery_count);
        let Some(e) = store.get(*id) else {
            continue;
        };
        reply.array(4);
        reply.stream_id(*id);
        reply.array(e.field_count() * 2);
        for (f, v) in e.fields() {
            reply.bulk(f);
            reply.bulk(v);
        }
        reply.int(ms(*idle));
        reply.int(ms(before));
        if let Some(n) = g.claim(*id, consumer, now, None, true) {
            propagate_xclaim(&mut fx, key, group, consumer, *id, n, last_before);
        }
    }
    let mut propagate_last_id = false;
    for e in &entries {
        let id = e.id();
        if g.advance(id, &meta) {
            propagate_last_id = true;
        }
        if with_meta {
            reply.array(4);
            reply.stream_id(id);
            reply.array(e.field_count() * 2);
            for (f, v) in e.fields() {
                reply.bulk(f);
                reply.bulk(v);
            }
            reply.int(0);
            reply.int(0);
        } else {
            reply_entry(reply, e);
        }
        if !o.noack {
            if let Some(n) = g.deliver(id, consumer, now) {
                propagate_xclaim(&mut fx, key, group, consumer, id, n, last_before);
            }
        }
    }
    // Redis 8.6: active-time moves when entries enter the consumer's PEL
    // (not under NOACK) or are claimed.
    if (!entries.is_empty() && !o.noack) || !claims.is_empty() {
        g.mark_active(consumer, now);
    }
    if propagate_last_id {
        propagate_group_id(&mut fx, key, group, g.last_id, g.entries_read);
    }
    fx
}
