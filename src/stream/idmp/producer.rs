//! One producer: its iids in insertion order (a ring) with a hash index into
//! the ring, so that each iid's bytes are stored exactly once.

use std::collections::VecDeque;

use hashbrown::HashTable;

use super::hash::KeyedHasher;
use super::pid::Pid;
use super::rec::Rec;

/// Above this many iids a producer builds its hash index; up to it a linear
/// scan of the ring is as fast and saves the index's allocation.
const INDEX_ABOVE: usize = 8;
/// An index is dropped again when the producer shrinks to this many iids.
const UNINDEX_AT: usize = 4;

/// The iids of one pid, oldest first.
///
/// `recs[k]` has the sequence number `head_seq + k` (wrapping). Once the
/// producer holds more than [`INDEX_ABOVE`] iids, `index` maps every iid's
/// hash to its sequence number (so the index stays valid when the ring pops
/// its front or reallocates); otherwise `index` is empty and lookups scan the
/// ring. A producer holds far fewer than 2^32 records (maxsize is at most
/// 10000), so wrapping sequence numbers are unambiguous.
#[derive(Clone, Debug)]
pub(super) struct Producer {
    pid: Pid,
    recs: VecDeque<Rec>,
    head_seq: u32,
    index: HashTable<u32>,
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

impl Producer {
    /// An empty producer for `pid`.
    pub(super) fn new(pid: &[u8]) -> Producer {
        Producer {
            pid: Pid::new(pid),
            recs: VecDeque::new(),
            head_seq: 0,
            index: HashTable::new(),
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

    fn indexed(&self) -> bool {
        !self.index.is_empty()
    }

    /// Ring position of `iid`, expired or not. `hash` caches the iid's
    /// hash: it is computed (and stored) only when the index is used, so a
    /// small producer never hashes.
    pub(super) fn position(
        &self,
        hasher: &KeyedHasher,
        iid: &[u8],
        hash: &mut Option<u64>,
    ) -> Option<usize> {
        if !self.indexed() {
            return self.recs.iter().position(|r| r.iid() == iid);
        }
        let h = *hash.get_or_insert_with(|| hasher.hash(iid));
        let head = self.head_seq;
        let seq = self.index.find(h, |&s| {
            self.recs
                .get(s.wrapping_sub(head) as usize)
                .is_some_and(|r| r.iid() == iid)
        })?;
        Some(seq.wrapping_sub(head) as usize)
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
        let seq = self.head_seq.wrapping_add(len as u32);
        let hash = if self.indexed() {
            Some(hash.unwrap_or_else(|| hasher.hash(rec.iid())))
        } else {
            None
        };
        self.recs.push_back(rec);
        let head = self.head_seq;
        if let Some(hash) = hash {
            self.index
                .insert_unique(hash, seq, rehash(&self.recs, head, hasher));
        } else if self.recs.len() > INDEX_ABOVE {
            let mut index = HashTable::with_capacity(self.recs.len());
            for (k, r) in self.recs.iter().enumerate() {
                let s = head.wrapping_add(k as u32);
                index.insert_unique(hasher.hash(r.iid()), s, rehash(&self.recs, head, hasher));
            }
            self.index = index;
        }
    }

    /// Removes and returns the oldest record; shrinks the ring and the index
    /// when they are mostly empty, so memory follows the live size.
    pub(super) fn pop_front(&mut self, hasher: &KeyedHasher) -> Option<Rec> {
        let rec = self.recs.pop_front()?;
        let head = self.head_seq;
        self.head_seq = head.wrapping_add(1);
        let len = self.recs.len();
        if self.indexed() {
            if len <= UNINDEX_AT {
                self.index = HashTable::new();
            } else if let Ok(entry) = self
                .index
                .find_entry(hasher.hash(rec.iid()), |&s| s == head)
            {
                entry.remove();
            }
        }
        if self.recs.capacity() > 8 && len * 4 < self.recs.capacity() {
            self.recs.shrink_to(len * 2);
            let head = self.head_seq;
            if self.indexed() {
                self.index.shrink_to(len, rehash(&self.recs, head, hasher));
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

    /// Heap bytes owned by this producer, except long iids (see
    /// `IdmpState::mem_usage`).
    pub(super) fn mem_usage(&self) -> usize {
        self.pid.heap_bytes()
            + self.recs.capacity() * std::mem::size_of::<Rec>()
            + self.index.allocation_size()
    }
}
