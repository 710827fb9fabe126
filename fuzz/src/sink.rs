//! A reply sink that checks well-formedness: every array or map gets exactly
//! the elements its header announced, a command writes exactly one top-level
//! reply (none when it blocks), simple strings are single protocol lines
//! (the server sends them verbatim) and errors start with an upper-case code.

use redis_idmp::commands::reply::Reply;

/// Checks (and optionally records) the replies written to it.
#[derive(Debug, Default)]
pub struct Sink {
    resp3: bool,
    /// Elements still expected by each open aggregate, innermost last.
    open: Vec<usize>,
    /// Top-level replies written.
    top: usize,
    /// Error replies written (at any depth).
    pub errors: usize,
    /// The RESP-like transcript, when recording.
    pub transcript: Option<Vec<u8>>,
}

impl Sink {
    /// A sink for a RESP2 or RESP3 client.
    pub fn new(resp3: bool) -> Self {
        Sink {
            resp3,
            ..Sink::default()
        }
    }

    /// A sink that also records a transcript (for comparisons).
    pub fn recording(resp3: bool) -> Self {
        Sink {
            resp3,
            transcript: Some(Vec::new()),
            ..Sink::default()
        }
    }

    /// Panics unless exactly one complete reply was written, or none when the
    /// command blocked. Resets the sink for the next command.
    pub fn finish(&mut self, blocked: bool) {
        assert!(
            self.open.is_empty(),
            "unfinished aggregates: {:?}",
            self.open
        );
        let want = usize::from(!blocked);
        assert_eq!(self.top, want, "top-level replies (blocked: {blocked})");
        self.top = 0;
    }

    fn item(&mut self, children: usize) {
        match self.open.last_mut() {
            Some(n) => {
                assert!(*n > 0, "element beyond an aggregate's length");
                *n -= 1;
            }
            None => self.top += 1,
        }
        if children > 0 {
            self.open.push(children);
        } else {
            while self.open.last() == Some(&0) {
                self.open.pop();
            }
        }
    }

    fn rec(&mut self, head: u8, body: &[u8]) {
        if let Some(t) = self.transcript.as_mut() {
            t.push(head);
            t.extend_from_slice(body);
            t.extend_from_slice(b"\r\n");
        }
    }
}

fn one_line(s: &str) {
    assert!(!s.contains(['\r', '\n']), "line break in {s:?}");
}

impl Reply for Sink {
    fn array(&mut self, len: usize) {
        self.rec(b'*', len.to_string().as_bytes());
        self.item(len);
    }
    fn map(&mut self, len: usize) {
        let n = len.checked_mul(2).expect("map length overflows");
        self.rec(b'%', len.to_string().as_bytes());
        self.item(n);
    }
    fn bulk(&mut self, b: &[u8]) {
        self.rec(b'$', b);
        self.item(0);
    }
    fn simple(&mut self, s: &str) {
        one_line(s);
        self.rec(b'+', s.as_bytes());
        self.item(0);
    }
    fn error(&mut self, msg: &str) {
        // No line check: RedisModule_ReplyWithError goes through
        // addReplyErrorFormat, which turns `\r` and `\n` into spaces (an
        // unknown command name or subcommand is echoed as typed).
        let code = msg.split(' ').next().unwrap_or_default();
        assert!(
            !code.is_empty() && code.bytes().all(|c| c.is_ascii_uppercase()),
            "error without an upper-case code: {msg:?}"
        );
        self.errors += 1;
        self.rec(b'-', msg.as_bytes());
        self.item(0);
    }
    fn int(&mut self, v: i64) {
        self.rec(b':', v.to_string().as_bytes());
        self.item(0);
    }
    fn null(&mut self) {
        self.rec(b'_', b"");
        self.item(0);
    }
    fn null_array(&mut self) {
        self.rec(b'_', b"*");
        self.item(0);
    }
    fn is_resp3(&self) -> bool {
        self.resp3
    }
}
