//! One producer: its iids in insertion order (a ring) with a hash index into
//! the ring, so that each iid's bytes are stored exactly once.

use std::collections::VecDeque;
use std::hash::BuildHasher;

use hashbrown::HashTable;

use super::rec::Rec;

/// Hashes bytes with the state's keyed (SipHash) hasher.
pub(super) fn hash_bytes<S: BuildHasher>(hasher: &S, bytes: &[u8]) -> u64 {
    hasher.hash_one(bytes)
}

/// The iids of one pid, oldest first.
///
/// `recs[k]` has the sequence number `head_seq + k` (wrapping); `index` maps
/// an iid's hash to that sequence number, so the index stays valid when the
/// ring pops its front or reallocates. A producer never holds more than
/// 65535 + 1 records between an insert and its eviction (maxsize is at most
/// 10000), so wrapping sequence numbers are unambiguous.
#[derive(Clone, Debug)]
pub(super) struct Producer {
    pid: Box<[u8]>,
    recs: VecDeque<Rec>,
    head_seq: u32,
    index: HashTable<u32>,
    heap: usize,
}

impl Producer {
    /// An empty producer for `pid`.
    pub(super) fn new(pid: &[u8]) -> Producer {
        Producer {
            pid: pid.into(),
            recs: VecDeque::new(),
            head_seq: 0,
            index: HashTable::new(),
            heap: 0,
        }
    }

    /// The pid.
    pub(super) fn pid(&self) -> &[u8] {
        &self.pid
    }

    /// Number of iids held.
    pub(super) fn len(&self) -> usize {
        self.recs.len()
    }

    /// True when no iid is held.
    pub(super) fn is_empty(&self) -> bool {
        self.recs.is_empty()
    }

    fn pos(&self, seq: u32) -> usize {
        seq.wrapping_sub(self.head_seq) as usize
    }

    /// The record of `iid` (whose hash is `hash`), expired or not.
    pub(super) fn find(&self, hash: u64, iid: &[u8]) -> Option<&Rec> {
        let seq = self.index.find(hash, |&s| {
            self.recs.get(self.pos(s)).is_some_and(|r| r.iid() == iid)
        })?;
        self.recs.get(self.pos(*seq))
    }

    /// Mutable access to the record of `iid`.
    pub(super) fn find_mut(&mut self, hash: u64, iid: &[u8]) -> Option<&mut Rec> {
        let pos = {
            let seq = self.index.find(hash, |&s| {
                self.recs.get(self.pos(s)).is_some_and(|r| r.iid() == iid)
            })?;
            self.pos(*seq)
        };
        self.recs.get_mut(pos)
    }

    /// The oldest record.
    pub(super) fn front(&self) -> Option<&Rec> {
        self.recs.front()
    }

    /// Appends a record whose iid is not held (`hash` is its hash). The ring
    /// grows by doubling but never beyond `limit` (the maxsize), so a full
    /// producer wastes no capacity.
    pub(super) fn push<S: BuildHasher>(&mut self, hash: u64, rec: Rec, hasher: &S, limit: usize) {
        let len = self.recs.len();
        if len == self.recs.capacity() {
            let target = len.saturating_mul(2).max(2).min(limit.max(len + 1));
            self.recs.reserve_exact(target - len);
        }
        let seq = self.head_seq.wrapping_add(len as u32);
        self.heap += rec.heap_bytes();
        self.recs.push_back(rec);
        let Producer {
            recs,
            head_seq,
            index,
            ..
        } = self;
        let head = *head_seq;
        index.insert_unique(hash, seq, |&s| {
            let iid = recs
                .get(s.wrapping_sub(head) as usize)
                .map(Rec::iid)
                .unwrap_or(&[]);
            hash_bytes(hasher, iid)
        });
    }

    /// Removes and returns the oldest record; shrinks the ring and the index
    /// when they are mostly empty, so memory follows the live size.
    pub(super) fn pop_front<S: BuildHasher>(&mut self, hasher: &S) -> Option<Rec> {
        let rec = self.recs.pop_front()?;
        self.heap = self.heap.saturating_sub(rec.heap_bytes());
        let head = self.head_seq;
        if let Ok(entry) = self
            .index
            .find_entry(hash_bytes(hasher, rec.iid()), |&s| s == head)
        {
            entry.remove();
        }
        self.head_seq = head.wrapping_add(1);
        let len = self.recs.len();
        if self.recs.capacity() > 8 && len * 4 < self.recs.capacity() {
            self.recs.shrink_to(len * 2);
            let Producer {
                recs,
                head_seq,
                index,
                ..
            } = self;
            let head = *head_seq;
            index.shrink_to(len, |&s| {
                let iid = recs
                    .get(s.wrapping_sub(head) as usize)
                    .map(Rec::iid)
                    .unwrap_or(&[]);
                hash_bytes(hasher, iid)
            });
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

    /// Heap bytes owned by this producer.
    pub(super) fn mem_usage(&self) -> usize {
        self.pid.len()
            + self.recs.capacity() * std::mem::size_of::<Rec>()
            + self.index.allocation_size()
            + self.heap
    }
}
