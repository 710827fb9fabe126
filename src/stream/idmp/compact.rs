//! Reclaiming memory of the IDMP state: dropping stale queue entries and
//! renumbering the producer slab when it is mostly vacant.

use hashbrown::HashTable;

use super::producer::Producer;
use super::{IdmpState, Slot};

/// Fewest vacant slots worth a renumbering (low in tests to exercise it).
const MIN_VACANT: usize = if cfg!(test) { 2 } else { 64 };

impl IdmpState {
    /// Removes every stale entry from the expiry queue, in place.
    pub(super) fn drop_stale_entries(&mut self) {
        let slot_stale = &mut self.slot_stale;
        self.queue
            .retain(|&q| match slot_stale.get_mut(q as usize) {
                Some(c) if *c > 0 => {
                    *c -= 1;
                    false
                }
                Some(_) => true,
                None => false,
            });
        self.stale = 0;
    }

    /// Gives memory back after expiry: resets an empty state, renumbers a
    /// mostly vacant slab, shrinks an oversized queue. Amortised O(1): a
    /// renumbering costs O(slots + queue) and needs as many vacancies (each
    /// created by a producer that came and went) since the last one.
    pub(super) fn shrink(&mut self) {
        if self.live_iids == 0 && self.live_pids == 0 {
            if !self.slots.is_empty() || self.queue.capacity() > 0 {
                self.slots = Vec::new();
                self.slot_stale = Vec::new();
                self.free = Vec::new();
                self.pids = HashTable::new();
                self.queue = Default::default();
                self.stale = 0;
            }
            return;
        }
        let live = usize::try_from(self.live_pids).unwrap_or(usize::MAX);
        let vacant = self.slots.len().saturating_sub(live);
        if vacant > MIN_VACANT
            && vacant > live.saturating_mul(3)
            && vacant.saturating_mul(4) >= self.queue.len()
        {
            self.renumber();
        }
        let cap = self.queue.capacity();
        if cap > 64 && self.queue.len() * 4 < cap {
            self.queue.shrink_to(self.queue.len() * 2);
        }
    }

    /// Moves the producers to slots `0..live`, in slot order, rewriting the
    /// queue and the pid index; frees the vacant slots.
    fn renumber(&mut self) {
        self.drop_stale_entries();
        let mut map: Vec<u32> = Vec::with_capacity(self.slots.len());
        let mut dense: Vec<Slot> = Vec::with_capacity(self.slots.len() / 2);
        for slot in std::mem::take(&mut self.slots) {
            match slot.producer {
                Some(p) => {
                    map.push(u32::try_from(dense.len()).unwrap_or(u32::MAX));
                    dense.push(Slot { producer: Some(p) });
                }
                None => map.push(u32::MAX),
            }
        }
        dense.shrink_to_fit();
        // No stale entry is left (dropped above).
        self.slot_stale = vec![0; dense.len()];
        self.slots = dense;
        self.free = Vec::new();
        // No stale entry is left, so every entry names an occupied slot.
        self.queue
            .retain(|&q| map.get(q as usize).is_some_and(|&n| n != u32::MAX));
        for q in self.queue.iter_mut() {
            *q = map.get(*q as usize).copied().unwrap_or(u32::MAX);
        }
        for s in self.pids.iter_mut() {
            *s = map.get(*s as usize).copied().unwrap_or(u32::MAX);
        }
        let slots = &self.slots;
        let hasher = &self.hasher;
        self.pids.shrink_to(slots.len(), |&s| {
            let pid = slots
                .get(s as usize)
                .and_then(|x| x.producer.as_ref())
                .map(Producer::pid)
                .unwrap_or(&[]);
            hasher.hash(pid)
        });
    }
}
