//! One node of the entry store: a contiguous byte buffer holding a small
//! header (the counters a native listpack keeps in its master entry, where
//! the entries start, and the node's key), the master field names and then
//! the entries.
//!
//! Buffer layout (all integers LEB128 unless said otherwise):
//!
//! ```text
//! header:         live:u32 deleted:u32 master_len:u32 master_count:u32 native_rest:u64
//!                 master_ms:u64 master_seq:u64                  (little-endian)
//! master fields:  (len name)*                      -- `master_count` of them, `master_len` bytes
//! entry:          flags:u8  ms_delta  seq  [nfields]  ([len field] len value)*  backlen
//! ```
//!
//! The header lives in the buffer rather than beside it so that a node is
//! one `Vec` in the store's index, its key included (24 bytes: see
//! `index`): the counters and the master ID cost nothing in the buffer's
//! allocation, whose size class has room to spare, and a whole node costs
//! less than the host's listpack and radix-tree key (issue 13's five-field
//! memory row).
//! The counters fit in 32 bits: every entry takes at least four bytes of a
//! buffer, and no loader accepts a buffer over 4 GiB ([`MAX_NODE_BYTES`]).
//! What persistence saves ([`Node::bytes`]) starts after the header.
//!
//! [`MAX_NODE_BYTES`]: super::validate::MAX_NODE_BYTES
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
    /// Header, master fields, entries (the module documentation).
    buf: Vec<u8>,
}

/// Bytes of the header at the start of every buffer.
pub(super) const HEADER: usize = 40;
/// Header offsets: live entries (the listpack's `count`), entries flagged
/// deleted (its `deleted`), bytes of the master fields, number of master
/// fields, and the native listpack's bytes minus its `count` and `deleted`
/// elements (whose sizes vary with their values), [`NATIVE_UNKNOWN`] for a
/// node adopted from a payload until it is first needed (only the tail
/// node's is ever read, by appends), see [`Node::settle_native`].
const LIVE: usize = 0;
const DELETED: usize = 4;
const MASTER_LEN: usize = 8;
const MASTER_COUNT: usize = 12;
const NATIVE_REST: usize = 16;
/// The master ID (the node's key): milliseconds, then sequence.
const MASTER_MS: usize = 24;
const MASTER_SEQ: usize = 32;
/// `native_rest` not computed yet.
const NATIVE_UNKNOWN: u64 = u64::MAX;

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

/// The header of a buffer.
fn header(
    master_id: StreamId,
    live: u32,
    deleted: u32,
    master_len: u32,
    master_count: u32,
    native_rest: u64,
) -> [u8; HEADER] {
    let mut h = [0u8; HEADER];
    for (at, bytes) in [
        (LIVE, &live.to_le_bytes()[..]),
        (DELETED, &deleted.to_le_bytes()[..]),
        (MASTER_LEN, &master_len.to_le_bytes()[..]),
        (MASTER_COUNT, &master_count.to_le_bytes()[..]),
        (NATIVE_REST, &native_rest.to_le_bytes()[..]),
        (MASTER_MS, &master_id.ms.to_le_bytes()[..]),
        (MASTER_SEQ, &master_id.seq.to_le_bytes()[..]),
    ] {
        if let Some(d) = h.get_mut(at..at + bytes.len()) {
            d.copy_from_slice(bytes);
        }
    }
    h
}

impl Node {
    /// A node from the parts of a payload buffer (without header) that
    /// [`super::validate`] proved consistent (each count below 2^32, as
    /// its buffer is); nothing is checked here. Its native size is computed
    /// when first needed. The buffer is copied behind a header.
    pub(super) fn from_parts(
        master_id: StreamId,
        payload: &[u8],
        master_len: u32,
        master_count: u32,
        live: u32,
        deleted: u32,
    ) -> Node {
        let mut buf = Vec::with_capacity(HEADER + payload.len());
        buf.extend_from_slice(&header(
            master_id,
            live,
            deleted,
            master_len,
            master_count,
            NATIVE_UNKNOWN,
        ));
        buf.extend_from_slice(payload);
        Node { buf }
    }

    /// The header's `u32` at `at`.
    #[inline(always)]
    fn get32(&self, at: usize) -> u32 {
        let h = self.buf.first_chunk::<HEADER>();
        h.and_then(|h| h.get(at..at + 4)?.try_into().ok())
            .map_or(0, u32::from_le_bytes)
    }

    /// Sets the header's `u32` at `at`.
    #[inline(always)]
    fn set32(&mut self, at: usize, v: u32) {
        if let Some(d) = self.buf.get_mut(at..at + 4) {
            d.copy_from_slice(&v.to_le_bytes());
        }
    }

    /// The header's `u64` at `at`.
    #[inline(always)]
    fn get64(&self, at: usize) -> Option<u64> {
        let h = self.buf.first_chunk::<HEADER>();
        h.and_then(|h| h.get(at..at + 8)?.try_into().ok())
            .map(u64::from_le_bytes)
    }

    /// The native size minus `count` and `deleted`, if known.
    fn native_rest(&self) -> Option<u64> {
        self.get64(NATIVE_REST).filter(|&n| n != NATIVE_UNKNOWN)
    }

    /// The node's key: the ID of its first entry (live or deleted).
    #[inline(always)]
    pub(super) fn master_id(&self) -> StreamId {
        StreamId::new(
            self.get64(MASTER_MS).unwrap_or(0),
            self.get64(MASTER_SEQ).unwrap_or(0),
        )
    }

    fn set_native_rest(&mut self, n: Option<u64>) {
        let v = n.unwrap_or(NATIVE_UNKNOWN);
        if let Some(d) = self.buf.get_mut(NATIVE_REST..NATIVE_REST + 8) {
            d.copy_from_slice(&v.to_le_bytes());
        }
    }

    /// Live entries (the listpack's `count`).
    #[inline(always)]
    pub(super) fn live(&self) -> u64 {
        u64::from(self.get32(LIVE))
    }

    /// Entries flagged deleted (the listpack's `deleted`).
    #[inline(always)]
    pub(super) fn deleted(&self) -> u64 {
        u64::from(self.get32(DELETED))
    }

    /// The native size (minus `count` and `deleted`) recomputed from the
    /// entries, exactly as [`Node::new`] and [`Node::push`] accumulate it.
    fn compute_native(&self) -> u64 {
        let master_id = self.master_id();
        let mut native = master_native(self.master_count());
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
    pub(super) fn settle_native(&mut self) {
        if self.native_rest().is_none() {
            let n = self.compute_native();
            self.set_native_rest(Some(n));
        }
    }

    /// The buffer after the header (master fields, then the entries): what
    /// RDB encoding 3 saves.
    pub(super) fn bytes(&self) -> &[u8] {
        self.buf.get(HEADER..).unwrap_or(&[])
    }

    /// Number of master fields.
    #[inline(always)]
    pub(super) fn master_count(&self) -> usize {
        self.get32(MASTER_COUNT) as usize
    }

    /// A node whose master entry takes the field names of `fields`, holding
    /// `fields` as its first entry with ID `id` (which is the master ID).
    pub(super) fn new(id: StreamId, fields: &[&[u8]]) -> Node {
        let count = pair_count(fields);
        // Sized exactly: the header, the names, and the first entry (flags,
        // two zero deltas, the values, its back-length).
        let string = |b: &&[u8]| varint::size(b.len() as u64) + b.len();
        let names: usize = fields.iter().step_by(2).take(count).map(string).sum();
        let values: usize = fields
            .iter()
            .skip(1)
            .step_by(2)
            .take(count)
            .map(string)
            .sum();
        let entry = 3 + values;
        let mut buf = Vec::with_capacity(HEADER + names + entry + varint::size(entry as u64));
        buf.extend_from_slice(&[0; HEADER]);
        let mut native = master_native(count);
        for pair in fields.chunks_exact(2) {
            if let Some(f) = pair.first() {
                varint::put(&mut buf, f.len() as u64);
                buf.extend_from_slice(f);
                native += lpsize::str_elem(f);
            }
        }
        // A name is at most 4 GiB, and an entry's names and values 1 GiB
        // together (`STREAM_LISTPACK_MAX_SIZE`): the sizes fit.
        let master_len = u32::try_from(buf.len() - HEADER).unwrap_or(u32::MAX);
        let count32 = u32::try_from(count).unwrap_or(u32::MAX);
        if let Some(h) = buf.first_chunk_mut::<HEADER>() {
            *h = header(id, 0, 0, master_len, count32, native);
        }
        let mut node = Node { buf };
        node.push(id, fields, true);
        debug_assert_eq!(node.buf.len(), node.buf.capacity());
        node
    }

    /// `lpBytes` of the equivalent native listpack (computed from the
    /// entries if [`Node::settle_native`] was not called on an adopted node).
    pub(super) fn native_bytes(&self) -> u64 {
        let live = i64::try_from(self.live()).unwrap_or(i64::MAX);
        let deleted = i64::try_from(self.deleted()).unwrap_or(i64::MAX);
        let rest = match self.native_rest() {
            Some(n) => n,
            None => self.compute_native(),
        };
        rest + lpsize::int_elem(live) + lpsize::int_elem(deleted)
    }

    /// Live plus deleted entries.
    pub(super) fn total(&self) -> u64 {
        self.live().saturating_add(self.deleted())
    }

    /// The master field names, encoded.
    fn master_fields(&self) -> &[u8] {
        self.buf.get(HEADER..self.first_pos()).unwrap_or(&[])
    }

    /// True when the names in `fields` are exactly the master field names.
    pub(super) fn same_fields(&self, fields: &[&[u8]]) -> bool {
        if pair_count(fields) != self.master_count() {
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
    pub(super) fn push(&mut self, id: StreamId, fields: &[&[u8]], same: bool) {
        let master_id = self.master_id();
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
        if let Some(n) = self.native_rest() {
            self.set_native_rest(Some(
                n + entry_native(ms_delta, seq_delta, count, same, strings),
            ));
        }
        self.set32(LIVE, self.get32(LIVE).saturating_add(1));
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
    #[inline(always)]
    pub(super) fn first_pos(&self) -> usize {
        HEADER + self.get32(MASTER_LEN) as usize
    }

    /// Position just past the last entry.
    pub(super) fn end_pos(&self) -> usize {
        self.buf.len()
    }

    /// Decodes the entry starting at `pos`; `None` at the end of the node.
    /// `master_id` is the node's key ([`Node::master_id`]), which callers
    /// walking many entries read once.
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
            (self.master_count(), p)
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
        if end <= self.first_pos() {
            return None;
        }
        let (len, back_start) = varint::get_back(&self.buf, end)?;
        let start = back_start.checked_sub(usize::try_from(len).ok()?)?;
        (start >= self.first_pos()).then_some(start)
    }

    /// ID of the last entry, deleted or not (`lpGetEdgeStreamID(lp, 0, ..)`).
    pub(super) fn last_id(&self) -> Option<StreamId> {
        let master_id = self.master_id();
        let pos = self.entry_before(self.end_pos())?;
        Some(self.entry_at(master_id, pos)?.entry.id())
    }

    /// Flags the entry at `pos` deleted and updates the counters; false if it
    /// was already deleted (or `pos` is not an entry).
    pub(super) fn mark_deleted(&mut self, pos: usize) -> bool {
        match self.buf.get_mut(pos) {
            Some(flags) if *flags & FLAG_DELETED == 0 => {
                *flags |= FLAG_DELETED;
                self.set32(LIVE, self.get32(LIVE).saturating_sub(1));
                self.set32(DELETED, self.get32(DELETED).saturating_add(1));
                true
            }
            _ => false,
        }
    }

    /// Drops the entries from byte position `pos` (an entry boundary after
    /// the first entry) to the end when they are all tombstones; returns how
    /// many, or `None` (nothing changed) when one of them is live.
    pub(super) fn truncate_tombstones(&mut self, pos: usize) -> Option<u64> {
        let master_id = self.master_id();
        if pos <= self.first_pos() {
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
        let n32 = u32::try_from(n).unwrap_or(u32::MAX);
        self.set32(DELETED, self.get32(DELETED).saturating_sub(n32));
        // Recomputed from the entries left when an append needs it.
        self.set_native_rest(None);
        Some(n)
    }

    /// Position of the entry with this ID (deleted or not).
    pub(super) fn find(&self, id: StreamId) -> Option<(usize, u8)> {
        let master_id = self.master_id();
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
