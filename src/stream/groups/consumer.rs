//! A consumer of a group (`streamConsumer`).

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::stream::StreamId;

/// One consumer: its name, its times and the IDs it holds in the PEL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Consumer {
    pub(super) name: Arc<[u8]>,
    /// `seen_time`: the last time the consumer was looked up by a command
    /// that refreshes it (XREADGROUP, XCLAIM, XAUTOCLAIM), in ms.
    pub seen_time: u64,
    /// `active_time` (Redis 7.2): the last time the consumer was given
    /// entries (read or claimed), in ms; -1 when it never was.
    pub active_time: i64,
    pub(super) pel: BTreeSet<StreamId>,
}

impl Consumer {
    /// A consumer with an empty PEL.
    pub(super) fn new(name: &[u8], seen_time: u64, active_time: i64) -> Self {
        Consumer {
            name: Arc::from(name),
            seen_time,
            active_time,
            pel: BTreeSet::new(),
        }
    }

    /// The name.
    pub fn name(&self) -> &[u8] {
        &self.name
    }

    /// Number of entries pending for this consumer.
    pub fn pending(&self) -> u64 {
        self.pel.len() as u64
    }

    /// The consumer's pending IDs, ascending.
    pub fn pel(&self) -> impl DoubleEndedIterator<Item = StreamId> + '_ {
        self.pel.iter().copied()
    }

    /// The consumer's pending IDs within `start..=end`, ascending.
    pub fn pel_range(&self, start: StreamId, end: StreamId) -> impl Iterator<Item = StreamId> + '_ {
        let empty = start > end;
        self.pel
            .range(start..=end.max(start))
            .copied()
            .filter(move |_| !empty)
    }
}
