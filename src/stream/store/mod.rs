//! The entry store of a stream: entries in nodes (indexed by each node's
//! first, "master", ID: see `index`), each node one compact byte buffer
//! (see `node`). Node boundaries, deletion and trimming follow Redis 7.0
//! (`streamAppendItem`, `streamIteratorRemoveEntry`, `streamTrim` in
//! t_stream.c) so that approximate trimming removes the same entries as on a
//! native stream with the same `stream-node-max-bytes` / `-entries`.

mod index;
mod iter;
mod lpsize;
mod node;
mod raw;
mod validate;
pub(crate) mod varint;

#[cfg(test)]
mod native_diff;
#[cfg(test)]
mod tests;

use self::index::NodeIndex;
use self::node::{pair_count, Node, FLAG_DELETED};
use super::id::StreamId;

pub use self::iter::{Entry, FieldIter, RangeIter, RevRangeIter};
pub use self::raw::{NodeIter, NodeView, RawEntries};
pub use self::validate::MAX_NODE_BYTES;

/// `STREAM_LISTPACK_MAX_SIZE`: the cap on a node's size (used when
/// `max_bytes` is 0 or larger), and the largest total of field and value
/// lengths an XADD may carry ("Elements are too large to be stored").
pub const STREAM_LISTPACK_MAX_SIZE: usize = 1 << 30;

/// The server's `stream-node-max-bytes` / `stream-node-max-entries`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeLimits {
    /// Maximum bytes of a node, measured as the native listpack would be
    /// (0 = no limit, i.e. [`STREAM_LISTPACK_MAX_SIZE`]).
    pub max_bytes: usize,
    /// Maximum entries (live + deleted) of a node (0 = no limit).
    pub max_entries: usize,
}

impl Default for NodeLimits {
    fn default() -> Self {
        NodeLimits {
            max_bytes: 4096,
            max_entries: 100,
        }
    }
}

/// How to trim: the MAXLEN or MINID strategy of XADD/XTRIM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrimStrategy {
    /// Keep at most this many entries.
    MaxLen(u64),
    /// Remove entries with an ID below this one.
    MinId(StreamId),
}

/// The entries of a stream.
#[derive(Clone, Debug, Default)]
pub struct EntryStore {
    nodes: NodeIndex,
    length: u64,
}

impl EntryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of live entries.
    pub fn len(&self) -> u64 {
        self.length
    }

    /// True when there is no live entry.
    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    /// Number of nodes (the analogue of XINFO `radix-tree-keys`).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Appends an entry; `fields` is `f, v, f, v...` (a trailing odd element
    /// is ignored). The caller guarantees that `id` is greater than every ID
    /// ever appended. A new node starts exactly when `streamAppendItem` would
    /// start a new listpack.
    pub fn append(&mut self, id: StreamId, fields: &[&[u8]], limits: NodeLimits) {
        let count = pair_count(fields);
        let totelelen: u64 = fields.iter().take(count * 2).map(|f| f.len() as u64).sum();
        let max_bytes = if limits.max_bytes == 0 || limits.max_bytes > STREAM_LISTPACK_MAX_SIZE {
            STREAM_LISTPACK_MAX_SIZE
        } else {
            limits.max_bytes
        } as u64;
        let mut appended = false;
        if let Some((_, tail)) = self.nodes.last_mut() {
            tail.settle_native();
            let new_node = tail.native_bytes().saturating_add(totelelen) >= max_bytes
                || (limits.max_entries != 0 && tail.total() >= limits.max_entries as u64);
            if new_node {
                tail.shrink();
            } else {
                let same = tail.same_fields(fields);
                tail.push(id, fields, same);
                appended = true;
            }
        }
        if !appended {
            self.nodes.push(Node::new(id, fields));
        }
        self.length += 1;
    }

    /// Removes the tombstones with IDs above `id`, which trail the store
    /// when no live entry is above `id` (XDEL of the top entries, then
    /// XSETID below them, as Redis 7.0 allows): later appends then stay in
    /// ID order. False, and nothing removed from the node concerned, when a
    /// live entry is above `id`.
    pub fn drop_tombstones_above(&mut self, id: StreamId) -> bool {
        loop {
            let Some((master, node)) = self.nodes.last_mut() else {
                return true;
            };
            let mut pos = node.first_pos();
            let cut = loop {
                let Some(raw) = node.entry_at(master, pos) else {
                    break None;
                };
                if raw.entry.id() > id {
                    break Some(pos);
                }
                pos = raw.next;
            };
            let Some(cut) = cut else {
                return true;
            };
            if cut > node.first_pos() {
                return node.truncate_tombstones(cut).is_some();
            }
            // The whole node is above `id`.
            if node.live() > 0 {
                return false;
            }
            self.nodes.remove(master);
        }
    }

    /// The node that would hold `id`: the one with the greatest master ID
    /// not above it.
    fn node_for(&self, id: StreamId) -> Option<(StreamId, &Node)> {
        self.nodes.floor(id)
    }

    /// The live entry with this ID.
    pub fn get(&self, id: StreamId) -> Option<Entry<'_>> {
        let (master_id, node) = self.node_for(id)?;
        let (pos, flags) = node.find(id)?;
        if flags & FLAG_DELETED != 0 {
            return None;
        }
        Some(node.entry_at(master_id, pos)?.entry)
    }

    /// Marks a live entry deleted (`streamDeleteItem`); a node whose last
    /// live entry goes is removed, as `streamIteratorRemoveEntry` does.
    /// False if there was no such live entry.
    pub fn delete(&mut self, id: StreamId) -> bool {
        let Some((master_id, node)) = self.node_for(id) else {
            return false;
        };
        let Some((pos, flags)) = node.find(id) else {
            return false;
        };
        if flags & FLAG_DELETED != 0 {
            return false;
        }
        let Some(node) = self.nodes.get_mut(master_id) else {
            return false;
        };
        if node.live() <= 1 {
            self.nodes.remove(master_id);
        } else if !node.mark_deleted(pos) {
            return false;
        }
        self.length = self.length.saturating_sub(1);
        true
    }

    /// ID of the first live entry.
    pub fn first_id(&self) -> Option<StreamId> {
        self.nodes
            .iter()
            .filter(|(_, n)| n.live() > 0)
            .find_map(|(k, _)| Some(self.range_from(k).next()?.id()))
    }

    /// ID of the last live entry.
    pub fn last_id(&self) -> Option<StreamId> {
        let (k, _) = self.nodes.iter().rev().find(|(_, n)| n.live() > 0)?;
        Some(
            RevRangeIter::new(self.nodes.range_key(k), StreamId::MIN, StreamId::MAX)
                .next()?
                .id(),
        )
    }

    fn range_from(&self, key: StreamId) -> RangeIter<'_> {
        RangeIter::new(self.nodes.range_key(key), StreamId::MIN, StreamId::MAX)
    }

    /// Live entries with `start <= id <= end`, ascending. Seeks to the node
    /// holding `start` through the index.
    pub fn range(&self, start: StreamId, end: StreamId) -> RangeIter<'_> {
        let from = match self.node_for(start) {
            Some((k, _)) => k,
            None => start,
        };
        let nodes = if from <= end {
            self.nodes.range_from(from)
        } else {
            index::Range::default()
        };
        RangeIter::new(nodes, start, end)
    }

    /// Live entries with `start <= id <= end`, descending (from `end`).
    pub fn rev_range(&self, start: StreamId, end: StreamId) -> RevRangeIter<'_> {
        RevRangeIter::new(self.nodes.range_to(end), start, end)
    }

    /// A port of Redis 7.0 `streamTrim`: whole nodes go from the head while
    /// the strategy allows; then `approx` stops, otherwise entries of the
    /// next node are flagged deleted until the strategy is met. `limit`
    /// (0 = none) caps the entries removed, checked node by node as Redis
    /// does. Returns the number of entries removed.
    pub fn trim(&mut self, strategy: TrimStrategy, approx: bool, limit: u64) -> u64 {
        let mut deleted: u64 = 0;
        loop {
            if let TrimStrategy::MaxLen(maxlen) = strategy {
                if self.length <= maxlen {
                    break;
                }
            }
            let Some((master_id, node)) = self.nodes.first_mut() else {
                break;
            };
            let entries = node.live();
            if limit != 0 && deleted.saturating_add(entries) > limit {
                break;
            }
            let remove_node = match strategy {
                TrimStrategy::MaxLen(maxlen) => self.length.saturating_sub(entries) >= maxlen,
                TrimStrategy::MinId(min) => match node.last_id() {
                    Some(last) => last < min,
                    None => true,
                },
            };
            if remove_node {
                self.nodes.remove_first();
                self.length = self.length.saturating_sub(entries);
                deleted = deleted.saturating_add(entries);
                continue;
            }
            if approx {
                break;
            }
            // Flag entries deleted inside this node, then stop.
            let mut pos = node.first_pos();
            while let Some(raw) = node.entry_at(master_id, pos) {
                let stop = match strategy {
                    TrimStrategy::MaxLen(maxlen) => self.length <= maxlen,
                    TrimStrategy::MinId(min) => raw.entry.id() >= min,
                };
                if stop {
                    break;
                }
                let next = raw.next;
                if node.mark_deleted(pos) {
                    self.length = self.length.saturating_sub(1);
                    deleted = deleted.saturating_add(1);
                }
                pos = next;
            }
            break;
        }
        deleted
    }

    /// Redis 8.6 `streamTrim` with the DELREF or ACKED strategy: no node is
    /// dropped whole up front and `approx` is ignored (only `limit` counts,
    /// node by node); every live entry the strategy reaches is offered to
    /// `can_delete` (ACKED: not referenced; DELREF: its references removed,
    /// true), which may refuse it, and the trim goes on past it. A node the
    /// strategy would have removed whole is removed once all its entries
    /// are, and the trim continues into the next node; otherwise it stops
    /// after the node. Returns the IDs removed, ascending.
    pub fn trim_referenced(
        &mut self,
        strategy: TrimStrategy,
        limit: u64,
        mut can_delete: impl FnMut(StreamId) -> bool,
    ) -> Vec<StreamId> {
        let mut removed = Vec::new();
        let mut cursor = self.nodes.first().map(|(k, _)| k);
        while let Some(master_id) = cursor {
            cursor = self.nodes.key_after(master_id);
            if let TrimStrategy::MaxLen(maxlen) = strategy {
                if self.length <= maxlen {
                    break;
                }
            }
            let Some(node) = self.nodes.get_mut(master_id) else {
                break;
            };
            let entries = node.live();
            if limit != 0 && (removed.len() as u64).saturating_add(entries) > limit {
                break;
            }
            let eligible = match strategy {
                TrimStrategy::MaxLen(maxlen) => self.length.saturating_sub(entries) >= maxlen,
                TrimStrategy::MinId(min) => node.last_id().is_none_or(|last| last < min),
            };
            let mut from_node = 0u64;
            let mut pos = node.first_pos();
            while let Some(raw) = node.entry_at(master_id, pos) {
                let id = raw.entry.id();
                let stop = match strategy {
                    TrimStrategy::MaxLen(maxlen) => self.length <= maxlen,
                    TrimStrategy::MinId(min) => id >= min,
                };
                if stop {
                    break;
                }
                let live = raw.flags & FLAG_DELETED == 0;
                let next = raw.next;
                if live && can_delete(id) && node.mark_deleted(pos) {
                    self.length = self.length.saturating_sub(1);
                    from_node += 1;
                    removed.push(id);
                }
                pos = next;
            }
            if eligible && from_node == entries {
                self.nodes.remove(master_id);
                continue;
            }
            if eligible {
                continue;
            }
            break;
        }
        removed
    }

    /// Heap bytes used: node buffers plus the index's own allocations.
    pub fn mem_usage(&self) -> usize {
        self.nodes.heap_bytes() + self.nodes.iter().map(|(_, n)| n.capacity()).sum::<usize>()
    }
}
