//! RDB codec (interim version on main; replaced by the versioned codec of the
//! persistence work). Entries, stream metadata and IDMP state.

use crate::stream::idmp::IdmpSettings;
use crate::stream::{NodeLimits, Stream, StreamId};

/// Encoding version of the `idmp-strm` type.
pub const ENCODING_VERSION: i32 = 0;

/// A load failure with a message for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodecError(String);

impl CodecError {
    /// An error with a message.
    pub fn new(msg: &str) -> Self {
        CodecError(msg.to_string())
    }
}

impl std::fmt::Display for CodecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where saved values go.
pub trait RdbWrite {
    /// An unsigned integer.
    fn write_u64(&mut self, v: u64);
    /// A byte string.
    fn write_bytes(&mut self, b: &[u8]);
}

/// Where loaded values come from.
pub trait RdbRead {
    /// An unsigned integer.
    fn read_u64(&mut self) -> Result<u64, CodecError>;
    /// A byte string.
    fn read_bytes(&mut self) -> Result<Vec<u8>, CodecError>;
}

fn write_id(w: &mut impl RdbWrite, id: StreamId) {
    w.write_u64(id.ms);
    w.write_u64(id.seq);
}

fn read_id(r: &mut impl RdbRead) -> Result<StreamId, CodecError> {
    Ok(StreamId::new(r.read_u64()?, r.read_u64()?))
}

/// Saves a stream.
pub fn save_stream(s: &Stream, w: &mut impl RdbWrite) {
    w.write_u64(s.len());
    for e in s.store.range(StreamId::MIN, StreamId::MAX) {
        write_id(w, e.id());
        w.write_u64(e.field_count() as u64);
        for (f, v) in e.fields() {
            w.write_bytes(f);
            w.write_bytes(v);
        }
    }
    write_id(w, s.last_id);
    write_id(w, s.max_deleted_id);
    write_id(w, s.first_id);
    w.write_u64(s.entries_added);
    let st = s.idmp.settings();
    w.write_u64(u64::from(st.duration_secs));
    w.write_u64(u64::from(st.maxsize));
    w.write_u64(s.idmp.iids_added);
    w.write_u64(s.idmp.iids_duplicates);
    let producers: Vec<_> = s.idmp.producers().collect();
    w.write_u64(producers.len() as u64);
    for (pid, iids) in producers {
        w.write_bytes(pid);
        let iids: Vec<_> = iids.collect();
        w.write_u64(iids.len() as u64);
        for (iid, id, t) in iids {
            w.write_bytes(iid);
            write_id(w, id);
            w.write_u64(t);
        }
    }
}

/// Loads a stream saved by [`save_stream`].
pub fn load_stream(
    r: &mut impl RdbRead,
    encver: i32,
    limits: NodeLimits,
) -> Result<Stream, CodecError> {
    if encver != ENCODING_VERSION {
        return Err(CodecError::new("unknown encoding version"));
    }
    let n = r.read_u64()?;
    let mut s = Stream::new(IdmpSettings::default());
    let mut prev: Option<StreamId> = None;
    for _ in 0..n {
        let id = read_id(r)?;
        if prev.is_some_and(|p| id <= p) {
            return Err(CodecError::new("entry IDs out of order"));
        }
        prev = Some(id);
        let nf = r.read_u64()?;
        if nf == 0 || nf > (1 << 31) {
            return Err(CodecError::new("bad field count"));
        }
        let mut owned = Vec::new();
        for _ in 0..nf * 2 {
            owned.push(r.read_bytes()?);
        }
        let fields: Vec<&[u8]> = owned.iter().map(|v| v.as_slice()).collect();
        s.append(id, &fields, limits);
    }
    s.last_id = read_id(r)?;
    s.max_deleted_id = read_id(r)?;
    s.first_id = read_id(r)?;
    s.entries_added = r.read_u64()?;
    let d = r.read_u64()?;
    let m = r.read_u64()?;
    if !(1..=86_400).contains(&d) || !(1..=10_000).contains(&m) {
        return Err(CodecError::new("IDMP settings out of range"));
    }
    s.idmp = crate::stream::idmp::IdmpState::new(IdmpSettings {
        duration_secs: d as u32,
        maxsize: m as u32,
    });
    s.idmp.iids_added = r.read_u64()?;
    s.idmp.iids_duplicates = r.read_u64()?;
    let np = r.read_u64()?;
    for _ in 0..np {
        let pid = r.read_bytes()?;
        let ni = r.read_u64()?;
        for _ in 0..ni {
            let iid = r.read_bytes()?;
            let id = read_id(r)?;
            let t = r.read_u64()?;
            s.idmp.record_at(&pid, &iid, id, t);
        }
    }
    Ok(s)
}
