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
//!   stored once, in the producer: inline when at most 22 bytes long, so
//!   that comparing a short pid follows no pointer.
//! * A producer keeps its records in a ring (oldest first) and an index: the
//!   iid bytes are stored once, inline in the 40-byte record when at most 18
//!   bytes long. Up to 32 iids the index is one byte of each iid's hash in
//!   ring order, inside the producer (no allocation; a lookup scans them and
//!   compares the iids of matching bytes only); beyond, a hash table of ring
//!   sequence numbers keyed by the iid's hash. A full producer forgets its
//!   oldest iid before taking a new one, so its ring never outgrows maxsize.
//! * An expiry queue holds one `u32` slot number per recorded iid, in
//!   insertion (= time) order. A record forgotten by capacity eviction pops
//!   the queue front if that is its slot's, else leaves a stale queue entry
//!   behind; the slot counts its stale entries (they are always the slot's
//!   oldest ones in the queue), so [`IdmpState::expire`] pops the queue front
//!   in amortised O(1) per iid: a stale entry is skipped, a live one names the
//!   globally oldest record, which is its producer's front. When the queue is
//!   full and at least an eighth of it is stale it is compacted in place
//!   instead of growing. The state keeps a lower bound of the oldest
//!   record's expiry time, so `expire` returns on one comparison while
//!   nothing is due and no stale entry waits.
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
//! # Hashing
//!
//! pids and iids come from clients, so their hash is keyed with secret random
//! seeds (HashDoS): foldhash, with a process-wide seed and a per-state seed
//! drawn from the OS random source (see `hash.rs`). Hash values are never
//! persisted. [`IdmpState::probe`] returns the pid's hash, the iid's hash (if
//! the pid has a producer), the producer's slot and whether the iid was
//! absent, and
//! [`IdmpState::record_probed`] reuses them, checking each is still true: an
//! XADD IDMP hashes its pid and iid once each and searches once.

mod compact;
mod hash;
mod pid;
mod producer;
mod rec;
mod tags;

#[cfg(test)]
mod model_tests;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;

use hashbrown::HashTable;

use self::hash::KeyedHasher;
use self::producer::Producer;
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

/// A slab slot: a producer or nothing. The number of stale entries of the
/// slot still in the expiry queue is kept apart, in `IdmpState::slot_stale`
/// (a dense array: dropping a stale queue entry reads 8 bytes there, not
/// the slot's cache lines).
#[derive(Clone, Debug, Default)]
struct Slot {
    producer: Option<Producer>,
}

/// The expiry queue's side of capacity eviction, borrowed from the state:
/// the queue, the state's count of stale entries and the per-slot counts.
struct QueueRefs<'a> {
    queue: &'a mut VecDeque<u32>,
    stale: &'a mut u64,
    slot_stale: &'a mut Vec<u64>,
}

/// What capacity eviction forgot (see `Evicted::evict`), for the caller to
/// account: records and their heap bytes.
#[derive(Default)]
struct Evicted {
    count: u64,
    heap_bytes: usize,
}

impl Evicted {
    /// Forgets the oldest iids of `slot` (number `idx`) while it holds more
    /// than `keep`. Leaves the producer in place even if emptied. Inlined:
    /// it runs on every add at capacity.
    #[inline(always)]
    fn evict(
        &mut self,
        slot: &mut Slot,
        idx: usize,
        keep: usize,
        q: &mut QueueRefs<'_>,
        hasher: &KeyedHasher,
    ) {
        let Some(p) = slot.producer.as_mut() else {
            return;
        };
        while p.len() > keep {
            let Some(rec) = p.pop_front(hasher) else {
                break;
            };
            self.heap_bytes += rec.heap_bytes();
            self.count += 1;
            forget_entry(idx, q);
        }
    }

    /// Forgets the oldest iid of `slot` (number `idx`, a non-empty producer
    /// at capacity) and records `rec` (`hash` its iid's hash if known) in its
    /// place: [`Evicted::evict`] of one record and a push, in one step.
    #[inline(always)]
    fn replace(
        &mut self,
        slot: &mut Slot,
        idx: usize,
        rec: Rec,
        hash: Option<u64>,
        q: &mut QueueRefs<'_>,
        hasher: &KeyedHasher,
    ) {
        let Some(p) = slot.producer.as_mut() else {
            return;
        };
        if p.is_empty() {
            p.push(rec, hash, hasher, 1);
            return;
        }
        self.heap_bytes += p.replace_oldest(rec, hash, hasher);
        self.count += 1;
        forget_entry(idx, q);
    }
}

/// The queue side of forgetting the oldest record of slot `idx` by capacity
/// eviction: the queue front is popped if it is the slot's, else the
/// record's entry becomes stale (counted for the slot and for the state).
/// The front entry, if the slot's, is its oldest: the record's, or a stale
/// one while the record's becomes stale (the slot's count is the same either
/// way).
#[inline(always)]
fn forget_entry(idx: usize, q: &mut QueueRefs<'_>) {
    if q.queue.front().is_some_and(|&s| s as usize == idx) {
        q.queue.pop_front();
    } else if let Some(c) = q.slot_stale.get_mut(idx) {
        *c += 1;
        *q.stale += 1;
    }
}

/// The IDMP state of one stream.
#[derive(Clone, Debug)]
pub struct IdmpState {
    settings: IdmpSettings,
    hasher: KeyedHasher,
    /// Number of records pushed (wrapping): a [`Probe`] that found its iid
    /// absent is still right while this has not moved.
    pushes: u64,
    /// No record expires before this time (`u64::MAX`: none is known to
    /// expire); a lower bound, exact after an `expire` that was due.
    next_expiry: u64,
    epoch: u64,
    last_time_ms: u64,
    slots: Vec<Slot>,
    /// Per slot (same length as `slots`): its stale entries still in the
    /// queue (kept across producers reusing the slot); they are always the
    /// slot's oldest entries in the queue.
    slot_stale: Vec<u64>,
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

/// A looked-up `(pid, iid)`: the answer of [`IdmpState::probe`] and the
/// hashes and places it found, which [`IdmpState::record_probed`] reuses.
/// Holds no borrow of the state, so the stream can change in between.
#[derive(Clone, Debug)]
pub struct Probe<'k> {
    pid: &'k [u8],
    iid: &'k [u8],
    /// The seed of the hasher that computed the hashes.
    seed: u64,
    pid_hash: u64,
    /// Computed only when the pid's producer was searched.
    iid_hash: Option<u64>,
    /// The slot of the pid's producer, if it had one.
    slot: Option<u32>,
    /// `Some(pushes)` when the iid was not held at all (expired or not).
    absent_at: Option<u64>,
    found: Option<StreamId>,
}

impl Probe<'_> {
    /// The stream ID recorded for the pair, if tracked and not expired at
    /// the probe's time (what [`IdmpState::lookup`] answers).
    pub fn found(&self) -> Option<StreamId> {
        self.found
    }
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
            hasher: KeyedHasher::new(),
            pushes: 0,
            next_expiry: u64::MAX,
            epoch: 0,
            last_time_ms: 0,
            slots: Vec::new(),
            slot_stale: Vec::new(),
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

    /// The time at which a record at relative time `t` expires (`u64::MAX`
    /// if never: see [`IdmpState::expired_at`]).
    fn expiry_of(&self, t: u32) -> u64 {
        self.epoch
            .saturating_add(u64::from(t))
            .saturating_add(self.duration_ms())
    }

    /// Forgets every iid expired at `now_ms` (recorded at or before
    /// `now_ms - duration`), and drops producers left empty. Amortised O(1)
    /// per forgotten iid; one comparison when nothing is due and no stale
    /// queue entry waits (everything that freed memory since the last call
    /// has already given it back). When stale entries wait but nothing is
    /// due, only they go: the live entry behind them is not looked at (its
    /// record is not touched), and the expiry bound stays as it was.
    pub fn expire(&mut self, now_ms: u64) {
        if now_ms < self.next_expiry && self.stale == 0 {
            return;
        }
        let due = now_ms >= self.next_expiry;
        if due {
            self.next_expiry = u64::MAX;
        }
        while let Some(&s) = self.queue.front() {
            let idx = s as usize;
            if let Some(c) = self.slot_stale.get_mut(idx) {
                if *c > 0 {
                    *c -= 1;
                    self.stale = self.stale.saturating_sub(1);
                    self.queue.pop_front();
                    continue;
                }
            }
            if !due {
                // next_expiry is still a lower bound: no record expires
                // before it, and none was added.
                break;
            }
            let front_t = self
                .slots
                .get(idx)
                .and_then(|x| x.producer.as_ref())
                .and_then(|p| p.front())
                .map(Rec::t);
            let Some(t) = front_t else {
                // Cannot happen (a live entry names a non-empty producer);
                // dropping it keeps the queue moving.
                self.queue.pop_front();
                continue;
            };
            if !self.is_expired(t, now_ms) {
                self.next_expiry = self.expiry_of(t);
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
        let hash = self.hasher.hash(p.pid());
        if let Ok(entry) = self.pids.find_entry(hash, |&s| s as usize == idx) {
            entry.remove();
        }
        self.live_pids = self.live_pids.saturating_sub(1);
        if let Ok(s) = u32::try_from(idx) {
            self.free.push(s);
        }
    }

    /// The slot of the producer of `pid`, whose hash is `hash`.
    fn find_slot(&self, hash: u64, pid: &[u8]) -> Option<usize> {
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

    /// Hashes `(pid, iid)` and finds them: the stream ID recorded for the
    /// pair if tracked and not expired at `now_ms` ([`Probe::found`], the
    /// same as [`IdmpState::lookup`]), and what
    /// [`IdmpState::record_probed`] needs to record the pair without hashing
    /// or searching again. Exact whether or not [`IdmpState::expire`] has
    /// run.
    pub fn probe<'k>(&self, pid: &'k [u8], iid: &'k [u8], now_ms: u64) -> Probe<'k> {
        let pid_hash = self.hasher.hash(pid);
        let mut probe = Probe {
            pid,
            iid,
            seed: self.hasher.seed(),
            pid_hash,
            iid_hash: None,
            slot: None,
            absent_at: None,
            found: None,
        };
        let Some(idx) = self.find_slot(pid_hash, pid) else {
            probe.absent_at = Some(self.pushes);
            return probe;
        };
        probe.slot = u32::try_from(idx).ok();
        let Some(p) = self.slots.get(idx).and_then(|x| x.producer.as_ref()) else {
            return probe;
        };
        match p.position(&self.hasher, iid, &mut probe.iid_hash) {
            None => probe.absent_at = Some(self.pushes),
            Some(pos) => {
                probe.found = p
                    .get(pos)
                    .filter(|r| !self.is_expired(r.t(), now_ms))
                    .map(Rec::id);
            }
        }
        probe
    }

    /// The stream ID recorded for `(pid, iid)`, if tracked and not expired at
    /// `now_ms`. Exact whether or not [`IdmpState::expire`] has run.
    pub fn lookup(&self, pid: &[u8], iid: &[u8], now_ms: u64) -> Option<StreamId> {
        self.probe(pid, iid, now_ms).found()
    }

    /// Records a fresh `(pid, iid) -> id` (the caller looked it up first) at
    /// `max(now_ms, last_time_ms())`, evicts the pid's oldest iids beyond
    /// maxsize, and returns the time used. Does not count.
    pub fn record(&mut self, pid: &[u8], iid: &[u8], id: StreamId, now_ms: u64) -> u64 {
        let probe = self.keys(pid, iid);
        self.record_probed(probe, id, now_ms)
    }

    /// [`IdmpState::record`] of the pair of `probe` (which found nothing
    /// live), reusing its hashes and search: a fresh IDMP add hashes the pid
    /// and the iid once each. A probe taken from another state, or made
    /// stale by records since, is still right (it is checked and redone as
    /// needed), only slower.
    pub fn record_probed(&mut self, probe: Probe<'_>, id: StreamId, now_ms: u64) -> u64 {
        let t = now_ms.max(self.last_time_ms);
        self.insert(probe, id, t);
        t
    }

    /// Records `(pid, iid) -> id` at `time_ms` (replication, RDB load), also
    /// clamped to never go backwards. Expired iids are forgotten first; if the
    /// pair is still tracked (callers look up first), only its stream ID is
    /// replaced and its age and place in the eviction order are kept.
    pub fn record_at(&mut self, pid: &[u8], iid: &[u8], id: StreamId, time_ms: u64) {
        let probe = self.keys(pid, iid);
        self.insert(probe, id, time_ms);
    }

    /// A probe of `(pid, iid)` that hashed the pid only and searched nothing.
    fn keys<'k>(&self, pid: &'k [u8], iid: &'k [u8]) -> Probe<'k> {
        Probe {
            pid,
            iid,
            seed: self.hasher.seed(),
            pid_hash: self.hasher.hash(pid),
            iid_hash: None,
            slot: None,
            absent_at: None,
            found: None,
        }
    }

    /// [`IdmpState::record_at`] of the pair of `probe`, trusting of the probe
    /// only what is still true.
    fn insert(&mut self, mut probe: Probe<'_>, id: StreamId, time_ms: u64) {
        let time = time_ms.max(self.last_time_ms);
        self.last_time_ms = time;
        self.expire(time);
        self.rebase(time);
        let rel = u32::try_from(time.saturating_sub(self.epoch)).unwrap_or(u32::MAX);
        let limit = self.settings.maxsize as usize;

        if probe.seed != self.hasher.seed() {
            probe = self.keys(probe.pid, probe.iid);
        }
        let (pid, iid) = (probe.pid, probe.iid);
        // The probe's slot is still the producer's if it holds a producer
        // of this pid (pids are unique); expiry may have moved or removed it.
        let hinted = probe.slot.map(|s| s as usize).filter(|&s| {
            self.slots
                .get(s)
                .and_then(|x| x.producer.as_ref())
                .is_some_and(|p| p.pid() == pid)
        });
        let idx = match hinted.or_else(|| self.find_slot(probe.pid_hash, pid)) {
            Some(idx) => idx,
            None => match self.new_producer(pid, probe.pid_hash) {
                Some(idx) => idx,
                None => return,
            },
        };
        let Ok(s32) = u32::try_from(idx) else {
            return;
        };
        // Records only leave between the probe and now unless some were
        // pushed: an iid absent then is absent now.
        let absent = probe.absent_at == Some(self.pushes);
        let hasher = &self.hasher;
        let Some(slot) = self.slots.get_mut(idx) else {
            return;
        };
        let Some(p) = slot.producer.as_mut() else {
            return;
        };
        if !absent {
            if let Some(pos) = p.position(hasher, iid, &mut probe.iid_hash) {
                if let Some(r) = p.get_mut(pos) {
                    r.set_id(id);
                }
                return;
            }
        }
        // A full producer forgets its oldest iid before the new one goes in
        // (the same outcome as pushing first and evicting after), so its
        // ring never holds more than maxsize records. At exactly maxsize
        // (the steady state) the new record is written in the evicted one's
        // place (Producer::replace_oldest): an add at capacity touches one
        // ring position, and reads of the old record only what dropping it
        // needs.
        let Some(p) = slot.producer.as_mut() else {
            return;
        };
        let full = limit > 0 && p.len() == limit;
        let rec = Rec::new(iid, id, rel);
        self.long_iid_bytes += rec.heap_bytes();
        let mut gone = Evicted::default();
        let mut q = QueueRefs {
            queue: &mut self.queue,
            stale: &mut self.stale,
            slot_stale: &mut self.slot_stale,
        };
        if full {
            gone.replace(slot, idx, rec, probe.iid_hash, &mut q, hasher);
        } else {
            if limit > 0 {
                gone.evict(slot, idx, limit - 1, &mut q, hasher);
            }
            let Some(p) = slot.producer.as_mut() else {
                return;
            };
            p.push(rec, probe.iid_hash, hasher, limit);
        }
        self.pushes = self.pushes.wrapping_add(1);
        // The newest record expires last: it matters only to an empty queue.
        self.next_expiry = self.next_expiry.min(self.expiry_of(rel));
        self.live_iids = self.live_iids.saturating_add(1);
        self.push_queue(s32);
        if limit == 0 {
            // maxsize 0 (outside the SPEC range) keeps nothing, not even the
            // new record.
            if let Some(slot) = self.slots.get_mut(idx) {
                let mut q = QueueRefs {
                    queue: &mut self.queue,
                    stale: &mut self.stale,
                    slot_stale: &mut self.slot_stale,
                };
                gone.evict(slot, idx, 0, &mut q, &self.hasher);
            }
        }
        if gone.count == 0 {
            return;
        }
        self.long_iid_bytes = self.long_iid_bytes.saturating_sub(gone.heap_bytes);
        self.live_iids = self.live_iids.saturating_sub(gone.count);
        self.iids_evicted = self.iids_evicted.saturating_add(gone.count);
        if self
            .slots
            .get(idx)
            .and_then(|x| x.producer.as_ref())
            .is_some_and(Producer::is_empty)
        {
            self.remove_producer(idx);
        }
        self.shrink();
    }

    /// Creates an empty producer for `pid` (whose hash is `hash`) in a free
    /// slot; its index.
    fn new_producer(&mut self, pid: &[u8], hash: u64) -> Option<usize> {
        let idx = match self.free.pop() {
            Some(s) => s as usize,
            None => {
                u32::try_from(self.slots.len()).ok()?;
                self.slots.push(Slot::default());
                self.slot_stale.push(0);
                self.slots.len() - 1
            }
        };
        let s32 = u32::try_from(idx).ok()?;
        let slot = self.slots.get_mut(idx)?;
        slot.producer = Some(Producer::new(pid));
        self.live_pids += 1;
        let slots = &self.slots;
        let hasher = &self.hasher;
        self.pids.insert_unique(hash, s32, |&s| {
            let pid = slots
                .get(s as usize)
                .and_then(|x| x.producer.as_ref())
                .map(Producer::pid)
                .unwrap_or(&[]);
            hasher.hash(pid)
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
        self.next_expiry = u64::MAX;
        self.slots = Vec::new();
        self.slot_stale = Vec::new();
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
            skip: self.slot_stale.clone(),
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
            + self.slot_stale.capacity() * std::mem::size_of::<u64>()
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
