//! One consumer group (`streamCG`) and its pending entries (`streamNACK`).

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;
use std::sync::Arc;

use super::consumer::Consumer;
use super::lag::{estimate_distance_from_first_ever_entry, range_has_tombstones, StreamMeta};
use super::INVALID_ENTRIES_READ;
use crate::stream::StreamId;

/// A pending entry: delivered, not yet acknowledged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Nack {
    /// Last delivery time (ms since the epoch).
    pub delivery_time: u64,
    /// Number of deliveries.
    pub delivery_count: u64,
    consumer: Arc<[u8]>,
}

impl Nack {
    /// Name of the consumer the entry was last delivered to.
    pub fn consumer(&self) -> &[u8] {
        &self.consumer
    }
}

/// Why a PEL entry could not be inserted by [`ConsumerGroup::insert_nack`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InsertNackError {
    /// The consumer does not exist.
    NoConsumer,
    /// The ID is already pending.
    Duplicate,
}

/// A consumer group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumerGroup {
    /// `last_id`: the last delivered ID.
    pub last_id: StreamId,
    /// `entries_read`: the logical read counter, or
    /// [`INVALID_ENTRIES_READ`] (-1) when unknown.
    pub entries_read: i64,
    pel: BTreeMap<StreamId, Nack>,
    consumers: BTreeMap<Vec<u8>, Consumer>,
}

impl ConsumerGroup {
    /// An empty group.
    pub fn new(last_id: StreamId, entries_read: i64) -> Self {
        ConsumerGroup {
            last_id,
            entries_read,
            pel: BTreeMap::new(),
            consumers: BTreeMap::new(),
        }
    }

    /// Number of pending entries.
    pub fn pending(&self) -> u64 {
        self.pel.len() as u64
    }

    /// Number of consumers.
    pub fn consumer_count(&self) -> u64 {
        self.consumers.len() as u64
    }

    /// The group PEL, ascending.
    pub fn pel(&self) -> impl DoubleEndedIterator<Item = (StreamId, &Nack)> + '_ {
        self.pel.iter().map(|(k, v)| (*k, v))
    }

    /// The group PEL within `start..=end`, ascending.
    pub fn pel_range(
        &self,
        start: StreamId,
        end: StreamId,
    ) -> impl Iterator<Item = (StreamId, &Nack)> + '_ {
        let empty = start > end;
        self.pel
            .range(start..=end.max(start))
            .map(|(k, v)| (*k, v))
            .filter(move |_| !empty)
    }

    /// The first pending ID at or after `start`.
    pub fn pel_next(&self, start: StreamId) -> Option<StreamId> {
        self.pel.range(start..).next().map(|(k, _)| *k)
    }

    /// The PEL entry of `id`.
    pub fn nack(&self, id: StreamId) -> Option<&Nack> {
        self.pel.get(&id)
    }

    /// The consumers in name (byte) order.
    pub fn consumers(&self) -> impl Iterator<Item = &Consumer> + '_ {
        self.consumers.values()
    }

    /// The consumer named `name` (no refresh: `SLC_NO_REFRESH`).
    pub fn consumer(&self, name: &[u8]) -> Option<&Consumer> {
        self.consumers.get(name)
    }

    /// The consumer named `name`, mutable (persistence restores its times).
    pub fn consumer_mut(&mut self, name: &[u8]) -> Option<&mut Consumer> {
        self.consumers.get_mut(name)
    }

    /// `streamLookupConsumer(.., SLC_DEFAULT)`: refreshes the seen-time of
    /// an existing consumer; false when there is none.
    pub fn touch_consumer(&mut self, name: &[u8], now: u64) -> bool {
        match self.consumers.get_mut(name) {
            Some(c) => {
                c.seen_time = now;
                true
            }
            None => false,
        }
    }

    /// `streamCreateConsumer`: false when the name exists already.
    pub fn create_consumer(&mut self, name: &[u8], now: u64) -> bool {
        self.insert_consumer(name, now, -1)
    }

    /// Looks the consumer up refreshing it, or creates it; true when it was
    /// created (the caller fires `xgroup-createconsumer`).
    pub fn ensure_consumer(&mut self, name: &[u8], now: u64) -> bool {
        !self.touch_consumer(name, now) && self.create_consumer(name, now)
    }

    /// Builder: a consumer with given times; false when the name exists.
    pub fn insert_consumer(&mut self, name: &[u8], seen_time: u64, active_time: i64) -> bool {
        if self.consumers.contains_key(name) {
            return false;
        }
        self.consumers
            .insert(name.to_vec(), Consumer::new(name, seen_time, active_time));
        true
    }

    /// Builder: a PEL entry owned by an existing consumer.
    pub fn insert_nack(
        &mut self,
        id: StreamId,
        consumer: &[u8],
        delivery_time: u64,
        delivery_count: u64,
    ) -> Result<(), InsertNackError> {
        if self.pel.contains_key(&id) {
            return Err(InsertNackError::Duplicate);
        }
        let c = self
            .consumers
            .get_mut(consumer)
            .ok_or(InsertNackError::NoConsumer)?;
        c.pel.insert(id);
        let nack = Nack {
            delivery_time,
            delivery_count,
            consumer: Arc::clone(&c.name),
        };
        self.pel.insert(id, nack);
        Ok(())
    }

    /// `streamDelConsumer`: the number of entries it had pending, or `None`
    /// when there is no such consumer. Its PEL entries leave the group PEL.
    pub fn delete_consumer(&mut self, name: &[u8]) -> Option<u64> {
        let c = self.consumers.remove(name)?;
        for id in &c.pel {
            self.pel.remove(id);
        }
        Some(c.pel.len() as u64)
    }

    /// Sets the active-time of a consumer (it was given entries).
    pub fn mark_active(&mut self, name: &[u8], now: u64) {
        if let Some(c) = self.consumers.get_mut(name) {
            c.active_time = i64::try_from(now).unwrap_or(i64::MAX);
        }
    }

    /// XACK of one ID: true when it was pending.
    pub fn ack(&mut self, id: StreamId) -> bool {
        self.remove_nack(id).is_some()
    }

    /// Removes a PEL entry from the group and its consumer.
    pub fn remove_nack(&mut self, id: StreamId) -> Option<Nack> {
        let nack = self.pel.remove(&id)?;
        if let Some(c) = self.consumers.get_mut(&*nack.consumer) {
            c.pel.remove(&id);
        }
        Some(nack)
    }

    /// The PEL part of `streamReplyWithRange` for one delivered entry: a new
    /// NACK (time `now`, count 1) for `consumer`, or an existing one moved to
    /// `consumer` with time `now` and count reset to 1. The consumer must
    /// exist (returns `None` otherwise, changing nothing).
    ///
    /// One lookup of the consumer and one descent of the group PEL (this runs
    /// for every entry a group read delivers).
    pub fn deliver(&mut self, id: StreamId, consumer: &[u8], now: u64) -> Option<&Nack> {
        let c = self.consumers.get_mut(consumer)?;
        c.pel.insert(id);
        let nack = Nack {
            delivery_time: now,
            delivery_count: 1,
            consumer: Arc::clone(&c.name),
        };
        match self.pel.entry(id) {
            Entry::Vacant(e) => Some(e.insert(nack)),
            Entry::Occupied(e) => {
                let n = e.into_mut();
                // Owned by another consumer: it leaves that one's PEL.
                if !Arc::ptr_eq(&n.consumer, &nack.consumer) && *n.consumer != *consumer {
                    if let Some(old) = self.consumers.get_mut(&*n.consumer) {
                        old.pel.remove(&id);
                    }
                }
                *n = nack;
                Some(n)
            }
        }
    }

    /// The history read of `streamReplyWithRangeFromConsumerPEL` for an
    /// entry that still exists: delivery time `now`, count + 1.
    pub fn redeliver(&mut self, id: StreamId, now: u64) -> Option<&Nack> {
        let n = self.pel.get_mut(&id)?;
        n.delivery_time = now;
        n.delivery_count = n.delivery_count.saturating_add(1);
        Some(n)
    }

    /// The ownership change of XCLAIM/XAUTOCLAIM: creates the PEL entry
    /// (FORCE: count 1, as `streamCreateNACK`) when missing, moves it to `consumer` (which must
    /// exist), sets its delivery time, and its count to `retry` if given, or
    /// + 1 when `bump`.
    pub fn claim(
        &mut self,
        id: StreamId,
        consumer: &[u8],
        delivery_time: u64,
        retry: Option<u64>,
        bump: bool,
    ) -> Option<&Nack> {
        let name = Arc::clone(&self.consumers.get(consumer)?.name);
        let (old, count) = match self.pel.get(&id) {
            Some(n) => (Some(Arc::clone(&n.consumer)), n.delivery_count),
            // streamCreateNACK: count 1 before the XCLAIM update.
            None => (None, 1),
        };
        if let Some(old) = old.filter(|o| **o != *consumer) {
            if let Some(c) = self.consumers.get_mut(&*old) {
                c.pel.remove(&id);
            }
        }
        if let Some(c) = self.consumers.get_mut(consumer) {
            c.pel.insert(id);
        }
        let delivery_count = match retry {
            Some(r) => r,
            None if bump => count.saturating_add(1),
            None => count,
        };
        self.pel.insert(
            id,
            Nack {
                delivery_time,
                delivery_count,
                consumer: name,
            },
        );
        self.pel.get(&id)
    }

    /// The group-progress part of `streamReplyWithRange` for a delivered
    /// `id` greater than `last_id`: the read counter is incremented when
    /// valid and no tombstone lies ahead, else re-estimated; `last_id = id`.
    /// Returns false (changing nothing) when `id <= last_id`.
    pub fn advance(&mut self, id: StreamId, meta: &StreamMeta) -> bool {
        if id <= self.last_id {
            return false;
        }
        // Redis 8.6: no tombstone after the group's last ID (7.0 looked after
        // `id`), and the last ID not behind the first entry.
        if self.entries_read != INVALID_ENTRIES_READ
            && self.last_id >= meta.first_id
            && !range_has_tombstones(meta, Some(self.last_id), None)
        {
            self.entries_read = self.entries_read.wrapping_add(1);
        } else if meta.entries_added != 0 {
            self.entries_read = estimate_distance_from_first_ever_entry(meta, id);
        }
        self.last_id = id;
        true
    }

    /// Approximate heap bytes.
    pub fn mem_usage(&self) -> usize {
        let pel = self.pel.len() * 64;
        let consumers: usize = self
            .consumers
            .values()
            .map(|c| 2 * c.name.len() + 96 + c.pel.len() * 24)
            .sum();
        pel + consumers
    }
}
