use super::lag::{estimate_distance_from_first_ever_entry, group_lag, range_has_tombstones};
use super::*;
use crate::stream::StreamId;

fn id(ms: u64, seq: u64) -> StreamId {
    StreamId::new(ms, seq)
}

fn meta(length: u64, added: u64, first: StreamId, last: StreamId, maxdel: StreamId) -> StreamMeta {
    StreamMeta {
        length,
        entries_added: added,
        last_id: last,
        first_id: first,
        max_deleted_id: maxdel,
    }
}

#[test]
fn create_lookup_destroy() {
    let mut g = Groups::new();
    assert!(g.create(b"g1", id(0, 0), -1).is_some());
    assert!(g.create(b"g1", id(5, 0), 3).is_none());
    assert!(g.create(b"a", id(1, 0), 0).is_some());
    let names: Vec<&[u8]> = g.iter().map(|(n, _)| n).collect();
    assert_eq!(names, vec![&b"a"[..], &b"g1"[..]]);
    assert_eq!(g.get(b"g1").map(|c| c.last_id), Some(id(0, 0)));
    assert!(g.destroy(b"g1"));
    assert!(!g.destroy(b"g1"));
    assert_eq!(g.len(), 1);
}

#[test]
fn deliver_reassigns_and_resets_count() {
    let mut g = ConsumerGroup::new(id(0, 0), 0);
    assert!(
        g.deliver(id(1, 0), b"alice", 10).is_none(),
        "consumer must exist"
    );
    assert!(g.ensure_consumer(b"alice", 10));
    assert!(!g.ensure_consumer(b"alice", 20));
    assert_eq!(g.consumer(b"alice").map(|c| c.seen_time), Some(20));
    assert!(g.create_consumer(b"bob", 30));
    g.deliver(id(1, 0), b"alice", 40);
    g.deliver(id(2, 0), b"alice", 40);
    g.redeliver(id(1, 0), 50);
    let n = g.nack(id(1, 0)).unwrap();
    assert_eq!(
        (n.delivery_time, n.delivery_count, n.consumer()),
        (50, 2, &b"alice"[..])
    );
    // Delivered again to bob (XGROUP SETID back): moves, count 1.
    g.deliver(id(1, 0), b"bob", 60);
    let n = g.nack(id(1, 0)).unwrap();
    assert_eq!(
        (n.delivery_time, n.delivery_count, n.consumer()),
        (60, 1, &b"bob"[..])
    );
    assert_eq!(
        g.consumer(b"alice").unwrap().pel().collect::<Vec<_>>(),
        vec![id(2, 0)]
    );
    assert_eq!(
        g.consumer(b"bob").unwrap().pel().collect::<Vec<_>>(),
        vec![id(1, 0)]
    );
    assert_eq!(g.pending(), 2);
    assert!(g.ack(id(1, 0)));
    assert!(!g.ack(id(1, 0)));
    assert_eq!(g.consumer(b"bob").unwrap().pending(), 0);
    assert_eq!(g.delete_consumer(b"alice"), Some(1));
    assert_eq!(g.delete_consumer(b"alice"), None);
    assert_eq!(g.pending(), 0);
    assert_eq!(g.consumer_count(), 1);
}

#[test]
fn claim_moves_sets_and_forces() {
    let mut g = ConsumerGroup::new(id(0, 0), 0);
    g.create_consumer(b"a", 1);
    g.create_consumer(b"b", 1);
    g.deliver(id(3, 0), b"a", 100);
    let n = g.claim(id(3, 0), b"b", 200, None, true).unwrap();
    assert_eq!(
        (n.delivery_time, n.delivery_count, n.consumer()),
        (200, 2, &b"b"[..])
    );
    let n = g.claim(id(3, 0), b"b", 300, None, false).unwrap();
    assert_eq!(n.delivery_count, 2);
    let n = g.claim(id(3, 0), b"a", 300, Some(9), true).unwrap();
    assert_eq!((n.delivery_count, n.consumer()), (9, &b"a"[..]));
    assert_eq!(g.consumer(b"b").unwrap().pending(), 0);
    // FORCE: created with count 1, then bumped (no JUSTID) to 2.
    let n = g.claim(id(4, 0), b"b", 400, None, true).unwrap();
    assert_eq!(n.delivery_count, 2);
    let n = g.claim(id(5, 0), b"b", 400, None, false).unwrap();
    assert_eq!(n.delivery_count, 1);
    assert!(g.claim(id(6, 0), b"zed", 400, None, false).is_none());
    assert_eq!(
        g.pel().map(|(i, _)| i).collect::<Vec<_>>(),
        vec![id(3, 0), id(4, 0), id(5, 0)]
    );
    assert_eq!(g.pel_range(id(4, 0), id(9, 0)).count(), 2);
    assert_eq!(g.pel_range(id(9, 0), id(4, 0)).count(), 0);
    assert_eq!(g.pel_next(id(3, 1)), Some(id(4, 0)));
}

#[test]
fn builder_checks() {
    let mut g = ConsumerGroup::new(id(0, 0), -1);
    assert_eq!(
        g.insert_nack(id(1, 0), b"x", 5, 1),
        Err(group::InsertNackError::NoConsumer)
    );
    assert!(g.insert_consumer(b"x", 7, 8));
    assert!(!g.insert_consumer(b"x", 7, 8));
    assert_eq!(g.insert_nack(id(1, 0), b"x", 5, 1), Ok(()));
    assert_eq!(
        g.insert_nack(id(1, 0), b"x", 5, 1),
        Err(group::InsertNackError::Duplicate)
    );
    let c = g.consumer(b"x").unwrap();
    assert_eq!((c.seen_time, c.active_time, c.pending()), (7, 8, 1));
}

#[test]
fn tombstones_and_estimates() {
    // Never used.
    let m = meta(0, 0, id(0, 0), id(0, 0), id(0, 0));
    assert_eq!(estimate_distance_from_first_ever_entry(&m, id(5, 0)), 0);
    // 5 entries 1..=5, no deletions.
    let m = meta(5, 5, id(1, 0), id(5, 0), id(0, 0));
    assert!(!range_has_tombstones(&m, None, None));
    assert_eq!(estimate_distance_from_first_ever_entry(&m, id(5, 0)), 5);
    assert_eq!(estimate_distance_from_first_ever_entry(&m, id(6, 0)), -1);
    assert_eq!(estimate_distance_from_first_ever_entry(&m, id(1, 0)), 1);
    assert_eq!(estimate_distance_from_first_ever_entry(&m, id(0, 5)), 0);
    assert_eq!(estimate_distance_from_first_ever_entry(&m, id(3, 0)), -1);
    // 3-0 deleted: tombstone between first and last.
    let m = meta(4, 5, id(1, 0), id(5, 0), id(3, 0));
    assert!(range_has_tombstones(&m, Some(id(2, 0)), None));
    assert!(!range_has_tombstones(&m, Some(id(4, 0)), None));
    assert_eq!(estimate_distance_from_first_ever_entry(&m, id(1, 0)), -1);
    // Trimmed to 4..=5 after deleting 3: the tombstone is behind the first,
    // which Redis 8.6 (unlike 7.0) still counts as a tombstone in range.
    let m = meta(2, 5, id(4, 0), id(5, 0), id(3, 0));
    assert!(range_has_tombstones(&m, None, None));
    assert!(!range_has_tombstones(&m, Some(id(4, 0)), None));
    assert_eq!(estimate_distance_from_first_ever_entry(&m, id(4, 0)), 4);
    // Empty stream after deletions.
    let m = meta(0, 5, id(0, 0), id(5, 0), id(5, 0));
    assert_eq!(estimate_distance_from_first_ever_entry(&m, id(2, 0)), 5);
    assert_eq!(estimate_distance_from_first_ever_entry(&m, id(6, 0)), -1);
}

#[test]
fn advance_and_lag() {
    let m = meta(5, 5, id(1, 0), id(5, 0), id(0, 0));
    let mut g = ConsumerGroup::new(id(0, 0), 0);
    assert_eq!(group_lag(&m, &g), Some(5));
    assert!(g.advance(id(1, 0), &m));
    assert!(!g.advance(id(1, 0), &m));
    assert_eq!((g.entries_read, group_lag(&m, &g)), (1, Some(4)));
    // Invalid counter: estimated from the ID.
    let mut g = ConsumerGroup::new(id(0, 0), -1);
    assert_eq!(group_lag(&m, &g), Some(5));
    g.advance(id(2, 0), &m);
    assert_eq!(g.entries_read, -1);
    assert_eq!(group_lag(&m, &g), None);
    g.advance(id(5, 0), &m);
    assert_eq!((g.entries_read, group_lag(&m, &g)), (5, Some(0)));
    // A tombstone ahead: counter re-estimated (invalid in the middle).
    let m = meta(4, 5, id(1, 0), id(5, 0), id(3, 0));
    let mut g = ConsumerGroup::new(id(0, 0), 0);
    g.advance(id(1, 0), &m);
    assert_eq!(g.entries_read, -1, "the tombstone at 3-0 lies ahead of 1-0");
    assert_eq!(group_lag(&m, &g), None);
    g.advance(id(2, 0), &m);
    assert_eq!(g.entries_read, -1);
    g.advance(id(4, 0), &m);
    assert_eq!(g.entries_read, -1);
    g.advance(id(5, 0), &m);
    assert_eq!((g.entries_read, group_lag(&m, &g)), (5, Some(0)));
}

#[test]
fn references_for_acked_and_delref() {
    let mut g = Groups::new();
    assert!(!g.is_referenced(id(5, 0)), "no group: nothing references");
    let cg = g.create(b"a", id(3, 0), 3).unwrap();
    cg.create_consumer(b"c", 0);
    cg.deliver(id(2, 0), b"c", 0);
    g.create(b"b", id(9, 0), 9).unwrap();
    assert!(g.is_referenced(id(2, 0)), "pending in a");
    assert!(!g.is_referenced(id(1, 0)));
    assert!(g.is_referenced(id(4, 0)), "not yet delivered to a");
    assert_eq!(g.remove_refs(id(2, 0)), vec![b"a".to_vec()]);
    assert!(!g.is_referenced(id(2, 0)));
    assert!(g.remove_refs(id(2, 0)).is_empty());
}
