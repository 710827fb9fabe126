//! Validation of a node buffer that comes from outside (an RDB payload),
//! so that it can be adopted as it is instead of being rebuilt entry by
//! entry. It lives next to [`super::node`] because it checks exactly what the
//! node's readers assume of the layout described there:
//!
//! * the master section is `master_count` (>= 1) length-prefixed names that
//!   end where the entries start ([`Node::same_fields`], [`super::FieldIter`]
//!   over master names);
//! * every entry starts with a flags byte holding only [`FLAG_DELETED`] and
//!   [`FLAG_SAMEFIELDS`], then two LEB128 varints that fit in 64 bits, then,
//!   unless it shares the master names, a field count >= 1 (an XADD always
//!   has a field; the store's readers would cope with none, its AOF rewrite
//!   would not), then its fields
//!   and values, each a LEB128 length that stays inside the buffer
//!   ([`Node::entry_at`], [`super::FieldIter`]);
//! * every entry ends with the canonical back-length of the bytes from its
//!   flags to its last value, so that walking forwards
//!   (`next = end + size(len)`) and backwards ([`Node::entry_before`]) meet
//!   the same entry boundaries, and the last entry ends exactly at the end
//!   of the buffer;
//! * the first entry's ID is the node's key (its master ID) and shares the
//!   master names (as [`Node::new`] writes it), and the IDs decoded as
//!   [`Node::entry_at`] decodes them are strictly ascending;
//! * the counters (`live`, `deleted`) are not read from the payload but
//!   counted from the entries, so they always agree with them; the native
//!   listpack size, which only the tail node's appends read, is computed
//!   from the entries when first needed ([`Node::settle_native`]);
//! * the buffer is at most [`MAX_NODE_BYTES`] (a listpack's own hard limit).
//!
//! The walk never allocates per entry.

use super::node::{Node, FLAG_DELETED, FLAG_SAMEFIELDS};
use super::varint;
use crate::stream::id::StreamId;

/// The largest node buffer accepted (a listpack's total size is a `u32`).
pub const MAX_NODE_BYTES: usize = u32::MAX as usize;

/// Reads a LEB128 varint at `pos` (one-byte values, the common case, inline).
#[inline(always)]
fn num(buf: &[u8], pos: usize) -> Result<(u64, usize), &'static str> {
    match buf.get(pos) {
        Some(&b) if b < 0x80 => Ok((u64::from(b), pos + 1)),
        _ => varint::get(buf, pos).ok_or("bad varint in a node"),
    }
}

/// Skips the length-prefixed string at `pos`; returns the position after it.
#[inline(always)]
fn string(buf: &[u8], pos: usize) -> Result<usize, &'static str> {
    let (len, p) = num(buf, pos)?;
    usize::try_from(len)
        .ok()
        .and_then(|l| p.checked_add(l))
        .filter(|&e| e <= buf.len())
        .ok_or("a length runs past the node")
}

/// Checks that the back-length of an entry of `len` bytes ending at `p`
/// is there, canonical; returns the position after it.
#[inline(always)]
fn back_length(buf: &[u8], p: usize, len: u64) -> Result<usize, &'static str> {
    if len < 0x80 {
        return match buf.get(p) {
            Some(&b) if u64::from(b) == len => Ok(p + 1),
            Some(_) => Err("bad entry back-length"),
            None => Err("node cut short"),
        };
    }
    let end = p
        .checked_add(varint::size(len))
        .filter(|&e| e <= buf.len())
        .ok_or("node cut short")?;
    if varint::get_back(buf, end) != Some((len, p)) {
        return Err("bad entry back-length");
    }
    Ok(end)
}

/// Checks `buf` as the buffer of a node keyed `master_id` with
/// `master_count` master fields; on success returns the node, whose counters
/// are counted from its entries.
pub(super) fn validate(
    master_id: StreamId,
    master_count: u64,
    buf: Vec<u8>,
) -> Result<Node, &'static str> {
    if buf.len() > MAX_NODE_BYTES {
        return Err("node too large");
    }
    // Every master name takes at least one byte.
    let master_count = usize::try_from(master_count)
        .ok()
        .filter(|&c| c >= 1 && c <= buf.len())
        .ok_or("master field count out of range")?;
    let mut pos = 0;
    for _ in 0..master_count {
        pos = string(&buf, pos)?;
    }
    let entries_start = pos;
    if entries_start >= buf.len() {
        return Err("node without entries");
    }
    let (mut live, mut deleted) = (0u64, 0u64);
    let mut last_id = master_id;
    while pos < buf.len() {
        let start = pos;
        let flags = *buf.get(pos).ok_or("node cut short")?;
        if flags & !(FLAG_DELETED | FLAG_SAMEFIELDS) != 0 {
            return Err("bad entry flags");
        }
        let (ms_delta, p) = num(&buf, pos + 1)?;
        let (seq, mut p) = num(&buf, p)?;
        let id = if ms_delta == 0 {
            StreamId::new(master_id.ms, master_id.seq.wrapping_add(seq))
        } else {
            StreamId::new(master_id.ms.wrapping_add(ms_delta), seq)
        };
        let same = flags & FLAG_SAMEFIELDS != 0;
        if start == entries_start {
            if id != master_id {
                return Err("the first entry's ID is not the node's key");
            }
            if !same {
                return Err("the first entry does not use the master fields");
            }
        } else if id <= last_id {
            return Err("entry IDs out of order in a node");
        }
        last_id = id;
        if same {
            for _ in 0..master_count {
                p = string(&buf, p)?;
            }
        } else {
            let (n, q) = num(&buf, p)?;
            // Every field and value takes at least one byte.
            let n = usize::try_from(n)
                .ok()
                .filter(|&n| n >= 1 && n <= buf.len() - q)
                .ok_or("entry field count out of range")?;
            p = q;
            for _ in 0..n {
                p = string(&buf, p)?;
                p = string(&buf, p)?;
            }
        }
        pos = back_length(&buf, p, (p - start) as u64)?;
        if flags & FLAG_DELETED != 0 {
            deleted += 1;
        } else {
            live += 1;
        }
    }
    // Each fits in 32 bits: the buffer does (and every entry takes bytes).
    let to32 = |n: u64| u32::try_from(n).map_err(|_| "node too large");
    Ok(Node::from_parts(
        master_id,
        &buf,
        to32(entries_start as u64)?,
        to32(master_count as u64)?,
        to32(live)?,
        to32(deleted)?,
    ))
}
