//! The consumer-group parts of XINFO (Redis 7.0 reply shapes): XINFO
//! GROUPS, XINFO CONSUMERS, the `groups` count of XINFO STREAM and the
//! `groups` array of XINFO STREAM FULL.

use super::cg::{ms, nogroup_for_key};
use super::reply::Reply;
use crate::stream::groups::lag::group_lag;
use crate::stream::groups::{StreamMeta, INVALID_ENTRIES_READ};
use crate::stream::stream::Stream;

fn entries_read(reply: &mut dyn Reply, v: i64) {
    if v != INVALID_ENTRIES_READ {
        reply.int(v);
    } else {
        reply.null();
    }
}

fn lag(reply: &mut dyn Reply, v: Option<i64>) {
    match v {
        Some(l) => reply.int(l),
        None => reply.null(),
    }
}

/// XINFO GROUPS.
pub fn groups_info(s: &Stream, reply: &mut dyn Reply) {
    let meta = StreamMeta::of(s);
    reply.array(s.groups.len());
    for (name, g) in s.groups.iter() {
        reply.map(6);
        reply.bulk(b"name");
        reply.bulk(name);
        reply.bulk(b"consumers");
        reply.int(ms(g.consumer_count()));
        reply.bulk(b"pending");
        reply.int(ms(g.pending()));
        reply.bulk(b"last-delivered-id");
        reply.stream_id(g.last_id);
        reply.bulk(b"entries-read");
        entries_read(reply, g.entries_read);
        reply.bulk(b"lag");
        lag(reply, group_lag(&meta, g));
    }
}

/// XINFO CONSUMERS key group (idle from seen-time, never negative; inactive
/// from active-time, as Redis 7.2+).
pub fn consumers_info(s: &Stream, key: &[u8], group: &[u8], now: u64, reply: &mut dyn Reply) {
    let Some(g) = s.groups.get(group) else {
        reply.error(&nogroup_for_key(key, group));
        return;
    };
    reply.array(usize::try_from(g.consumer_count()).unwrap_or(0));
    for c in g.consumers() {
        reply.map(4);
        reply.bulk(b"name");
        reply.bulk(c.name());
        reply.bulk(b"pending");
        reply.int(ms(c.pending()));
        reply.bulk(b"idle");
        reply.int(ms(now.saturating_sub(c.seen_time)));
        // Redis 7.2+: ms since the consumer was last given entries, -1 never.
        reply.bulk(b"inactive");
        reply.int(if c.active_time == -1 {
            -1
        } else {
            ms(now).wrapping_sub(c.active_time)
        });
    }
}

/// The `groups` value of XINFO STREAM FULL; `count` limits each PEL (0 =
/// all).
pub fn full_groups(s: &Stream, count: u64, reply: &mut dyn Reply) {
    let meta = StreamMeta::of(s);
    let limit = if count == 0 {
        usize::MAX
    } else {
        usize::try_from(count).unwrap_or(usize::MAX)
    };
    reply.array(s.groups.len());
    for (name, g) in s.groups.iter() {
        reply.map(7);
        reply.bulk(b"name");
        reply.bulk(name);
        reply.bulk(b"last-delivered-id");
        reply.stream_id(g.last_id);
        reply.bulk(b"entries-read");
        entries_read(reply, g.entries_read);
        reply.bulk(b"lag");
        lag(reply, group_lag(&meta, g));
        reply.bulk(b"pel-count");
        reply.int(ms(g.pending()));
        reply.bulk(b"pending");
        let pel: Vec<_> = g.pel().take(limit).collect();
        reply.array(pel.len());
        for (id, n) in pel {
            reply.array(4);
            reply.stream_id(id);
            reply.bulk(n.consumer());
            reply.int(ms(n.delivery_time));
            reply.int(ms(n.delivery_count));
        }
        reply.bulk(b"consumers");
        reply.array(usize::try_from(g.consumer_count()).unwrap_or(0));
        for c in g.consumers() {
            reply.map(5);
            reply.bulk(b"name");
            reply.bulk(c.name());
            reply.bulk(b"seen-time");
            reply.int(ms(c.seen_time));
            reply.bulk(b"active-time");
            reply.int(c.active_time);
            reply.bulk(b"pel-count");
            reply.int(ms(c.pending()));
            reply.bulk(b"pending");
            let ids: Vec<_> = c.pel().take(limit).collect();
            reply.array(ids.len());
            for id in ids {
                reply.array(3);
                reply.stream_id(id);
                let n = g.nack(id);
                reply.int(ms(n.map_or(0, |n| n.delivery_time)));
                reply.int(ms(n.map_or(0, |n| n.delivery_count)));
            }
        }
    }
}
