//! Consumer groups of a stream, a port of Redis 7.0's `streamCG`,
//! `streamConsumer` and `streamNACK` (stream.h, t_stream.c 7.0.15).
//!
//! * [`Groups`]: the groups of one stream by name, in byte order (the rax
//!   order Redis iterates them in).
//! * [`ConsumerGroup`]: last delivered ID, the `entries_read` counter, the
//!   group PEL (ID -> [`Nack`]) and the consumers by name.
//! * [`Consumer`]: seen-time, active-time (Redis 7.2; kept for the newer reply
//!   shapes and persistence) and the consumer's own PEL (a set of IDs; the
//!   delivery data live in the group PEL, shared as in Redis).
//! * `lag`: `streamEstimateDistanceFromFirstEverEntry`,
//!   `streamRangeHasTombstones` and the lag of XINFO GROUPS.
//!
//! Save/load shape: [`Groups::iter`], [`ConsumerGroup::pel`],
//! [`ConsumerGroup::consumers`] and [`Consumer::pel`] walk everything there
//! is; [`Groups::create`], [`ConsumerGroup::insert_consumer`] and
//! [`ConsumerGroup::insert_nack`] rebuild it.

pub mod consumer;
pub mod group;
pub mod lag;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

pub use consumer::Consumer;
pub use group::{ConsumerGroup, Nack};
pub use lag::StreamMeta;

/// `SCG_INVALID_ENTRIES_READ`: the group's read counter is unknown.
pub const INVALID_ENTRIES_READ: i64 = -1;

/// The consumer groups of one stream.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Groups {
    map: BTreeMap<Vec<u8>, ConsumerGroup>,
}

impl Groups {
    /// No groups.
    pub fn new() -> Self {
        Groups::default()
    }

    /// Number of groups.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when the stream has no group.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// `streamCreateCG`: a new group, or `None` when the name is taken.
    pub fn create(
        &mut self,
        name: &[u8],
        last_id: crate::stream::StreamId,
        entries_read: i64,
    ) -> Option<&mut ConsumerGroup> {
        if self.map.contains_key(name) {
            return None;
        }
        let g = self
            .map
            .entry(name.to_vec())
            .or_insert_with(|| ConsumerGroup::new(last_id, entries_read));
        Some(g)
    }

    /// `streamLookupCG`.
    pub fn get(&self, name: &[u8]) -> Option<&ConsumerGroup> {
        self.map.get(name)
    }

    /// `streamLookupCG`, mutable.
    pub fn get_mut(&mut self, name: &[u8]) -> Option<&mut ConsumerGroup> {
        self.map.get_mut(name)
    }

    /// XGROUP DESTROY: true when the group existed.
    pub fn destroy(&mut self, name: &[u8]) -> bool {
        self.map.remove(name).is_some()
    }

    /// The groups in name (byte) order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &ConsumerGroup)> {
        self.map.iter().map(|(k, v)| (k.as_slice(), v))
    }

    /// Approximate heap bytes of all groups.
    pub fn mem_usage(&self) -> usize {
        self.map
            .iter()
            .map(|(k, g)| k.len() + 64 + g.mem_usage())
            .sum()
    }
}
