//! The entry store of a stream (first, naive version: one owned vector per
//! entry; node boundaries follow the entry-count limit only).

use std::collections::BTreeMap;

use super::id::StreamId;

/// The server's `stream-node-max-bytes` / `stream-node-max-entries`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeLimits {
    /// Maximum bytes of a node (0 = no limit).
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

#[derive(Clone, Debug)]
struct NaiveEntry {
    id: StreamId,
    deleted: bool,
    fields: Vec<Vec<u8>>,
}

#[derive(Clone, Debug, Default)]
struct NaiveNode {
    entries: Vec<NaiveEntry>,
    live: u64,
}

/// The entries of a stream, grouped in nodes.
#[derive(Clone, Debug, Default)]
pub struct EntryStore {
    nodes: BTreeMap<StreamId, NaiveNode>,
    length: u64,
}

/// One live entry, borrowed from the store.
#[derive(Clone, Copy, Debug)]
pub struct Entry<'a> {
    id: StreamId,
    fields: &'a [Vec<u8>],
}

impl<'a> Entry<'a> {
    /// The entry's ID.
    pub fn id(&self) -> StreamId {
        self.id
    }
    /// Number of field/value pairs.
    pub fn field_count(&self) -> usize {
        self.fields.len() / 2
    }
    /// The field/value pairs in insertion order.
    pub fn fields(&self) -> FieldIter<'a> {
        FieldIter {
            inner: self.fields.chunks_exact(2),
        }
    }
}

/// Iterates the field/value pairs of an entry.
pub struct FieldIter<'a> {
    inner: std::slice::ChunksExact<'a, Vec<u8>>,
}

impl<'a> Iterator for FieldIter<'a> {
    type Item = (&'a [u8], &'a [u8]);
    fn next(&mut self) -> Option<Self::Item> {
        let c = self.inner.next()?;
        match c {
            [f, v] => Some((f.as_slice(), v.as_slice())),
            _ => None,
        }
    }
}

/// Ascending iterator over live entries in an inclusive ID range.
pub struct RangeIter<'a> {
    items: std::vec::IntoIter<Entry<'a>>,
}

impl<'a> Iterator for RangeIter<'a> {
    type Item = Entry<'a>;
    fn next(&mut self) -> Option<Entry<'a>> {
        self.items.next()
    }
}

/// Descending iterator over live entries in an inclusive ID range.
pub struct RevRangeIter<'a> {
    items: std::vec::IntoIter<Entry<'a>>,
}

impl<'a> Iterator for RevRangeIter<'a> {
    type Item = Entry<'a>;
    fn next(&mut self) -> Option<Entry<'a>> {
        self.items.next()
    }
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

    /// Number of nodes (XINFO `radix-tree-keys`).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Appends an entry (`fields` is f, v, f, v...). The caller guarantees
    /// that `id` is greater than every ID ever appended.
    pub fn append(&mut self, id: StreamId, fields: &[&[u8]], limits: NodeLimits) {
        let owned: Vec<Vec<u8>> = fields
            .chunks_exact(2)
            .flat_map(|c| c.iter().map(|f| f.to_vec()))
            .collect();
        let need_new = match self.nodes.iter().next_back() {
            None => true,
            Some((_, n)) => limits.max_entries != 0 && n.entries.len() >= limits.max_entries,
        };
        if need_new {
            self.nodes.insert(id, NaiveNode::default());
        }
        if let Some((_, n)) = self.nodes.iter_mut().next_back() {
            n.entries.push(NaiveEntry {
                id,
                deleted: false,
                fields: owned,
            });
            n.live += 1;
            self.length += 1;
        }
    }

    fn all(&self) -> impl DoubleEndedIterator<Item = Entry<'_>> {
        self.nodes.values().flat_map(|n| {
            n.entries.iter().filter(|e| !e.deleted).map(|e| Entry {
                id: e.id,
                fields: &e.fields,
            })
        })
    }

    /// The live entry with this ID.
    pub fn get(&self, id: StreamId) -> Option<Entry<'_>> {
        self.all().find(|e| e.id == id)
    }

    /// Marks a live entry deleted; false if there was none.
    pub fn delete(&mut self, id: StreamId) -> bool {
        let key = match self.nodes.range(..=id).next_back() {
            Some((k, _)) => *k,
            None => return false,
        };
        let mut remove = false;
        let mut found = false;
        if let Some(n) = self.nodes.get_mut(&key) {
            if let Some(e) = n.entries.iter_mut().find(|e| e.id == id && !e.deleted) {
                e.deleted = true;
                found = true;
                n.live -= 1;
                remove = n.live == 0;
            }
        }
        if remove {
            self.nodes.remove(&key);
        }
        if found {
            self.length -= 1;
        }
        found
    }

    /// ID of the first live entry.
    pub fn first_id(&self) -> Option<StreamId> {
        self.all().next().map(|e| e.id)
    }

    /// ID of the last live entry.
    pub fn last_id(&self) -> Option<StreamId> {
        self.all().next_back().map(|e| e.id)
    }

    /// Live entries with `start <= id <= end`, ascending.
    pub fn range(&self, start: StreamId, end: StreamId) -> RangeIter<'_> {
        let items: Vec<Entry<'_>> = self
            .all()
            .filter(|e| e.id >= start && e.id <= end)
            .collect();
        RangeIter {
            items: items.into_iter(),
        }
    }

    /// Live entries with `start <= id <= end`, descending.
    pub fn rev_range(&self, start: StreamId, end: StreamId) -> RevRangeIter<'_> {
        let items: Vec<Entry<'_>> = self
            .all()
            .rev()
            .filter(|e| e.id >= start && e.id <= end)
            .collect();
        RevRangeIter {
            items: items.into_iter(),
        }
    }

    /// Redis 7.0 `streamTrim`; `limit` 0 means none. Returns entries removed.
    pub fn trim(&mut self, strategy: TrimStrategy, approx: bool, limit: u64) -> u64 {
        let mut deleted = 0u64;
        let keys: Vec<StreamId> = self.nodes.keys().copied().collect();
        for key in keys {
            if let TrimStrategy::MaxLen(maxlen) = strategy {
                if self.length <= maxlen {
                    break;
                }
            }
            let Some(node) = self.nodes.get_mut(&key) else {
                break;
            };
            let entries = node.live;
            if limit != 0 && deleted + entries > limit {
                break;
            }
            let remove_node = match strategy {
                TrimStrategy::MaxLen(maxlen) => self.length - entries >= maxlen,
                TrimStrategy::MinId(min) => node.entries.last().is_none_or(|e| e.id < min),
            };
            if remove_node {
                self.nodes.remove(&key);
                self.length -= entries;
                deleted += entries;
                continue;
            }
            if approx {
                break;
            }
            for e in node.entries.iter_mut() {
                let stop = match strategy {
                    TrimStrategy::MaxLen(maxlen) => self.length <= maxlen,
                    TrimStrategy::MinId(min) => e.id >= min,
                };
                if stop {
                    break;
                }
                if !e.deleted {
                    e.deleted = true;
                    node.live -= 1;
                    self.length -= 1;
                    deleted += 1;
                }
            }
            break;
        }
        deleted
    }

    /// Heap bytes used (estimate).
    pub fn mem_usage(&self) -> usize {
        self.nodes
            .values()
            .map(|n| {
                64 + n
                    .entries
                    .iter()
                    .map(|e| 48 + e.fields.iter().map(|f| f.capacity() + 24).sum::<usize>())
                    .sum::<usize>()
            })
            .sum()
    }
}
