//! Per-stream IDMP state: producers, their iids in FIFO order, expiry and
//! lifetime counters (SPEC sections 2, 4 and 5).
//!
//! First version: a simple, correct implementation of the API contract.

use std::collections::VecDeque;

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

#[derive(Clone, Debug)]
struct Rec {
    iid: Vec<u8>,
    id: StreamId,
    time_ms: u64,
}

/// The IDMP state of one stream.
#[derive(Clone, Debug)]
pub struct IdmpState {
    settings: IdmpSettings,
    producers: Vec<(Vec<u8>, VecDeque<Rec>)>,
    last_time_ms: u64,
    /// Lifetime count of fresh IDMP/IDMPAUTO adds (callers increment).
    pub iids_added: u64,
    /// Lifetime count of duplicates answered (callers increment).
    pub iids_duplicates: u64,
}

/// Iterates the iids of one producer oldest first: `(iid, id, time_ms)`.
pub struct ProducerIter<'a> {
    inner: std::collections::vec_deque::Iter<'a, Rec>,
}

impl<'a> Iterator for ProducerIter<'a> {
    type Item = (&'a [u8], StreamId, u64);
    fn next(&mut self) -> Option<Self::Item> {
        self.inner
            .next()
            .map(|r| (r.iid.as_slice(), r.id, r.time_ms))
    }
}

impl IdmpState {
    /// An empty state with the given settings.
    pub fn new(settings: IdmpSettings) -> Self {
        IdmpState {
            settings,
            producers: Vec::new(),
            last_time_ms: 0,
            iids_added: 0,
            iids_duplicates: 0,
        }
    }

    /// The current settings.
    pub fn settings(&self) -> IdmpSettings {
        self.settings
    }

    fn expired(&self, time_ms: u64, now_ms: u64) -> bool {
        now_ms >= time_ms.saturating_add(u64::from(self.settings.duration_secs) * 1000)
    }

    /// Forgets every iid expired at `now_ms`.
    pub fn expire(&mut self, now_ms: u64) {
        let dur = u64::from(self.settings.duration_secs) * 1000;
        for (_, q) in self.producers.iter_mut() {
            q.retain(|r| now_ms < r.time_ms.saturating_add(dur));
        }
        self.producers.retain(|(_, q)| !q.is_empty());
    }

    /// The stream ID recorded for `(pid, iid)` if tracked and unexpired.
    pub fn lookup(&self, pid: &[u8], iid: &[u8], now_ms: u64) -> Option<StreamId> {
        let (_, q) = self.producers.iter().find(|(p, _)| p == pid)?;
        let r = q.iter().find(|r| r.iid == iid)?;
        if self.expired(r.time_ms, now_ms) {
            None
        } else {
            Some(r.id)
        }
    }

    /// Records a fresh `(pid, iid) -> id` at `max(now_ms, last time)`; returns
    /// the time used. Does not count.
    pub fn record(&mut self, pid: &[u8], iid: &[u8], id: StreamId, now_ms: u64) -> u64 {
        let t = now_ms.max(self.last_time_ms);
        self.record_at(pid, iid, id, t);
        t
    }

    /// Records `(pid, iid) -> id` with the given insertion time.
    pub fn record_at(&mut self, pid: &[u8], iid: &[u8], id: StreamId, time_ms: u64) {
        let t = time_ms.max(self.last_time_ms);
        self.last_time_ms = t;
        let max = self.settings.maxsize as usize;
        let idx = match self.producers.iter().position(|(p, _)| p == pid) {
            Some(i) => i,
            None => {
                self.producers.push((pid.to_vec(), VecDeque::new()));
                self.producers.len() - 1
            }
        };
        if let Some((_, q)) = self.producers.get_mut(idx) {
            q.retain(|r| r.iid != iid);
            q.push_back(Rec {
                iid: iid.to_vec(),
                id,
                time_ms: t,
            });
            while q.len() > max {
                q.pop_front();
            }
        }
        self.producers.retain(|(_, q)| !q.is_empty());
    }

    /// XCFGSET: if any supplied value differs, store the values and clear all
    /// producers (counters kept). Returns true if changed.
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
        self.producers.clear();
        true
    }

    /// Pids holding at least one iid.
    pub fn pids_tracked(&self) -> u64 {
        self.producers.len() as u64
    }

    /// Iids held over all pids.
    pub fn iids_tracked(&self) -> u64 {
        self.producers.iter().map(|(_, q)| q.len() as u64).sum()
    }

    /// Producers in pid insertion order, each with its iids oldest first.
    pub fn producers(&self) -> impl Iterator<Item = (&[u8], ProducerIter<'_>)> {
        self.producers
            .iter()
            .map(|(p, q)| (p.as_slice(), ProducerIter { inner: q.iter() }))
    }

    /// The latest insertion time used (clamp floor for the next record).
    pub fn last_time_ms(&self) -> u64 {
        self.last_time_ms
    }

    /// Estimated heap bytes.
    pub fn mem_usage(&self) -> usize {
        self.producers
            .iter()
            .map(|(p, q)| p.len() + q.iter().map(|r| r.iid.len() + 48).sum::<usize>() + 64)
            .sum()
    }
}
