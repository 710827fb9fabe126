//! A [`Reply`] that records calls to replay them later into another sink:
//! used where the native code fills in an array length after the elements
//! (`addReplyDeferredLen`) and the length cannot be known beforehand.

use super::reply::Reply;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Op {
    Array(usize),
    Map(usize),
    Bulk(Vec<u8>),
    Simple(String),
    Error(String),
    Int(i64),
    Null,
    NullArray,
}

/// Recorded replies.
#[derive(Clone, Debug, Default)]
pub struct Recorder {
    ops: Vec<Op>,
    resp3: bool,
}

impl Recorder {
    /// An empty recording for a client of the given protocol.
    pub fn new(resp3: bool) -> Self {
        Recorder {
            ops: Vec::new(),
            resp3,
        }
    }

    /// Writes everything recorded into `out`.
    pub fn replay(&self, out: &mut dyn Reply) {
        for op in &self.ops {
            match op {
                Op::Array(n) => out.array(*n),
                Op::Map(n) => out.map(*n),
                Op::Bulk(b) => out.bulk(b),
                Op::Simple(s) => out.simple(s),
                Op::Error(s) => out.error(s),
                Op::Int(v) => out.int(*v),
                Op::Null => out.null(),
                Op::NullArray => out.null_array(),
            }
        }
    }
}

impl Reply for Recorder {
    fn array(&mut self, len: usize) {
        self.ops.push(Op::Array(len));
    }
    fn map(&mut self, len: usize) {
        self.ops.push(Op::Map(len));
    }
    fn bulk(&mut self, b: &[u8]) {
        self.ops.push(Op::Bulk(b.to_vec()));
    }
    fn simple(&mut self, s: &str) {
        self.ops.push(Op::Simple(s.to_string()));
    }
    fn error(&mut self, msg: &str) {
        self.ops.push(Op::Error(msg.to_string()));
    }
    fn int(&mut self, v: i64) {
        self.ops.push(Op::Int(v));
    }
    fn null(&mut self) {
        self.ops.push(Op::Null);
    }
    fn null_array(&mut self) {
        self.ops.push(Op::NullArray);
    }
    fn is_resp3(&self) -> bool {
        self.resp3
    }
}
