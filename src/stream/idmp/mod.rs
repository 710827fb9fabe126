//! Per-stream IDMP state (SPEC sections 2, 4 and 5, DESIGN "IDMP state"):
//! settings, lifetime counters and pid -> producer, where a producer holds
//! its iids in insertion order with O(1) lookup.
//!
//! # Expiry
//!
//! An iid recorded at time `t` (milliseconds) is expired at `now` exactly when
//! `now >= t + duration * 1000`. [`IdmpState::lookup`] applies this test
//! itself, so an expired iid is never reported even if [`IdmpState::expire`]
//! has not run. Insertion times never go backwards within a stream (they are
//! clamped to the latest one used), so insertion order is time order.
//!
//! # Layout and memory
//!
//! * Producers live in a slab (`slots`) indexed by a `u32`; a hash table of
//!   slot numbers, keyed by the pid's hash, finds them. The pid bytes are
//!   stored once, in the producer.
//! * A producer keeps its records in a ring (oldest first) and a hash table of
//!   ring sequence numbers keyed by the iid's hash: the iid bytes are stored
//!   once, inline in the 40-byte record when at most 18 bytes long.
//! * An expiry queue holds one `u32` slot number per recorded iid, in
//!   insertion (= time) order. A record forgotten by capacity eviction leaves
//!   a stale queue entry behind; the slot counts its stale entries (they are
//!   always the slot's oldest ones in the queue), so [`IdmpState::expire`]
//!   pops the queue front in amortised O(1) per iid: a stale entry is skipped,
//!   a live one names the globally oldest record, which is its producer's
//!   front. When the queue is full and at least an eighth of it is stale it is
//!   compacted in place instead of growing.
//! * Memory follows the live size: a state left empty by expiry is reset;
//!   when most slab slots are vacant (and the queue is not much larger than
//!   the vacancy), the queue is compacted and the producers are renumbered
//!   densely; the queue and every producer's ring shrink when mostly empty.
//! * Times are stored as `u32` offsets from a per-stream epoch (49 days of
//!   range). When a new time does not fit, expired iids are dropped and the
//!   epoch moves to `time - duration`; every live record is rewritten (once
//!   per ~48 days of stream time). With a duration longer than 49 days (out of
//!   the SPEC range 1..86400), records older than the representable range are
//!   kept as if inserted at the new epoch.
//!
//! Hashing uses std's `RandomState` (SipHash with per-state random keys): pids
//! and iids come from clients.

mod compact;
mod producer;
mod rec;

#[cfg(test)]
mod model_tests;
#[cfg(test)]
mod tests;

use std::collections::hash_map::RandomState;
use std::collections::VecDeque;

use hashbrown::HashTable;

use self::producer::{hash_bytes, Producer};
use self::rec::Rec;
use super::id::StreamId;

/// Per-stream IDMP settings (XCFGSET / module configs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdmpSettings {
    /// Seconds an iid stays tracked after it was recorded.
    pub duration_secs: u32,
    /// Maximum iids tracked per producer.
    pub maxsize: u32,
}

impl Default for IdmpSettings {
    fn default() -> Self {
        IdmpSettings {
            duration_secs: 100,
            maxsize: 100,
        }
    }
}

/// A slab slot: a producer or nothing, and the number of stale entries of
/// this slot still in the expiry queue (kept across producers reusing it).
#[derive(Clone, Debug, Default)]
struct Slot {
    stale: u64,
    producer: Option<Producer>,
}

/// The IDMP state of one stream.
#[derive(Clone, Debug)]
pub struct IdmpState {
    settings: IdmpSettings,
    hasher: RandomState,
    epoch: u64,
    last_time_ms: u64,
    slots: Vec<Slot>,
    free: Vec<u32>,
    pids: HashTable<u32>,
    queue: VecDeque<u32>,
    stale: u64,
    live_pids: u64,
    live_iids: u64,
    long_iid_bytes: usize,
    /// Lifetime count of fresh IDMP/IDMPAUTO adds. Callers increment it; the
    /// state never does.
    pub iids_added: u64,
    /// Lifetime count of duplicates answered. Callers increment it; the state
    /// never does.
    pub iids_duplicates: u64,
    /// iids forgotten because their duration passed (this process only).
    pub iids_expired: u64,
    /// iids forgotten because their producer exceeded maxsize (this process
    /// only).
    pub iids_evicted: u64,
}

/// The iids of one producer, oldest first: `(iid, stream id, time_ms)`.
pub struct ProducerIter<'a> {
    inner: std::collections::vec_deque::Iter<'a, Rec>,
    epoch: u64,
}

impl<'a> Iterator for ProducerIter<'a> {
    type Item = (&'a [u8], StreamId, u64);

    fn next(&mut self) -> Option<Self::Item> {
        let r = self.inner.next()?;
        Some((r.iid(), r.id(), self.epoch.saturating_add(u64::from(r.t()))))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

/// Every tracked iid in insertion order over all producers:
/// `(pid, iid, stream id, time_ms)`. See [`IdmpState::records`].
pub struct RecordsIter<'a> {
    state: &'a IdmpState,
    pos: usize,
    skip: Vec<u64>,
    cursor: Vec<usize>,
}

impl<'a> Iterator for RecordsIter<'a> {
    type Item = (&'a [u8], &'a [u8], StreamId, u64);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let s = *self.state.queue.get(self.pos)? as usize;
            self.pos += 1;
            let Some(skip) = self.skip.get_mut(s) else {
                continue;
            };
            if *skip > 0 {
                *skip -= 1;
                continue;
            }
            let Some(p) = self.state.slots.get(s).and_then(|x| x.producer.as_ref()) else {
                continue;
            };
            let Some(cur) = self.cursor.get_mut(s) else {
                continue;
            };
            let Some(r) = p.get(*cur) else {
                continue;
            };
            *cur += 1;
            let time = self.state.epoch.saturating_add(u64::from(r.t()));
            return Some((p.pid(), r.iid(), r.id(), time));
        }
    }
}

impl IdmpState {
    /// An empty state with the given settings.
    pub fn new(settings: IdmpSettings) -> Self {
        IdmpState {
            settings,
            hasher: RandomState::new(),
            epoch: 0,
            last_time_ms: 0,
            slots: Vec::new(),
            free: Vec::new(),
            pids: HashTable::new(),
            queue: VecDeque::new(),
            stale: 0,
            live_pids: 0,
            live_iids: 0,
            long_iid_bytes: 0,
            iids_added: 0,
            iids_duplicates: 0,
            iids_expired: 0,
            iids_evicted: 0,
        }
    }

    /// The current settings.
    pub fn settings(&self) -> IdmpSettings {
        self.settings
    }

    fn duration_ms(&self) -> u64 {
        u64::from(self.settings.duration_secs) * 1000
    }

    /// True when a record at relative time `t` is expired at `now_ms`.
    fn is_expired(&self, t: u32, now_ms: u64) -> bool {
        self.expired_at(self.epoch.saturating_add(u64::from(t)), now_ms)
    }

    /// True when an iid recorded at `time_ms` is expired at `now_ms` under
    /// the current duration: `now_ms >= time_ms + duration * 1000` (an
    /// expiry past the end of the clock never comes).
    pub fn expired_at(&self, time_ms: u64, now_ms: u64) -> bool {
        time_ms
            .checked_add(self.duration_ms())
            .is_some_and(|end| now_ms >= end)
    }

    /// Forgets every iid expired at `now_ms` (recorded at or before
    /// `now_ms - duration`), and drops producers left empty. Amortised O(1)
    /// per forgotten iid; O(1) when nothing is expired.
    pub fn expire(&mut self, now_ms: u64) {
        while let Some(&s) = self.queue.front() {
            let idx = s as usize;
            let (stale, front_t) = match self.slots.get(idx) {
                Some(slot) => (
                    slot.stale,
                    slot.producer.as_ref().and_then(|p| p.front()).map(Rec::t),
                ),
                None => (0, None),
            };
            if stale > 0 {
                if let Some(slot) = self.slots.get_mut(idx) {
                    slot.stale -= 1;
                }
                self.stale = self.stale.saturating_sub(1);
                self.queue.pop_front();
                continue;
            }
            let Some(t) = front_t else {
                // Cannot happen (a live entry names a non-empty producer);
                // dropping it keeps the queue moving.
                self.queue.pop_front();
                continue;
            };
            if !self.is_expired(t, now_ms) {
                break;
            }
            self.queue.pop_front();
            self.pop_oldest(idx);
        }
        self.shrink();
    }

    /// Removes the oldest record of the producer in slot `idx`, and the
    /// producer itself when it is left empty. Does not touch the queue.
    fn pop_oldest(&mut self, idx: usize) {
        let Some(slot) = self.slots.get_mut(idx) else {
            return;
        };
        let Some(p) = slot.producer.as_mut() else {
            return;
        };
        if let Some(rec) = p.pop_front(&self.hasher) {
            self.live_iids = self.live_iids.saturating_sub(1);
            self.iids_expired = self.iids_expired.saturating_add(1);
            self.long_iid_bytes = self.long_iid_bytes.saturating_sub(rec.heap_bytes());
        }
        if p.is_empty() {
            self.remove_producer(idx);
        }
    }

    fn remove_producer(&mut self, idx: usize) {
        let Some(slot) = self.slots.get_mut(idx) else {
            return;
        };
        let Some(p) = slot.producer.take() else {
            return;
        };
        let hash = hash_bytes(&self.hasher, p.pid());
        if let Ok(entry) = self.pids.find_entry(hash, |&s| s as usize == idx) {
            entry.remove();
        }
        self.live_pids = self.live_pids.saturating_sub(1);
        if let Ok(s) = u32::try_from(idx) {
            self.free.push(s);
        }
    }

    fn find_slot(&self, pid: &[u8]) -> Option<usize> {
        let hash = hash_bytes(&self.hasher, pid);
        let slots = &self.slots;
        self.pids
            .find(hash, |&s| {
                slots
                    .get(s as usize)
                    .and_then(|x| x.producer.as_ref())
                    .is_some_and(|p| p.pid() == pid)
            })
            .map(|&s| s as usize)
    }

    fn producer(&self, pid: &[u8]) -> Option<&Producer> {
        let idx = self.find_slot(pid)?;
        self.slots.get(idx)?.producer.as_ref()
    }

    /// The stream ID recorded for `(pid, iid)`, if tracked and not expired at
    /// `now_ms`. Exact whether or not [`IdmpState::expire`] has run.
    pub fn lookup(&self, pid: &[u8], iid: &[u8], now_ms: u64) -> Option<StreamId> {
        let p = self.producer(pid)?;
        let r = p.find(&self.hasher, iid)?;
        if self.is_expired(r.t(), now_ms) {
            None
        } else {
            Some(r.id())
        }
    }

    /// Records a fresh `(pid, iid) -> id` (the caller looked it up first) at
    /// `max(now_ms, last_time_ms())`, evicts the pid's oldest iids beyond
    /// maxsize, and returns the time used. Does not count.
    pub fn record(&mut self, pid: &[u8], iid: &[u8], id: StreamId, now_ms: u64) -> u64 {
        let t = now_ms.max(self.last_time_ms);
        self.record_at(pid, iid, id, t);
        t
    }

    /// Records `(pid, iid) -> id` at `time_ms` (replication, RDB load), also
    /// clamped to never go backwards. Expired iids are forgotten first; if the
    /// pair is still tracked (callers look up first), only its stream ID is
    /// replaced and its age and place in the eviction order are kept.
    pub fn record_at(&mut self, pid: &[u8], iid: &[u8], id: StreamId, time_ms: u64) {
        let time = time_ms.max(self.last_time_ms);
        self.last_time_ms = time;
        self.expire(time);
        self.rebase(time);
        let rel = u32::try_from(time.saturating_sub(self.epoch)).unwrap_or(u32::MAX);
        let limit = self.settings.maxsize as usize;

        let idx = match self.find_slot(pid) {
            Some(idx) => idx,
            None => match self.new_producer(pid) {
                Some(idx) => idx,
                None => return,
            },
        };
        let Ok(s32) = u32::try_from(idx) else {
            return;
        };
        let hasher = &self.hasher;
        let Some(p) = self.slots.get_mut(idx).and_then(|x| x.producer.as_mut()) else {
            return;
        };
        if let Some(r) = p.find_mut(hasher, iid) {
            r.set_id(id);
            return;
        }
        let rec = Rec::new(iid, id, rel);
        self.long_iid_bytes += rec.heap_bytes();
        p.push(rec, hasher, limit);
        self.live_iids = self.live_iids.saturating_add(1);
        self.push_queue(s32);
        self.evict(idx, limit);
    }

    /// Forgets the oldest iids of the producer in slot `idx` while it holds
    /// more than `limit`; their queue entries become stale.
    fn evict(&mut self, idx: usize, limit: usize) {
        let hasher = &self.hasher;
        let Some(slot) = self.slots.get_mut(idx) else {
            return;
        };
        let Some(p) = slot.producer.as_mut() else {
            return;
        };
        let mut evicted = 0u64;
        while p.len() > limit {
            let Some(rec) = p.pop_front(hasher) else {
                break;
            };
            self.long_iid_bytes = self.long_iid_bytes.saturating_sub(rec.heap_bytes());
            evicted += 1;
        }
        let now_empty = p.is_empty();
        slot.stale += evicted;
        self.stale += evicted;
        self.live_iids = self.live_iids.saturating_sub(evicted);
        self.iids_evicted = self.iids_evicted.saturating_add(evicted);
        if now_empty {
            self.remove_producer(idx);
        }
    }

    /// Creates an empty producer for `pid` in a free slot; its index.
    fn new_producer(&mut self, pid: &[u8]) -> Option<usize> {
        let idx = match self.free.pop() {
            Some(s) => s as usize,
            None => {
                u32::try_from(self.slots.len()).ok()?;
                self.slots.push(Slot::default());
                self.slots.len() - 1
            }
        };
        let s32 = u32::try_from(idx).ok()?;
        let slot = self.slots.get_mut(idx)?;
        slot.producer = Some(Producer::new(pid));
        self.live_pids += 1;
        let slots = &self.slots;
        let hasher = &self.hasher;
        self.pids.insert_unique(hash_bytes(hasher, pid), s32, |&s| {
            let pid = slots
                .get(s as usize)
                .and_then(|x| x.producer.as_ref())
                .map(Producer::pid)
                .unwrap_or(&[]);
            hash_bytes(hasher, pid)
        });
        Some(idx)
    }

    /// Appends a queue entry; compacts the queue in place instead of growing
    /// it when at least an eighth of it is stale.
    fn push_queue(&mut self, s: u32) {
        let len = self.queue.len();
        if len == self.queue.capacity()
            && self.stale > 0
            && self.stale.saturating_mul(8) >= len as u64
        {
            self.drop_stale_entries();
        }
        self.queue.push_back(s);
    }

    /// Moves the epoch so that `time` fits in a `u32` offset (see the module
    /// documentation). Call after `expire(time)`.
    fn rebase(&mut self, time: u64) {
        if time.saturating_sub(self.epoch) <= u64::from(u32::MAX) && time >= self.epoch {
            return;
        }
        let span = self.duration_ms().min(u64::from(u32::MAX));
        let new_epoch = time.saturating_sub(span);
        let old_epoch = self.epoch;
        for slot in self.slots.iter_mut() {
            if let Some(p) = slot.producer.as_mut() {
                for r in p.iter_mut() {
                    let abs = old_epoch.saturating_add(u64::from(r.t()));
                    let rel = abs.saturating_sub(new_epoch).min(u64::from(u32::MAX));
                    r.set_t(rel as u32);
                }
            }
        }
        self.epoch = new_epoch;
    }

    /// XCFGSET: if any supplied value differs from the current one, store the
    /// supplied values and forget every producer and iid (lifetime counters
    /// are kept). Returns true if the settings changed.
    pub fn configure(&mut self, duration: Option<u32>, maxsize: Option<u32>) -> bool {
        let mut next = self.settings;
        if let Some(d) = duration {
            next.duration_secs = d;
        }
        if let Some(m) = maxsize {
            next.maxsize = m;
        }
        if next == self.settings {
            return false;
        }
        self.settings = next;
        self.clear();
        true
    }

    /// Forgets every producer and iid; keeps settings, counters and the
    /// latest insertion time.
    fn clear(&mut self) {
        self.slots = Vec::new();
        self.free = Vec::new();
        self.pids = HashTable::new();
        self.queue = VecDeque::new();
        self.stale = 0;
        self.live_pids = 0;
        self.live_iids = 0;
        self.long_iid_bytes = 0;
    }

    /// Pids holding at least one iid (exact after `expire(now)`).
    pub fn pids_tracked(&self) -> u64 {
        self.live_pids
    }

    /// Iids held over all pids (exact after `expire(now)`).
    pub fn iids_tracked(&self) -> u64 {
        self.live_iids
    }

    /// Every producer with its iids oldest first, pids in ascending byte
    /// order (a canonical order: replicas with the same state iterate alike).
    /// Includes iids expired but not yet reclaimed: call `expire` first.
    pub fn producers(&self) -> impl Iterator<Item = (&[u8], ProducerIter<'_>)> {
        let mut ps: Vec<&Producer> = self
            .slots
            .iter()
            .filter_map(|s| s.producer.as_ref())
            .collect();
        ps.sort_unstable_by(|a, b| a.pid().cmp(b.pid()));
        let epoch = self.epoch;
        ps.into_iter().map(move |p| {
            (
                p.pid(),
                ProducerIter {
                    inner: p.iter(),
                    epoch,
                },
            )
        })
    }

    /// Every tracked iid in insertion order over all producers (oldest
    /// first, so also oldest first per pid): `(pid, iid, id, time_ms)`.
    /// Replaying these with [`IdmpState::record_at`] rebuilds the same state.
    /// Includes iids expired but not yet reclaimed: call `expire` first.
    pub fn records(&self) -> RecordsIter<'_> {
        RecordsIter {
            state: self,
            pos: 0,
            skip: self.slots.iter().map(|s| s.stale).collect(),
            cursor: vec![0; self.slots.len()],
        }
    }

    /// The latest insertion time used (the clamp floor of the next record).
    pub fn last_time_ms(&self) -> u64 {
        self.last_time_ms
    }

    /// Raises the clamp floor of insertion times to `time_ms` (RDB load
    /// restores the saved one; it never moves backwards).
    pub fn restore_last_time(&mut self, time_ms: u64) {
        self.last_time_ms = self.last_time_ms.max(time_ms);
    }

    /// Heap bytes used by the state (an estimate: allocator overhead is not
    /// counted).
    pub fn mem_usage(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Slot>()
            + self.free.capacity() * std::mem::size_of::<u32>()
            + self.pids.allocation_size()
            + self.queue.capacity() * std::mem::size_of::<u32>()
            + self.long_iid_bytes
            + self
                .slots
                .iter()
                .filter_map(|s| s.producer.as_ref())
                .map(Producer::mem_usage)
                .sum::<usize>()
    }
}
