//! One node of the entry store: a contiguous byte buffer holding the master
//! field names and then the entries, plus the counters a native listpack
//! keeps in its master entry.
//!
//! Buffer layout (all integers LEB128 unless said otherwise):
//!
//! ```text
//! master fields:  (len name)*                      -- count kept in `master_count`
//! entry:          flags:u8  ms_delta  seq  [nfields]  ([len field] len value)*  backlen
//! ```
//!
//! * `flags`: [`FLAG_DELETED`], [`FLAG_SAMEFIELDS`] (field names are the
//!   master's and are omitted, as is `nfields`).
//! * `ms_delta` is `ms - master.ms`; `seq` is `seq - master.seq` when
//!   `ms_delta` is 0 and the plain sequence otherwise.
//! * `backlen` is the byte length from `flags` to the last value, written
//!   with [`varint::put_back`] so that entries can be walked backwards.
//!
//! RDB encoding 3 saves this buffer as it is; a buffer read back is adopted
//! only after [`super::validate`] has proved what the readers here assume.

use super::iter::Entry;
use super::lpsize;
use super::varint;
use crate::stream::id::StreamId;

/// The entry is deleted (a tombstone).
pub(super) const FLAG_DELETED: u8 = 1;
/// The entry's field names are the node's master field names.
pub(super) const FLAG_SAMEFIELDS: u8 = 2;

/// A node: entries whose IDs start at the node's key (its master ID).
#[derive(Clone, Debug)]
pub(super) struct Node {
    buf: Vec<u8>,
    entries_start: usize,
    master_count: usize,
    /// Live entries (the listpack's `count`).
    pub(super) live: u64,
    /// Entries flagged deleted (the listpack's `deleted`).
    pub(super) deleted: u64,
    /// Bytes the native listpack would use, minus its `count` and `deleted`
    /// elements (whose sizes vary with their values); `None` for a node
    /// adopted from a payload until it is first needed (only the tail node's
    /// is ever read, by appends), see [`Node::settle_native`].
    native_rest: Option<u64>,
}

/// A decoded entry with its flags and the position of the next entry.
pub(super) struct Raw<'a> {
    pub(super) flags: u8,
    pub(super) entry: Entry<'a>,
    pub(super) next: usize,
}

/// Number of field/value pairs in an `f, v, f, v...` slice (a trailing odd
/// element is ignored).
pub(super) fn pair_count(fields: &[&[u8]]) -> usize {
    fields.len() / 2
}

/// Native bytes of an empty listpack holding a master entry of `count`
/// fields, before the field names themselves (see [`Node::new`]).
pub(super) fn master_native(count: usize) -> u64 {
    lpsize::LP_EMPTY + lpsize::int_elem(count as i64) + lpsize::int_elem(0)
}

/// Native bytes of one entry: flags, ms-diff, seq-diff (as int64),
/// `[num-fields]` unless it shares the master fields, its field and value
/// strings (`strings`, their [`lpsize::str_elem`] sum) and lp-count.
pub(super) fn entry_native(
    ms_delta: u64,
    seq_delta: u64,
    count: usize,
    same: bool,
    strings: u64,
) -> u64 {
    let mut native = lpsize::int_elem(0)
        + lpsize::int_elem(ms_delta as i64)
        + lpsize::int_elem(seq_delta as i64)
        + strings;
    let mut lp_count = count as u64 + 3;
    if !same {
        native += lpsize::int_elem(count as i64);
        lp_count += count as u64 + 1;
    }
    native + lpsize::int_elem(i64::try_from(lp_count).unwrap_or(i64::MAX))
}

impl Node {
    /// A node from parts that [`super::validate`] proved consistent;
    /// nothing is checked here. Its native size is computed when first
    /// needed.
    pub(super) fn from_parts(
        buf: Vec<u8>,
        entries_start: usize,
        master_count: usize,
        live: u64,
        deleted: u64,
    ) -> Node {
        Node {
            buf,
            entries_start,
            master_count,
            live,
            deleted,
            native_rest: None,
        }
    }

    /// The native size (minus `count` and `deleted`) recomputed from the
    /// entries, exactly as [`Node::new`] and [`Node::push`] accumulate it.
    fn compute_native(&self, master_id: StreamId) -> u64 {
        let mut native = master_native(self.master_count);
        let mut pos = 0;
        while let Some((name, next)) = varint::get_bytes(self.master_fields(), pos) {
            native += lpsize::str_elem(name);
            pos = next;
        }
        let mut pos = self.first_pos();
        while let Some(raw) = self.entry_at(master_id, pos) {
            let id = raw.entry.id();
            let same = raw.flags & FLAG_SAMEFIELDS != 0;
            let mut strings = 0;
            for (f, v) in raw.entry.fields() {
                if !same {
                    strings += lpsize::str_elem(f);
                }
                strings += lpsize::str_elem(v);
            }
            native += entry_native(
                id.ms.wrapping_sub(master_id.ms),
                id.seq.wrapping_sub(master_id.seq),
                raw.entry.field_count(),
                same,
                strings,
            );
            pos = raw.next;
        }
        native
    }

    /// Computes the native size of an adopted node, once (before appends).
    pub(super) fn settle_native(&mut self, master_id: StreamId) {
        if self.native_rest.is_none() {
            self.native_rest = Some(self.compute_native(master_id));
        }
    }

    /// The whole buffer (master fields, then the entries).
    pub(super) fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Number of master fields.
    pub(super) fn master_count(&self) -> usize {
        self.master_count
    }

    /// A node whose master entry takes the field names of `fields`, holding
    /// `fields` as its first entry with ID `id` (which is the master ID).
    pub(super) fn new(id: StreamId, fields: &[&[u8]]) -> Node {
        let count = pair_count(fields);
        let mut buf = Vec::new();
        let mut native = master_native(count);
        for pair in fields.chunks_exact(2) {
            if let Some(f) = pair.first() {
                varint::put(&mut buf, f.len() as u64);
                buf.extend_from_slice(f);
                native += lpsize::str_elem(f);
            }
        }
        let mut node = Node {
            entries_start: buf.len(),
            buf,
            master_count: count,
            live: 0,
            deleted: 0,
            native_rest: Some(native),
        };
        node.push(id, id, fields, true);
        node
    }

    /// `lpBytes` of the equivalent native listpack (computed from the
    /// entries if [`Node::settle_native`] was not called on an adopted node).
    pub(super) fn native_bytes(&self, master_id: StreamId) -> u64 {
        let live = i64::try_from(self.live).unwrap_or(i64::MAX);
        let deleted = i64::try_from(self.deleted).unwrap_or(i64::MAX);
        let rest = match self.native_rest {
            Some(n) => n,
            None => self.compute_native(master_id),
        };
        rest + lpsize::int_elem(live) + lpsize::int_elem(deleted)
    }

    /// Live plus deleted entries.
    pub(super) fn total(&self) -> u64 {
        self.live.saturating_add(self.deleted)
    }

    /// The master field names, encoded.
    fn master_fields(&self) -> &[u8] {
        self.buf.get(..self.entries_start).unwrap_or(&[])
    }

    /// True when the names in `fields` are exactly the master field names.
    pub(super) fn same_fields(&self, fields: &[&[u8]]) -> bool {
        if pair_count(fields) != self.master_count {
            return false;
        }
        let master = self.master_fields();
        let mut pos = 0;
        for pair in fields.chunks_exact(2) {
            let (Some(f), Some((m, next))) = (pair.first(), varint::get_bytes(master, pos)) else {
                return false;
            };
            if *f != m {
                return false;
            }
            pos = next;
        }
        true
    }

    /// Appends an entry (`id` greater than every ID in the node).
    pub(super) fn push(&mut self, master_id: StreamId, id: StreamId, fields: &[&[u8]], same: bool) {
        let count = pair_count(fields);
        let start = self.buf.len();
        let ms_delta = id.ms.wrapping_sub(master_id.ms);
        let seq_delta = id.seq.wrapping_sub(master_id.seq);
        self.buf.push(if same { FLAG_SAMEFIELDS } else { 0 });
        varint::put(&mut self.buf, ms_delta);
        varint::put(
            &mut self.buf,
            if ms_delta == 0 { seq_delta } else { id.seq },
        );
        if !same {
            varint::put(&mut self.buf, count as u64);
        }
        let mut strings = 0;
        for pair in fields.chunks_exact(2) {
            if let [f, v] = pair {
                if !same {
                    varint::put(&mut self.buf, f.len() as u64);
                    self.buf.extend_from_slice(f);
                    strings += lpsize::str_elem(f);
                }
                varint::put(&mut self.buf, v.len() as u64);
                self.buf.extend_from_slice(v);
                strings += lpsize::str_elem(v);
            }
        }
        let len = (self.buf.len() - start) as u64;
        varint::put_back(&mut self.buf, len);
        if let Some(n) = self.native_rest.as_mut() {
            *n += entry_native(ms_delta, seq_delta, count, same, strings);
        }
        self.live += 1;
    }

    /// Releases spare capacity (done when the node stops being the tail).
    pub(super) fn shrink(&mut self) {
        self.buf.shrink_to_fit();
    }

    /// Heap bytes of the buffer.
    pub(super) fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Position of the first entry.
    pub(super) fn first_pos(&self) -> usize {
        self.entries_start
    }

    /// Position just past the last entry.
    pub(super) fn end_pos(&self) -> usize {
        self.buf.len()
    }

    /// Decodes the entry starting at `pos`; `None` at the end of the node.
    pub(super) fn entry_at(&self, master_id: StreamId, pos: usize) -> Option<Raw<'_>> {
        let buf = self.buf.as_slice();
        let flags = *buf.get(pos)?;
        let (ms_delta, p) = varint::get(buf, pos + 1)?;
        let (seq, p) = varint::get(buf, p)?;
        let id = if ms_delta == 0 {
            StreamId::new(master_id.ms, master_id.seq.wrapping_add(seq))
        } else {
            StreamId::new(master_id.ms.wrapping_add(ms_delta), seq)
        };
        let same = flags & FLAG_SAMEFIELDS != 0;
        let (count, p) = if same {
            (self.master_count, p)
        } else {
            let (n, p) = varint::get(buf, p)?;
            (usize::try_from(n).ok()?, p)
        };
        let mut q = p;
        for _ in 0..count {
            if !same {
                q = varint::get_bytes(buf, q)?.1;
            }
            q = varint::get_bytes(buf, q)?.1;
        }
        let next = q.checked_add(varint::size((q - pos) as u64))?;
        let entry = Entry::new(
            id,
            count,
            buf.get(p..q)?,
            if same {
                Some(self.master_fields())
            } else {
                None
            },
        );
        Some(Raw { flags, entry, next })
    }

    /// Position of the entry that ends at `end`; `None` before the first.
    pub(super) fn entry_before(&self, end: usize) -> Option<usize> {
        if end <= self.entries_start {
            return None;
        }
        let (len, back_start) = varint::get_back(&self.buf, end)?;
        let start = back_start.checked_sub(usize::try_from(len).ok()?)?;
        (start >= self.entries_start).then_some(start)
    }

    /// ID of the last entry, deleted or not (`lpGetEdgeStreamID(lp, 0, ..)`).
    pub(super) fn last_id(&self, master_id: StreamId) -> Option<StreamId> {
        let pos = self.entry_before(self.end_pos())?;
        Some(self.entry_at(master_id, pos)?.entry.id())
    }

    /// Flags the entry at `pos` deleted and updates the counters; false if it
    /// was already deleted (or `pos` is not an entry).
    pub(super) fn mark_deleted(&mut self, pos: usize) -> bool {
        match self.buf.get_mut(pos) {
            Some(flags) if *flags & FLAG_DELETED == 0 => {
                *flags |= FLAG_DELETED;
                self.live = self.live.saturating_sub(1);
                self.deleted += 1;
                true
            }
            _ => false,
        }
    }

    /// Drops the entries from byte position `pos` (an entry boundary after
    /// the first entry) to the end when they are all tombstones; returns how
    /// many, or `None` (nothing changed) when one of them is live.
    pub(super) fn truncate_tombstones(&mut self, master_id: StreamId, pos: usize) -> Option<u64> {
        if pos <= self.entries_start {
            return None;
        }
        let mut n = 0u64;
        let mut p = pos;
        while p < self.buf.len() {
            let raw = self.entry_at(master_id, p)?;
            if raw.flags & FLAG_DELETED == 0 {
                return None;
            }
            n += 1;
            p = raw.next;
        }
        self.buf.truncate(pos);
        self.deleted = self.deleted.saturating_sub(n);
        // Recomputed from the entries left when an append needs it.
        self.native_rest = None;
        Some(n)
    }

    /// Position of the entry with this ID (deleted or not).
    pub(super) fn find(&self, master_id: StreamId, id: StreamId) -> Option<(usize, u8)> {
        let mut pos = self.first_pos();
        while let Some(raw) = self.entry_at(master_id, pos) {
            let eid = raw.entry.id();
            if eid == id {
                return Some((pos, raw.flags));
            }
            if eid > id {
                return None;
            }
            pos = raw.next;
        }
        None
    }
}
