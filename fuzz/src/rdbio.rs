//! A compact, untagged RDB item encoding for the fuzzer: an unsigned is a
//! LEB128 varint, a byte string a varint length and the bytes. Untagged so
//! that any input is some sequence of items (the server's RDB items are
//! typed, which only adds errors the codec never sees).

use redis_idmp::persist::rdb::{CodecError, RdbRead, RdbWrite};

/// Reads items from a byte slice; running out is an error, as a truncated
/// RDB file is for the server.
#[derive(Debug)]
pub struct FuzzReader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> FuzzReader<'a> {
    /// A reader at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        FuzzReader { buf, pos: 0 }
    }

    /// Bytes read so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// True when every byte was read.
    pub fn at_end(&self) -> bool {
        self.pos >= self.buf.len()
    }

    fn byte(&mut self) -> Result<u8, CodecError> {
        let b = self
            .buf
            .get(self.pos)
            .copied()
            .ok_or_else(|| CodecError::new("fuzz: end of input"))?;
        self.pos += 1;
        Ok(b)
    }
}

impl RdbRead for FuzzReader<'_> {
    fn read_u64(&mut self) -> Result<u64, CodecError> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(CodecError::new("fuzz: varint too long"))
    }

    fn read_bytes(&mut self) -> Result<Vec<u8>, CodecError> {
        let len = self.read_u64()?;
        let end = usize::try_from(len)
            .ok()
            .and_then(|l| self.pos.checked_add(l))
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| CodecError::new("fuzz: string beyond the input"))?;
        let out = self.buf.get(self.pos..end).unwrap_or_default().to_vec();
        self.pos = end;
        Ok(out)
    }
}

/// Writes items in the encoding [`FuzzReader`] reads.
#[derive(Debug, Default)]
pub struct FuzzWriter(pub Vec<u8>);

impl RdbWrite for FuzzWriter {
    fn write_u64(&mut self, mut v: u64) {
        loop {
            let low = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                self.0.push(low);
                return;
            }
            self.0.push(low | 0x80);
        }
    }

    fn write_bytes(&mut self, b: &[u8]) {
        self.write_u64(b.len() as u64);
        self.0.extend_from_slice(b);
    }
}

/// The payload of `s` as [`redis_idmp::persist::rdb::save_stream`] writes it.
pub fn save(s: &redis_idmp::stream::Stream) -> Vec<u8> {
    let mut w = FuzzWriter::default();
    redis_idmp::persist::rdb::save_stream(s, &mut w);
    w.0
}
