//! One producer: its iids in insertion order (a ring) with an index into
//! the ring, so that each iid's bytes are stored exactly once: tags inside
//! the producer while it is small, a hash table beyond.

use std::collections::VecDeque;

use hashbrown::HashTable;

use super::hash::KeyedHasher;
use super::pid::Pid;
use super::rec::Rec;
use super::tags::{self, Tags};

/// Above this many iids a producer indexes them with a hash table; up to it
/// its [`Tags`] (no allocation) find them as fast.
const INDEX_ABOVE: usize = tags::CAP;
/// A hash table is dropped for tags again when the producer shrinks to this
/// many iids.
const UNINDEX_AT: usize = tags::CAP / 2;

/// How a producer finds an iid in its ring.
#[derive(Clone, Debug)]
enum Index {
    /// Up to [`INDEX_ABOVE`] iids: one byte of each iid's hash, in ring
    /// order, and how many of the iids are on the heap (longer than
    /// `rec::INLINE`): while none is, replacing the oldest record need not
    /// read it.
    Tags { tags: Tags, long: u8 },
    /// More: `table` maps every iid's hash to its sequence number, `recs[k]`
    /// having the sequence number `head_seq + k` (wrapping), so that the
    /// table stays valid when the ring pops its front or reallocates. A
    /// producer holds far fewer than 2^32 records (maxsize is at most
    /// 10000), so wrapping sequence numbers are unambiguous.
    Table {
        head_seq: u32,
        table: HashTable<u32>,
    },
}

/// The iids of one pid, oldest first, and their index.
#[derive(Clone, Debug)]
pub(super) struct Producer {
    pid: Pid,
    recs: VecDeque<Rec>,
    index: Index,
}

fn rehash<'a>(
    recs: &'a VecDeque<Rec>,
    head: u32,
    hasher: &'a KeyedHasher,
) -> impl Fn(&u32) -> u64 + 'a {
    move |&s| {
        let iid = recs
            .get(s.wrapping_sub(head) as usize)
            .map(Rec::iid)
            .unwrap_or(&[]);
        hasher.hash(iid)
    }
}

/// The tags of `recs` (at most [`tags::CAP`]).
fn tags_of(recs: &VecDeque<Rec>, hasher: &KeyedHasher) -> Index {
    let mut tags = Tags::default();
    let mut long = 0u8;
    for (k, r) in recs.iter().enumerate() {
        tags.set(k, hasher.hash(r.iid()));
        long = long.saturating_add(u8::from(r.heap_bytes() > 0));
    }
    Index::Tags { tags, long }
}

/// A hash table of `recs`, sequence numbers from 0.
fn table_of(recs: &VecDeque<Rec>, hasher: &KeyedHasher) -> Index {
    let mut table = HashTable::with_capacity(recs.len());
    for (k, r) in recs.iter().enumerate() {
        table.insert_unique(hasher.hash(r.iid()), k as u32, rehash(recs, 0, hasher));
    }
    Index::Table { head_seq: 0, table }
}

impl Producer {
    /// An empty producer for `pid`.
    pub(super) fn new(pid: &[u8]) -> Producer {
        Producer {
            pid: Pid::new(pid),
            recs: VecDeque::new(),
            index: Index::Tags {
                tags: Tags::default(),
                long: 0,
            },
        }
    }

    /// The pid.
    #[inline]
    pub(super) fn pid(&self) -> &[u8] {
        self.pid.bytes()
    }

    /// Number of iids held.
    pub(super) fn len(&self) -> usize {
        self.recs.len()
    }

    /// True when no iid is held.
    pub(super) fn is_empty(&self) -> bool {
        self.recs.is_empty()
    }

    /// Ring position of `iid`, expired or not. `hash` caches the iid's
    /// hash: computed (and stored) here unless known.
    pub(super) fn position(
        &self,
        hasher: &KeyedHasher,
        iid: &[u8],
        hash: &mut Option<u64>,
    ) -> Option<usize> {
        let h = *hash.get_or_insert_with(|| hasher.hash(iid));
        let recs = &self.recs;
        match &self.index {
            Index::Tags { tags, .. } => tags.find(recs.len(), h, |k| {
                recs.get(k).is_some_and(|r| r.iid() == iid)
            }),
            Index::Table { head_seq, table } => {
                let head = *head_seq;
                let seq = table.find(h, |&s| {
                    recs.get(s.wrapping_sub(head) as usize)
                        .is_some_and(|r| r.iid() == iid)
                })?;
                Some(seq.wrapping_sub(head) as usize)
            }
        }
    }

    /// Mutable access to the record at position `pos` (0 = oldest).
    pub(super) fn get_mut(&mut self, pos: usize) -> Option<&mut Rec> {
        self.recs.get_mut(pos)
    }

    /// The oldest record.
    pub(super) fn front(&self) -> Option<&Rec> {
        self.recs.front()
    }

    /// Appends a record whose iid is not held; `hash` is the iid's hash if
    /// already known. The ring grows by half its size but never beyond
    /// `limit` (the maxsize), so a full producer wastes no capacity.
    pub(super) fn push(&mut self, rec: Rec, hash: Option<u64>, hasher: &KeyedHasher, limit: usize) {
        let len = self.recs.len();
        if len == self.recs.capacity() {
            let target = (len + len / 2).max(len + 1).min(limit.max(len + 1));
            self.recs.reserve_exact(target - len);
        }
        let hash = hash.unwrap_or_else(|| hasher.hash(rec.iid()));
        let rec_long = rec.heap_bytes() > 0;
        self.recs.push_back(rec);
        let outgrown = match &mut self.index {
            Index::Tags { tags, long } => {
                tags.set(len, hash);
                *long = long.saturating_add(u8::from(rec_long));
                len >= INDEX_ABOVE
            }
            Index::Table { head_seq, table } => {
                let head = *head_seq;
                let seq = head.wrapping_add(len as u32);
                table.insert_unique(hash, seq, rehash(&self.recs, head, hasher));
                false
            }
        };
        if outgrown {
            self.index = table_of(&self.recs, hasher);
        }
    }

    /// Forgets the oldest record and appends `rec` (an iid not held; `hash`
    /// its hash if known): a [`Producer::pop_front`] and a
    /// [`Producer::push`] in one, for a producer at capacity. When the ring
    /// is full `rec` is written where the oldest was, and of the oldest only
    /// what dropping it needs is read: nothing while the tags index knows no
    /// iid is on the heap (and no hashing either).
    /// Returns the heap bytes the forgotten record held. Does nothing but
    /// push to an empty producer.
    #[inline]
    pub(super) fn replace_oldest(
        &mut self,
        rec: Rec,
        hash: Option<u64>,
        hasher: &KeyedHasher,
    ) -> usize {
        let hash = hash.unwrap_or_else(|| hasher.hash(rec.iid()));
        let len = self.recs.len();
        let Some(front) = self.recs.front_mut() else {
            self.push(rec, Some(hash), hasher, 1);
            return 0;
        };
        let rec_long = rec.heap_bytes() > 0;
        let freed = match &mut self.index {
            Index::Tags { tags, long } => {
                tags.pop_front();
                tags.set(len - 1, hash);
                let freed = if *long == 0 {
                    // Every record is inline: the oldest owns nothing to
                    // free, so it is overwritten without being read.
                    std::mem::forget(std::mem::replace(front, rec));
                    0
                } else {
                    let freed = front.heap_bytes();
                    *long = long.saturating_sub(u8::from(freed > 0));
                    *front = rec;
                    freed
                };
                *long = long.saturating_add(u8::from(rec_long));
                freed
            }
            Index::Table { head_seq, table } => {
                let head = *head_seq;
                if let Ok(entry) = table.find_entry(hasher.hash(front.iid()), |&s| s == head) {
                    entry.remove();
                }
                *head_seq = head.wrapping_add(1);
                let freed = front.heap_bytes();
                *front = rec;
                freed
            }
        };
        // The new record moves from the front to the back: with the ring
        // full (len == capacity) that only moves the ring's head.
        self.recs.rotate_left(1);
        if let Index::Table { head_seq, table } = &mut self.index {
            let head = *head_seq;
            let seq = head.wrapping_add(len as u32 - 1);
            table.insert_unique(hash, seq, rehash(&self.recs, head, hasher));
        }
        freed
    }

    /// Removes and returns the oldest record; shrinks the ring and the index
    /// when they are mostly empty, so memory follows the live size.
    pub(super) fn pop_front(&mut self, hasher: &KeyedHasher) -> Option<Rec> {
        let rec = self.recs.pop_front()?;
        let len = self.recs.len();
        let shrunk = match &mut self.index {
            Index::Tags { tags, long } => {
                tags.pop_front();
                *long = long.saturating_sub(u8::from(rec.heap_bytes() > 0));
                false
            }
            Index::Table { head_seq, table } => {
                let head = *head_seq;
                *head_seq = head.wrapping_add(1);
                if len <= UNINDEX_AT {
                    true
                } else {
                    if let Ok(entry) = table.find_entry(hasher.hash(rec.iid()), |&s| s == head) {
                        entry.remove();
                    }
                    false
                }
            }
        };
        if shrunk {
            self.index = tags_of(&self.recs, hasher);
        }
        if self.recs.capacity() > 8 && len * 4 < self.recs.capacity() {
            self.recs.shrink_to(len * 2);
            if let Index::Table { head_seq, table } = &mut self.index {
                table.shrink_to(len, rehash(&self.recs, *head_seq, hasher));
            }
        }
        Some(rec)
    }

    /// The records oldest first.
    pub(super) fn iter(&self) -> std::collections::vec_deque::Iter<'_, Rec> {
        self.recs.iter()
    }

    /// The records oldest first, mutably (epoch rebase).
    pub(super) fn iter_mut(&mut self) -> std::collections::vec_deque::IterMut<'_, Rec> {
        self.recs.iter_mut()
    }

    /// The record at position `pos` (0 = oldest).
    pub(super) fn get(&self, pos: usize) -> Option<&Rec> {
        self.recs.get(pos)
    }

    /// True when the tags index's count of heap iids is right (tests).
    #[cfg(test)]
    pub(super) fn long_count_is_exact(&self) -> bool {
        match &self.index {
            Index::Tags { long, .. } => {
                usize::from(*long) == self.recs.iter().filter(|r| r.heap_bytes() > 0).count()
            }
            Index::Table { .. } => true,
        }
    }

    /// Heap bytes owned by this producer, except long iids (see
    /// `IdmpState::mem_usage`).
    pub(super) fn mem_usage(&self) -> usize {
        self.pid.heap_bytes()
            + self.recs.capacity() * std::mem::size_of::<Rec>()
            + match &self.index {
                Index::Tags { .. } => 0,
                Index::Table { table, .. } => table.allocation_size(),
            }
    }
}
