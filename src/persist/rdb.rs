//! The versioned RDB codec of a whole [`Stream`], over a small reader/writer
//! trait that maps 1:1 to `RedisModule_SaveUnsigned` / `SaveStringBuffer` and
//! `LoadUnsigned` / `LoadStringBuffer`, so it is testable without a server.
//!
//! # Encoding version 3 (written)
//!
//! As version 2, but each node's byte string is the node's in-memory buffer
//! as it is (layout in `stream::store::node`: master field names, then
//! entries with delta IDs, LEB128 lengths, flags and back-lengths), preceded
//! by the little the buffer does not hold:
//!
//! ```text
//! node count N
//! N x { master_id.ms, master_id.seq, master field count M (>= 1),
//!       node buffer bytes }
//! ... as version 0 from last_id to the end marker ...
//! ```
//!
//! Saving copies nothing; loading adopts each buffer after one validation
//! pass (`stream::store::validate`) that allocates nothing per entry and
//! proves what every reader of a node assumes: varints in range, lengths
//! inside the buffer, canonical back-lengths agreeing with the forward walk,
//! valid flags, the first entry keyed by the master ID and sharing the master
//! fields, IDs strictly ascending within and across nodes, the buffer at most
//! `MAX_NODE_BYTES`. The live/deleted counts and the native listpack size are
//! recomputed from the entries, not read. Node boundaries are those saved.
//!
//! # Encoding version 2 (still read)
//!
//! As version 1, but each node is one byte string (one RDB item per node, as
//! a native stream writes one listpack per node), LEB128 varints inside:
//!
//! ```text
//! node count N
//! N x node bytes { entry count E (>= 1),
//!                  E x { id.ms, id.seq, deleted byte (0/1), pair count K (>= 1),
//!                        K x { field length, field, value length, value } } }
//! ```
//!
//! # Encoding version 1 (development builds only; not read)
//!
//! ```text
//! node count N
//! N x { entry count E (>= 1),
//!       E x { id.ms, id.seq, deleted (0/1), pair count K (>= 1),
//!             K x { field bytes, value bytes } } }
//!                                   (IDs strictly ascending, tombstones included)
//! ... as version 0 from last_id to the record list ...
//! the consumer groups (see [`super::groups`])
//! END_MARKER
//! ```
//!
//! Nodes are stored as they are, tombstones included, and rebuilt as they
//! were: node boundaries, and with them approximate trimming, survive a
//! reload as they do for a native stream, whose RDB keeps its listpacks.
//!
//! # Encoding version 0 (still read)
//!
//! ```text
//! entry count N
//! N x { id.ms, id.seq, pair count K (>= 1), K x { field bytes, value bytes } }
//!                                   (IDs strictly ascending)
//! last_id.ms, last_id.seq, max_deleted_id.ms, max_deleted_id.seq,
//! entries_added, first_id.ms, first_id.seq
//! idmp duration_secs, idmp maxsize          (1 ..= 86400, 1 ..= 10000)
//! iids_added, iids_duplicates, last_time_ms
//! pid count P, P x pid bytes               (non-empty, strictly ascending)
//! record count R
//! R x { pid index (< P), iid bytes (non-empty), id.ms, id.seq, time_ms }
//!                                   (global insertion order, times ascending)
//! the consumer groups (see [`super::groups`])
//! END_MARKER
//! ```
//!
//! In version 0 entries are rebuilt by appending them, so node boundaries are
//! those of a fresh stream. Every length and count is checked before use; nothing is preallocated from
//! a count read from the payload.

use std::fmt;

use crate::stream::id::StreamId;
use crate::stream::idmp::IdmpSettings;
use crate::stream::store::varint::get;
use crate::stream::store::{NodeLimits, STREAM_LISTPACK_MAX_SIZE};
use crate::stream::Stream;

/// The encoding version written by [`save_stream`].
pub const ENCODING_VERSION: i32 = 3;

/// Written last; a payload not ending with it is corrupt.
const END_MARKER: u64 = 0x4944_4d50_5354_524d; // "IDMPSTRM"

/// Sink of an RDB payload (`RedisModule_SaveUnsigned` / `SaveStringBuffer`).
pub trait RdbWrite {
    /// Writes an unsigned integer.
    fn write_u64(&mut self, v: u64);
    /// Writes a byte string.
    fn write_bytes(&mut self, b: &[u8]);
}

/// Source of an RDB payload (`RedisModule_LoadUnsigned` / `LoadStringBuffer`).
pub trait RdbRead {
    /// Reads an unsigned integer.
    fn read_u64(&mut self) -> Result<u64, CodecError>;
    /// Reads a byte string.
    fn read_bytes(&mut self) -> Result<Vec<u8>, CodecError>;
}

/// Why a payload could not be loaded; the message is meant for the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodecError {
    /// Human-readable reason.
    pub message: String,
}

impl CodecError {
    /// An error with the given message.
    pub fn new(message: impl Into<String>) -> Self {
        CodecError {
            message: message.into(),
        }
    }
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CodecError {}

fn write_id(w: &mut impl RdbWrite, id: StreamId) {
    w.write_u64(id.ms);
    w.write_u64(id.seq);
}

/// Writes `s` in encoding [`ENCODING_VERSION`]. iids expired but not yet
/// reclaimed are written too (the loader drops what is expired by then).
pub fn save_stream(s: &Stream, w: &mut impl RdbWrite) {
    w.write_u64(s.store.node_count() as u64);
    for node in s.store.nodes() {
        write_id(w, node.master_id());
        w.write_u64(node.master_count() as u64);
        w.write_bytes(node.bytes());
    }
    save_tail(s, w);
}

/// Everything after the entries (the same in every version).
fn save_tail(s: &Stream, w: &mut impl RdbWrite) {
    write_id(w, s.last_id);
    write_id(w, s.max_deleted_id);
    w.write_u64(s.entries_added);
    write_id(w, s.first_id);

    let idmp = &s.idmp;
    let settings = idmp.settings();
    w.write_u64(u64::from(settings.duration_secs));
    w.write_u64(u64::from(settings.maxsize));
    w.write_u64(idmp.iids_added);
    w.write_u64(idmp.iids_duplicates);
    w.write_u64(idmp.last_time_ms());

    // The pid table in ascending order; records refer to it by position.
    let pids: Vec<&[u8]> = idmp.producers().map(|(p, _)| p).collect();
    w.write_u64(pids.len() as u64);
    for p in &pids {
        w.write_bytes(p);
    }
    // Counted by the same iteration that writes them, so they always agree.
    w.write_u64(idmp.records().count() as u64);
    for (pid, iid, id, time) in idmp.records() {
        let index = pids.binary_search(&pid).unwrap_or(0);
        w.write_u64(index as u64);
        w.write_bytes(iid);
        write_id(w, id);
        w.write_u64(time);
    }
    super::groups::save_groups(&s.groups, w);
    w.write_u64(END_MARKER);
}

fn corrupt(what: &str) -> CodecError {
    CodecError::new(format!("idmp-strm: corrupt payload: {what}"))
}

fn read_id(r: &mut impl RdbRead) -> Result<StreamId, CodecError> {
    let ms = r.read_u64()?;
    let seq = r.read_u64()?;
    Ok(StreamId::new(ms, seq))
}

/// Reads a lifetime counter: at most `i64::MAX`, as the commands that
/// replay it (XSETID ENTRIESADDED, idmp.idmpcounters) parse it.
fn read_counter(r: &mut impl RdbRead, what: &str) -> Result<u64, CodecError> {
    let v = r.read_u64()?;
    if v > i64::MAX as u64 {
        return Err(corrupt(&format!("{what} {v} out of range")));
    }
    Ok(v)
}

/// Reads a setting within `1..=max` (the range XCFGSET and the configs
/// accept, so that the AOF rewrite's XCFGSET replays).
fn read_setting(r: &mut impl RdbRead, what: &str, max: u32) -> Result<u32, CodecError> {
    let v = r.read_u64()?;
    match u32::try_from(v) {
        Ok(v) if (1..=max).contains(&v) => Ok(v),
        _ => Err(corrupt(&format!("{what} {v} out of range"))),
    }
}

/// Reads a stream written by [`save_stream`] with encoding version `encver`;
/// entries are rebuilt into nodes of `limits`.
pub fn load_stream(
    r: &mut impl RdbRead,
    encver: i32,
    limits: NodeLimits,
) -> Result<Stream, CodecError> {
    if encver > ENCODING_VERSION {
        return Err(CodecError::new(format!(
            "idmp-strm: encoding version {encver} is newer than this module's {ENCODING_VERSION}; upgrade the module"
        )));
    }
    if encver < 0 {
        return Err(corrupt(&format!("encoding version {encver}")));
    }
    let mut s = Stream::new(IdmpSettings::default());
    match encver {
        0 => load_entries(r, &mut s, limits)?,
        2 => load_node_blobs(r, &mut s)?,
        3 => load_nodes(r, &mut s)?,
        // Version 1 (a node per RDB item list) only existed in development
        // builds and is not read.
        v => return Err(corrupt(&format!("encoding version {v} is not supported"))),
    }

    let last_id = read_id(r)?;
    let max_deleted_id = read_id(r)?;
    let entries_added = read_counter(r, "entries added")?;
    let first_id = read_id(r)?;
    // No XADD makes 0-0 (and the AOF rewrite could not replay it).
    if s.store.first_id_any() == Some(StreamId::MIN) {
        return Err(corrupt("an entry with ID 0-0"));
    }
    // Tombstones above the last ID (saved by versions that kept them after
    // an XSETID below deleted top entries) are dropped, as XSETID now does.
    s.store.drop_tombstones_above(last_id);
    if s.store.last_id_any().is_some_and(|top| top > last_id) {
        return Err(corrupt("an entry ID is above the last generated ID"));
    }
    // max_deleted_id may lie above last_id: Redis 7.0's XSETID allows it
    // (an ID set below deleted top entries), and such a stream must reload.
    if entries_added < s.store.len() {
        return Err(corrupt("entries added below the stream length"));
    }
    // The recorded first entry is the first live entry (0-0 when there is
    // none): XADD, XDEL and the trims keep it so, as 7.0 does.
    if first_id != s.store.first_id().unwrap_or(StreamId::MIN) {
        return Err(corrupt(&format!(
            "recorded first entry ID {first_id} is not the first entry's"
        )));
    }
    s.last_id = last_id;
    s.max_deleted_id = max_deleted_id;
    s.entries_added = entries_added;
    s.first_id = first_id;

    load_idmp(r, &mut s)?;

    super::groups::load_groups(r, &mut s)?;
    if r.read_u64()? != END_MARKER {
        return Err(corrupt("missing end marker"));
    }
    Ok(s)
}

fn load_entries(
    r: &mut impl RdbRead,
    s: &mut Stream,
    limits: NodeLimits,
) -> Result<(), CodecError> {
    let count = r.read_u64()?;
    let mut prev: Option<StreamId> = None;
    let mut fields: Vec<Vec<u8>> = Vec::new();
    for _ in 0..count {
        let id = read_id(r)?;
        if prev.is_some_and(|p| id <= p) {
            return Err(corrupt(&format!("entry ID {id} out of order")));
        }
        prev = Some(id);
        read_fields(r, id, &mut fields)?;
        let refs: Vec<&[u8]> = fields.iter().map(Vec::as_slice).collect();
        s.store.append(id, &refs, limits);
    }
    Ok(())
}

/// Reads one entry's fields (`pairs` pairs), bounded like a native entry.
fn read_fields(
    r: &mut impl RdbRead,
    id: StreamId,
    fields: &mut Vec<Vec<u8>>,
) -> Result<(), CodecError> {
    let pairs = r.read_u64()?;
    if pairs == 0 {
        return Err(corrupt(&format!("entry {id} without fields")));
    }
    fields.clear();
    let mut total = 0usize;
    for _ in 0..pairs {
        for _ in 0..2 {
            let b = r.read_bytes()?;
            total = total.saturating_add(b.len());
            if total > STREAM_LISTPACK_MAX_SIZE {
                return Err(corrupt(&format!("entry {id} too large")));
            }
            fields.push(b);
        }
    }
    Ok(())
}

/// A cursor over a node's bytes (version 2).
struct Blob<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Blob<'a> {
    fn num(&mut self) -> Result<u64, CodecError> {
        let (v, next) = get(self.buf, self.pos).ok_or_else(|| corrupt("bad varint in a node"))?;
        self.pos = next;
        Ok(v)
    }
    fn bytes(&mut self, len: u64) -> Result<&'a [u8], CodecError> {
        let end = usize::try_from(len)
            .ok()
            .and_then(|l| self.pos.checked_add(l))
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| corrupt("node bytes cut short"))?;
        let out = self.buf.get(self.pos..end).unwrap_or_default();
        self.pos = end;
        Ok(out)
    }
    fn byte(&mut self) -> Result<u8, CodecError> {
        Ok(self.bytes(1)?.first().copied().unwrap_or(0))
    }
}

/// Version 2: one byte string per node, entries parsed from it in place.
fn load_node_blobs(r: &mut impl RdbRead, s: &mut Stream) -> Result<(), CodecError> {
    let nodes = r.read_u64()?;
    for _ in 0..nodes {
        let buf = r.read_bytes()?;
        let mut refs: Vec<&[u8]> = Vec::new();
        let mut b = Blob { buf: &buf, pos: 0 };
        let entries = b.num()?;
        if entries == 0 {
            return Err(corrupt("empty node"));
        }
        for i in 0..entries {
            let id = StreamId::new(b.num()?, b.num()?);
            let deleted = match b.byte()? {
                0 => false,
                1 => true,
                f => return Err(corrupt(&format!("entry {id}: deleted flag {f}"))),
            };
            let pairs = b.num()?;
            if pairs == 0 {
                return Err(corrupt(&format!("entry {id} without fields")));
            }
            refs.clear();
            let mut total = 0usize;
            for _ in 0..pairs {
                for _ in 0..2 {
                    let len = b.num()?;
                    let x = b.bytes(len)?;
                    total = total.saturating_add(x.len());
                    if total > STREAM_LISTPACK_MAX_SIZE {
                        return Err(corrupt(&format!("entry {id} too large")));
                    }
                    refs.push(x);
                }
            }
            if !s.store.append_raw(id, &refs, deleted, i == 0) {
                return Err(corrupt(&format!("entry ID {id} out of order")));
            }
        }
        if b.pos != buf.len() {
            return Err(corrupt("trailing bytes in a node"));
        }
    }
    Ok(())
}

/// Version 3: each node's buffer, validated and adopted as it is.
fn load_nodes(r: &mut impl RdbRead, s: &mut Stream) -> Result<(), CodecError> {
    let nodes = r.read_u64()?;
    for _ in 0..nodes {
        let master_id = read_id(r)?;
        let master_count = r.read_u64()?;
        let buf = r.read_bytes()?;
        s.store
            .adopt_node(master_id, master_count, buf)
            .map_err(|e| corrupt(&format!("node {master_id}: {e}")))?;
    }
    Ok(())
}

fn load_idmp(r: &mut impl RdbRead, s: &mut Stream) -> Result<(), CodecError> {
    let duration = read_setting(r, "IDMP duration", 86_400)?;
    let maxsize = read_setting(r, "IDMP maxsize", 10_000)?;
    let idmp = &mut s.idmp;
    idmp.configure(Some(duration), Some(maxsize));
    idmp.iids_added = read_counter(r, "iids added")?;
    idmp.iids_duplicates = read_counter(r, "iids duplicates")?;
    let last_time = r.read_u64()?;

    let pid_count = r.read_u64()?;
    let mut pids: Vec<Vec<u8>> = Vec::new();
    for _ in 0..pid_count {
        let p = r.read_bytes()?;
        if p.is_empty() {
            return Err(corrupt("empty producer ID"));
        }
        if pids.last().is_some_and(|last| *last >= p) {
            return Err(corrupt("producer IDs not in ascending order"));
        }
        pids.push(p);
    }
    let records = r.read_u64()?;
    let mut prev_time = 0u64;
    for _ in 0..records {
        let index = r.read_u64()?;
        let pid = usize::try_from(index)
            .ok()
            .and_then(|i| pids.get(i))
            .ok_or_else(|| corrupt(&format!("producer index {index} out of range")))?;
        let iid = r.read_bytes()?;
        if iid.is_empty() {
            return Err(corrupt("empty idempotent ID"));
        }
        let id = read_id(r)?;
        let time = r.read_u64()?;
        if time < prev_time || time > last_time {
            return Err(corrupt("IDMP insertion times out of order"));
        }
        prev_time = time;
        // Any ID: a record may name an entry since deleted and above the
        // last ID (XDEL, then XSETID below it, as 7.0 allows); a record is
        // only ever answered, never followed.
        // Records were saved unique; a tracked pair here is corruption.
        if idmp.lookup(pid, &iid, time).is_some() {
            return Err(corrupt("duplicate IDMP record"));
        }
        idmp.record_at(pid, &iid, id, time);
    }
    idmp.restore_last_time(last_time);
    Ok(())
}

#[cfg(test)]
mod tests;
