//! Test helpers: a reply sink that records the RESP2 or RESP3 bytes a server
//! would send, and shortcuts to parse and run commands.

use super::reply::Reply;
use super::{parse, CmdError, Effects, ExecCtx};
use crate::stream::idmp::IdmpSettings;
use crate::stream::store::NodeLimits;
use crate::stream::stream::Stream;

/// Records the protocol bytes of every reply.
pub struct Resp {
    pub out: String,
    pub resp3: bool,
}

impl Resp {
    pub fn new(resp3: bool) -> Self {
        Resp {
            out: String::new(),
            resp3,
        }
    }
}

impl Reply for Resp {
    fn array(&mut self, len: usize) {
        self.out.push_str(&format!("*{len}\r\n"));
    }
    fn map(&mut self, len: usize) {
        if self.resp3 {
            self.out.push_str(&format!("%{len}\r\n"));
        } else {
            self.out.push_str(&format!("*{}\r\n", len * 2));
        }
    }
    fn bulk(&mut self, b: &[u8]) {
        self.out.push_str(&format!("${}\r\n", b.len()));
        self.out.push_str(&String::from_utf8_lossy(b));
        self.out.push_str("\r\n");
    }
    fn simple(&mut self, s: &str) {
        self.out.push_str(&format!("+{s}\r\n"));
    }
    fn error(&mut self, msg: &str) {
        self.out.push_str(&format!("-{msg}\r\n"));
    }
    fn int(&mut self, v: i64) {
        self.out.push_str(&format!(":{v}\r\n"));
    }
    fn null(&mut self) {
        self.out
            .push_str(if self.resp3 { "_\r\n" } else { "$-1\r\n" });
    }
    fn null_array(&mut self) {
        self.out
            .push_str(if self.resp3 { "_\r\n" } else { "*-1\r\n" });
    }
    fn is_resp3(&self) -> bool {
        self.resp3
    }
}

/// A context at time `now_ms`, untrusted, default limits and settings.
pub fn ctx(now_ms: u64) -> ExecCtx {
    ExecCtx {
        now_ms,
        limits: NodeLimits::default(),
        trusted: false,
        defaults: IdmpSettings::default(),
    }
}

/// Splits a command line on spaces (no quoting; use [`parse_args`] for binary).
pub fn words(line: &str) -> Vec<Vec<u8>> {
    line.split(' ').map(|w| w.as_bytes().to_vec()).collect()
}

/// Parses argv and returns the error text, if any.
pub fn parse_err(args: &[Vec<u8>], c: &ExecCtx) -> Option<CmdError> {
    let argv: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
    parse(&argv, c).err()
}

/// Parse error of a space-separated command line.
pub fn perr(line: &str) -> Option<CmdError> {
    parse_err(&words(line), &ctx(1000))
}

/// Runs a command against `slot` (None = key missing) like the glue does:
/// parse, exec, store a created stream. Returns the RESP transcript and effects.
pub fn run_args(
    slot: &mut Option<Stream>,
    args: &[Vec<u8>],
    c: &ExecCtx,
    resp3: bool,
) -> (String, Effects<'static>) {
    let argv: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
    let mut r = Resp::new(resp3);
    let req = match parse(&argv, c) {
        Ok(req) => req,
        Err(e) => {
            r.error(&e);
            return (r.out, Effects::default());
        }
    };
    let mut fx = req.exec(slot.as_mut(), c, &mut r);
    if fx.create {
        *slot = fx.new_stream.take().map(|b| *b);
    }
    (r.out, fx.into_owned())
}

/// [`run_args`] with a space-separated line, RESP2.
pub fn run(slot: &mut Option<Stream>, line: &str, c: &ExecCtx) -> (String, Effects<'static>) {
    run_args(slot, &words(line), c, false)
}

/// Replication argv as space-joined lines.
pub fn repl(fx: &Effects) -> Vec<String> {
    fx.replicate
        .iter()
        .map(|p| {
            p.argv()
                .iter()
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// A bulk string in RESP.
pub fn bulk(s: &str) -> String {
    format!("${}\r\n{}\r\n", s.len(), s)
}
