//! The read-counter arithmetic of Redis 8.6 (native 8.6.3 is the authority): `streamRangeHasTombstones`,
//! `streamEstimateDistanceFromFirstEverEntry` and `streamReplyWithCGLag`.

use super::group::ConsumerGroup;
use super::INVALID_ENTRIES_READ;
use crate::stream::stream::Stream;
use crate::stream::StreamId;

/// The stream metadata the counters depend on (a copy, so that a group can
/// be updated while the stream is borrowed for its groups).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamMeta {
    /// Live entries.
    pub length: u64,
    /// `entries_added`.
    pub entries_added: u64,
    /// `last_id`.
    pub last_id: StreamId,
    /// `first_id` (recorded first entry).
    pub first_id: StreamId,
    /// `max_deleted_entry_id`.
    pub max_deleted_id: StreamId,
}

impl StreamMeta {
    /// The metadata of `s`.
    pub fn of(s: &Stream) -> Self {
        StreamMeta {
            length: s.len(),
            entries_added: s.entries_added,
            last_id: s.last_id,
            first_id: s.first_id,
            max_deleted_id: s.max_deleted_id,
        }
    }
}

/// `streamRangeHasTombstones(s, start, end)` (`None`: open bound).
pub fn range_has_tombstones(
    s: &StreamMeta,
    start: Option<StreamId>,
    end: Option<StreamId>,
) -> bool {
    if s.length == 0 || s.max_deleted_id == StreamId::MIN {
        return false;
    }
    // Redis 7.0 also answered false for a tombstone behind the first entry;
    // 8.6 does not (so a group whose last ID is behind it re-estimates).
    let start = start.unwrap_or(StreamId::MIN);
    let end = end.unwrap_or(StreamId::MAX);
    start <= s.max_deleted_id && s.max_deleted_id <= end
}

/// `streamEstimateDistanceFromFirstEverEntry`: the logical read counter of
/// `id`, or [`INVALID_ENTRIES_READ`].
pub fn estimate_distance_from_first_ever_entry(s: &StreamMeta, id: StreamId) -> i64 {
    let added = s.entries_added as i64;
    if s.entries_added == 0 {
        return 0;
    }
    if s.length == 0 && id <= s.last_id {
        return added;
    }
    // Redis 7.2+: a tombstone after `id` (fragmentation ahead) makes it unknown.
    if id != StreamId::MIN && id < s.max_deleted_id {
        return INVALID_ENTRIES_READ;
    }
    if id == s.last_id {
        return added;
    } else if id > s.last_id {
        return INVALID_ENTRIES_READ;
    }
    if s.max_deleted_id == StreamId::MIN || s.max_deleted_id < s.first_id {
        let len = s.length as i64;
        if id < s.first_id {
            return added.wrapping_sub(len);
        } else if id == s.first_id {
            return added.wrapping_sub(len).wrapping_add(1);
        }
    }
    INVALID_ENTRIES_READ
}

/// `streamReplyWithCGLag`: the group's lag, `None` when it cannot be known
/// (a null reply).
pub fn group_lag(s: &StreamMeta, cg: &ConsumerGroup) -> Option<i64> {
    let added = s.entries_added as i64;
    if s.entries_added == 0 || s.length == 0 {
        return Some(0);
    }
    if cg.last_id < s.first_id && s.max_deleted_id < s.first_id {
        // Redis 7.2+: the group is behind every entry and so is every tombstone.
        return Some(s.length as i64);
    }
    if cg.entries_read != INVALID_ENTRIES_READ && !range_has_tombstones(s, Some(cg.last_id), None) {
        return Some(added.wrapping_sub(cg.entries_read));
    }
    let read = estimate_distance_from_first_ever_entry(s, cg.last_id);
    if read != INVALID_ENTRIES_READ {
        Some(added.wrapping_sub(read))
    } else {
        None
    }
}
