//! XIDMPRECORD (SPEC section 7): records `(pid, iid) -> id` as an XADD IDMP
//! would have, without counting in `iids-added`. It is what an AOF rewrite
//! emits for every tracked iid.
//!
//! Trusted callers (AOF loader, master link) may append `IDMPAT <ms>` (arity 7)
//! to give the insertion time; the command propagates itself in that form so
//! that a replica records the master's time.

use super::reply::Reply;
use super::trim_args::{ERR_IDMP_EMPTY_IID, ERR_IDMP_EMPTY_PID};
use super::util::{arity_error, is_kw, parse_ll, ERR_NOT_INT, ERR_NO_SUCH_KEY, ERR_SYNTAX};
use super::{CmdError, Effects, ExecCtx};
use crate::stream::id::{parse_strict_id, ERR_INVALID_ID};
use crate::stream::stream::Stream;

/// Error: the ID names no live entry (untrusted), or is above the last ID.
pub const ERR_NO_ENTRY: &str = "ERR The specified stream ID was deleted or doesn't exist";
/// Error: the pair is tracked with another ID.
pub const ERR_OTHER_ID: &str =
    "ERR The specified IDMP producer-id/idempotent-id pair maps to a different stream ID";

/// A parsed XIDMPRECORD; its arguments are checked at exec time, after the
/// key, in the order of SPEC 7.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XidmprecordRequest<'a> {
    /// The key.
    pub key: &'a [u8],
    /// Producer ID.
    pub pid: &'a [u8],
    /// Idempotent ID.
    pub iid: &'a [u8],
    /// The stream ID argument, unparsed.
    pub id: &'a [u8],
    /// `IDMPAT <ms>` (trusted only).
    pub at: Option<u64>,
}

impl<'a> XidmprecordRequest<'a> {
    /// Parses `XIDMPRECORD key pid iid id` (trusted: `... IDMPAT ms` too).
    pub fn parse(argv: &[&'a [u8]], ctx: &ExecCtx, name: &str) -> Result<Self, CmdError> {
        let at = match argv.len() {
            5 => None,
            7 if ctx.trusted => {
                if !is_kw(argv.get(5).copied().unwrap_or_default(), "idmpat") {
                    return Err(ERR_SYNTAX.into());
                }
                let t = parse_ll(argv.get(6).copied().unwrap_or_default())?;
                Some(u64::try_from(t).map_err(|_| ERR_NOT_INT.to_string())?)
            }
            _ => return Err(arity_error(name)),
        };
        let arg = |i: usize| argv.get(i).copied().unwrap_or_default();
        Ok(XidmprecordRequest {
            key: arg(1),
            pid: arg(2),
            iid: arg(3),
            id: arg(4),
            at,
        })
    }

    /// Records the pair; `+OK` also when it already maps to the same ID.
    pub fn exec(
        &self,
        stream: Option<&mut Stream>,
        ctx: &ExecCtx,
        reply: &mut dyn Reply,
    ) -> Effects<'_> {
        let mut fx = Effects::default();
        let Some(s) = stream else {
            reply.error(ERR_NO_SUCH_KEY);
            return fx;
        };
        let Some(id) = parse_strict_id(self.id) else {
            reply.error(ERR_INVALID_ID);
            return fx;
        };
        if self.pid.is_empty() {
            reply.error(ERR_IDMP_EMPTY_PID);
            return fx;
        }
        if self.iid.is_empty() {
            reply.error(ERR_IDMP_EMPTY_IID);
            return fx;
        }
        let now = self.at.unwrap_or(ctx.now_ms);
        s.idmp.expire(now);
        // From the AOF or the master any ID is taken: the entry may have
        // been deleted, and the last ID lowered below it by XSETID since.
        let exists = ctx.trusted || s.store.get(id).is_some();
        if !exists {
            reply.error(ERR_NO_ENTRY);
            return fx;
        }
        let mut argv = vec![
            b"XIDMPRECORD".to_vec(),
            self.key.to_vec(),
            self.pid.to_vec(),
            self.iid.to_vec(),
            id.to_bytes(),
        ];
        match s.idmp.lookup(self.pid, self.iid, now) {
            Some(other) if other != id => {
                reply.error(ERR_OTHER_ID);
                return fx;
            }
            Some(_) => {}
            None => {
                let t = match self.at {
                    Some(t) => {
                        s.idmp.record_at(self.pid, self.iid, id, t);
                        t
                    }
                    None => s.idmp.record(self.pid, self.iid, id, now),
                };
                argv.push(b"IDMPAT".to_vec());
                argv.push(t.to_string().into_bytes());
            }
        }
        reply.simple("OK");
        fx.events.push("xidmprecord");
        fx.push_owned(argv);
        fx
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{ctx, parse_err, perr, repl, run, run_args, words};
    use super::super::ExecCtx;
    use super::*;
    use crate::stream::StreamId;

    fn trusted(now: u64) -> ExecCtx {
        ExecCtx {
            trusted: true,
            ..ctx(now)
        }
    }

    fn err(s: &str) -> String {
        format!("-{s}\r\n")
    }

    #[test]
    fn arity() {
        let a = "ERR wrong number of arguments for 'xidmprecord' command";
        assert_eq!(perr("XIDMPRECORD s p i"), Some(a.into()));
        assert_eq!(perr("XIDMPRECORD s p i 1-1 x"), Some(a.into()));
        assert_eq!(perr("XIDMPRECORD s p i 1-1 IDMPAT 5"), Some(a.into()));
        assert_eq!(
            parse_err(&words("XIDMPRECORD s p i 1-1 IDMPAT 5"), &trusted(1)),
            None
        );
        assert_eq!(
            parse_err(&words("XIDMPRECORD s p i 1-1 FOO 5"), &trusted(1)),
            Some("ERR syntax error".into())
        );
    }

    #[test]
    fn errors_in_spec_order() {
        let c = ctx(1000);
        let mut slot = None;
        // Missing key first, whatever the other arguments.
        let (out, _) = run_args(
            &mut slot,
            &[
                b"XIDMPRECORD".to_vec(),
                b"s".to_vec(),
                vec![],
                vec![],
                b"bad".to_vec(),
            ],
            &c,
            false,
        );
        assert_eq!(out, err(ERR_NO_SUCH_KEY));
        run(&mut slot, "XADD s 1-1 f v", &c);
        run(&mut slot, "XADD s 2-1 f v", &c);
        let (out, _) = run_args(
            &mut slot,
            &[
                b"XIDMPRECORD".to_vec(),
                b"s".to_vec(),
                vec![],
                vec![],
                b"bad".to_vec(),
            ],
            &c,
            false,
        );
        assert_eq!(out, err(ERR_INVALID_ID));
        let (out, _) = run_args(
            &mut slot,
            &[
                b"XIDMPRECORD".to_vec(),
                b"s".to_vec(),
                vec![],
                vec![],
                b"9-9".to_vec(),
            ],
            &c,
            false,
        );
        assert_eq!(out, err(ERR_IDMP_EMPTY_PID));
        let (out, _) = run_args(
            &mut slot,
            &[
                b"XIDMPRECORD".to_vec(),
                b"s".to_vec(),
                b"p".to_vec(),
                vec![],
                b"9-9".to_vec(),
            ],
            &c,
            false,
        );
        assert_eq!(out, err(ERR_IDMP_EMPTY_IID));
        let (out, _) = run(&mut slot, "XIDMPRECORD s p i 9-9", &c);
        assert_eq!(out, err(ERR_NO_ENTRY));
        let (out, fx) = run(&mut slot, "XIDMPRECORD s p i 1-1", &c);
        assert_eq!(out, "+OK\r\n");
        assert_eq!(fx.events, vec!["xidmprecord"]);
        assert_eq!(repl(&fx), vec!["XIDMPRECORD s p i 1-1 IDMPAT 1000"]);
        // Idempotent; another ID is refused.
        let (out, fx) = run(&mut slot, "XIDMPRECORD s p i 1-1", &c);
        assert_eq!(out, "+OK\r\n");
        assert_eq!(repl(&fx), vec!["XIDMPRECORD s p i 1-1"]);
        let (out, fx) = run(&mut slot, "XIDMPRECORD s p i 2-1", &c);
        assert_eq!(out, err(ERR_OTHER_ID));
        assert!(fx.replicate.is_empty());
        let s = slot.as_ref().expect("s");
        assert_eq!((s.idmp.iids_added, s.idmp.iids_tracked()), (0, 1));
        // An XADD IDMP of the recorded pair is a duplicate.
        let (out, _) = run(&mut slot, "XADD s IDMP p i * f v", &c);
        assert_eq!(out, "$3\r\n1-1\r\n");
        // A deleted entry: refused for clients, accepted when trusted up to last-id.
        run(&mut slot, "XDEL s 2-1", &c);
        let (out, _) = run(&mut slot, "XIDMPRECORD s p j 2-1", &c);
        assert_eq!(out, err(ERR_NO_ENTRY));
        let (out, _) = run_args(
            &mut slot,
            &words("XIDMPRECORD s p j 2-1 IDMPAT 500"),
            &trusted(1000),
            false,
        );
        assert_eq!(out, "+OK\r\n");
        // Trusted: any ID, even above the last one (an entry deleted, then
        // XSETID below it, before the AOF was rewritten).
        let (out, _) = run_args(
            &mut slot,
            &words("XIDMPRECORD s p k 2-2"),
            &trusted(1000),
            false,
        );
        assert_eq!(out, "+OK\r\n");
        let s = slot.as_ref().expect("s");
        let times: Vec<(StreamId, u64)> = s
            .idmp
            .producers()
            .flat_map(|(_, it)| it.map(|(_, id, t)| (id, t)))
            .collect();
        assert_eq!(
            times,
            vec![
                (StreamId::new(1, 1), 1000),
                (StreamId::new(2, 1), 1000),
                (StreamId::new(2, 2), 1000)
            ]
        );
    }
}
