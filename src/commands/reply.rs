//! The reply sink: commands describe their replies through this trait so that
//! they can be tested without a server; the glue writes straight into the
//! client's reply buffer.

use crate::stream::StreamId;

/// Where a command writes its reply. Mirrors the RESP types the module API
/// can produce; `map` becomes a flat array of `2 * len` on RESP2 clients.
pub trait Reply {
    /// An array header of `len` elements.
    fn array(&mut self, len: usize);
    /// A map header of `len` key/value pairs (RESP3 map, RESP2 flat array).
    fn map(&mut self, len: usize);
    /// A bulk string.
    fn bulk(&mut self, b: &[u8]);
    /// A simple string such as `OK`.
    fn simple(&mut self, s: &str);
    /// An error; `msg` is the full text including its code (`ERR ...`).
    fn error(&mut self, msg: &str);
    /// An integer.
    fn int(&mut self, v: i64);
    /// A null (RESP2 null bulk `$-1`, RESP3 `_`).
    fn null(&mut self);
    /// A null array (RESP2 `*-1`, RESP3 `_`).
    fn null_array(&mut self);
    /// True when the client speaks RESP3.
    fn is_resp3(&self) -> bool;

    /// An ID as a bulk string `ms-seq`.
    fn stream_id(&mut self, id: StreamId) {
        let mut buf = [0u8; 41];
        self.bulk(id.format_into(&mut buf));
    }
}
