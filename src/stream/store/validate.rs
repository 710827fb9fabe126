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
//!   unless it shares the master names, a field count >= 1, then its fields
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
//! * the counters (`live`, `deleted`, the native size) are not read from the
//!   payload but recomputed from the entries, so they always agree with them;
//! * the buffer is at most [`MAX_NODE_BYTES`] (a listpack's own hard limit).
//!
//! The walk never allocates per entry.

use super::node::{entry_native, master_native, Node, FLAG_DELETED, FLAG_SAMEFIELDS};
use super::{lpsize, varint};
use crate::stream::id::StreamId;

/// The largest node buffer accepted (a listpack's total size is a `u32`).
pub const MAX_NODE_BYTES: usize = u32::MAX as usize;

/// Reads the length-prefixed string at `pos`, returning its
/// [`lpsize::str_elem`] and the position after it.
fn string(buf: &[u8], pos: usize) -> Result<(u64, usize), &'static str> {
    let (s, next) = varint::get_bytes(buf, pos).ok_or("a length runs past the node")?;
    Ok((lpsize::str_elem(s), next))
}

fn num(buf: &[u8], pos: usize) -> Result<(u64, usize), &'static str> {
    varint::get(buf, pos).ok_or("bad varint in a node")
}

/// Checks `buf` as the buffer of a node keyed `master_id` with
/// `master_count` master fields; on success returns the node, whose counters
/// are recomputed from its entries.
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
    let mut native = master_native(master_count);
    let mut pos = 0;
    for _ in 0..master_count {
        let (size, next) = string(&buf, pos)?;
        native += size;
        pos = next;
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
        let (seq, p) = num(&buf, p)?;
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
        let (count, mut p) = if same {
            (master_count, p)
        } else {
            let (n, p) = num(&buf, p)?;
            // Every field and value takes at least one byte.
            let n = usize::try_from(n)
                .ok()
                .filter(|&n| n >= 1 && n <= buf.len() - p)
                .ok_or("entry field count out of range")?;
            (n, p)
        };
        let mut strings = 0u64;
        for _ in 0..count {
            if !same {
                let (size, next) = string(&buf, p)?;
                strings += size;
                p = next;
            }
            let (size, next) = string(&buf, p)?;
            strings += size;
            p = next;
        }
        let len = (p - start) as u64;
        let end = p
            .checked_add(varint::size(len))
            .filter(|&e| e <= buf.len())
            .ok_or("node cut short")?;
        if varint::get_back(&buf, end) != Some((len, p)) {
            return Err("bad entry back-length");
        }
        let seq_delta = id.seq.wrapping_sub(master_id.seq);
        native += entry_native(ms_delta, seq_delta, count, same, strings);
        if flags & FLAG_DELETED != 0 {
            deleted += 1;
        } else {
            live += 1;
        }
        pos = end;
    }
    Ok(Node::from_parts(
        buf,
        entries_start,
        master_count,
        live,
        deleted,
        native,
    ))
}
