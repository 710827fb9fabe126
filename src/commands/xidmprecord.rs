//! XIDMPRECORD (SPEC section 7): records `(pid, iid) -> id` as an XADD IDMP
//! would have, and counts it in `iids-added` (8.6.3). It is what an AOF
//! rewrite emits for every tracked iid.
//!
//! Clients: `XIDMPRECORD key pid iid id`, arity exactly 5 (COMMAND INFO).
//! The command propagates as the module-internal `idmp.xidmprecord key pid
//! iid id IDMPAT <ms>` so that a replica and the AOF record the master's
//! insertion time; trusted callers (AOF loader, master link) may send that
//! form under either name (AOFs written by earlier versions carry it as
//! `XIDMPRECORD`; the AOF loader does not check arity).

use super::reply::Reply;
use super::util::{arity_error, is_kw, parse_ll, ERR_NOT_INT, ERR_NO_SUCH_KEY, ERR_SYNTAX};
use super::{CmdError, Effects, ExecCtx};
use crate::stream::id::{parse_strict_id, ERR_INVALID_ID};
use crate::stream::stream::Stream;
use crate::stream::StreamId;

/// Error: empty producer ID (8.6.3).
pub const ERR_EMPTY_PID: &str = "ERR producer ID must be non-empty";
/// Error: empty idempotent ID (8.6.3).
pub const ERR_EMPTY_IID: &str = "ERR idempotent ID must be non-empty";
/// Error: the ID names no live entry (8.6.3; untrusted callers only).
pub const ERR_NO_ENTRY: &str = "ERR No such message in stream";
/// Error: the pair is tracked with another ID (8.6.3).
pub const ERR_OTHER_ID: &str =
    "ERR IID already exists for this producer with a different stream ID";

/// A parsed XIDMPRECORD. The checks before the key run here, in 8.6.3's
/// order: the ID, then the pid, then the iid; the key and the entry are
/// checked at exec time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XidmprecordRequest<'a> {
    /// The key.
    pub key: &'a [u8],
    /// Producer ID.
    pub pid: &'a [u8],
    /// Idempotent ID.
    pub iid: &'a [u8],
    /// The stream ID.
    pub id: StreamId,
    /// `IDMPAT <ms>` (trusted only).
    pub at: Option<u64>,
}

impl<'a> XidmprecordRequest<'a> {
    /// Parses `XIDMPRECORD key pid iid id` (trusted: `... IDMPAT ms` too).
    pub fn parse(argv: &[&'a [u8]], ctx: &ExecCtx, name: &str) -> Result<Self, CmdError> {
        let arg = |i: usize| argv.get(i).copied().unwrap_or_default();
        let at = match argv.len() {
            5 => None,
            7 if ctx.trusted => {
                if !is_kw(arg(5), "idmpat") {
                    return Err(ERR_SYNTAX.into());
                }
                let t = parse_ll(arg(6))?;
                Some(u64::try_from(t).map_err(|_| ERR_NOT_INT.to_string())?)
            }
            _ => return Err(arity_error(name)),
        };
        let id = parse_strict_id(arg(4)).ok_or_else(|| ERR_INVALID_ID.to_string())?;
        if arg(2).is_empty() {
            return Err(ERR_EMPTY_PID.into());
        }
        if arg(3).is_empty() {
            return Err(ERR_EMPTY_IID.into());
        }
        Ok(XidmprecordRequest {
            key: arg(1),
            pid: arg(2),
            iid: arg(3),
            id,
            at,
        })
    }

    /// Records the pair; `+OK` also when it already maps to the same ID
    /// (then nothing changes and nothing propagates, as on 8.6.3).
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
        let id = self.id;
        let now = self.at.unwrap_or(ctx.now_ms);
        s.idmp.expire(now);
        // From the AOF or the master any ID is taken: the entry may have
        // been deleted, and the last ID lowered below it by XSETID since.
        let exists = ctx.trusted || s.store.get(id).is_some();
        if !exists {
            reply.error(ERR_NO_ENTRY);
            return fx;
        }
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
                s.idmp.iids_added = s.idmp.iids_added.saturating_add(1);
                fx.push_owned(vec![
                    b"idmp.xidmprecord".to_vec(),
                    self.key.to_vec(),
                    self.pid.to_vec(),
                    self.iid.to_vec(),
                    id.to_bytes(),
                    b"IDMPAT".to_vec(),
                    t.to_string().into_bytes(),
                ]);
            }
        }
        reply.simple("OK");
        fx
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{ctx, parse_err, perr, repl, run, run_args, words};
    use super::super::ExecCtx;
    use super::*;

    fn trusted(now: u64) -> ExecCtx {
        ExecCtx {
            trusted: true,
            ..ctx(now)
        }
    }

    fn err(s: &str) -> String {
        format!("-{s}\r\n")
    }

    fn argv(a: &[&[u8]]) -> Vec<Vec<u8>> {
        a.iter().map(|x| x.to_vec()).collect()
    }

    /// The strings as native Redis 8.6.3 answers them (compared with the
    /// real server in tests/test_idmp_vs86.py).
    #[test]
    fn errors_as_redis_863() {
        assert_eq!(ERR_EMPTY_PID, "ERR producer ID must be non-empty");
        assert_eq!(ERR_EMPTY_IID, "ERR idempotent ID must be non-empty");
        assert_eq!(ERR_NO_ENTRY, "ERR No such message in stream");
        assert_eq!(
            ERR_OTHER_ID,
            "ERR IID already exists for this producer with a different stream ID"
        );
    }

    #[test]
    fn arity() {
        let a = "ERR wrong number of arguments for 'xidmprecord' command";
        assert_eq!(perr("XIDMPRECORD s p i"), Some(a.into()));
        assert_eq!(perr("XIDMPRECORD s p i 1-1 x"), Some(a.into()));
        assert_eq!(perr("XIDMPRECORD s p i 1-1 IDMPAT 5"), Some(a.into()));
        assert_eq!(perr("idmp.xidmprecord s p i 1-1 IDMPAT 5"), Some(a.into()));
        assert_eq!(
            parse_err(&words("XIDMPRECORD s p i 1-1 IDMPAT 5"), &trusted(1)),
            None
        );
        assert_eq!(
            parse_err(&words("idmp.xidmprecord s p i 1-1 IDMPAT 5"), &trusted(1)),
            None
        );
        assert_eq!(
            parse_err(&words("XIDMPRECORD s p i 1-1 FOO 5"), &trusted(1)),
            Some("ERR syntax error".into())
        );
    }

    #[test]
    fn errors_in_863_order() {
        let c = ctx(1000);
        // Before the key: the ID, then the pid, then the iid.
        let cases: &[(&[&[u8]], &str)] = &[
            (&[b"XIDMPRECORD", b"s", b"", b"", b"bad"], ERR_INVALID_ID),
            (&[b"XIDMPRECORD", b"s", b"", b"", b"1-*"], ERR_INVALID_ID),
            (&[b"XIDMPRECORD", b"s", b"", b"", b"*"], ERR_INVALID_ID),
            (&[b"XIDMPRECORD", b"s", b"", b"", b"9-9"], ERR_EMPTY_PID),
            (&[b"XIDMPRECORD", b"s", b"p", b"", b"9-9"], ERR_EMPTY_IID),
        ];
        for (a, e) in cases {
            let mut slot = None;
            let (out, fx) = run_args(&mut slot, &argv(a), &c, false);
            assert_eq!(out, err(e), "{a:?}");
            assert!(fx.replicate.is_empty());
        }
        // Then the key, then the entry.
        let mut slot = None;
        let (out, _) = run(&mut slot, "XIDMPRECORD s p i 1-1", &c);
        assert_eq!(out, err(ERR_NO_SUCH_KEY));
        run(&mut slot, "XADD s 1-1 f v", &c);
        run(&mut slot, "XADD s 2-1 f v", &c);
        for id in ["9-9", "0-0", "1", "1-2"] {
            let (out, _) = run(&mut slot, &format!("XIDMPRECORD s p i {id}"), &c);
            assert_eq!(out, err(ERR_NO_ENTRY), "{id}");
        }
        let s = slot.as_ref().expect("s");
        assert_eq!((s.idmp.pids_tracked(), s.idmp.iids_added), (0, 0));
    }

    #[test]
    fn records_counts_and_propagates() {
        let c = ctx(1000);
        let mut slot = None;
        run(&mut slot, "XADD s 1-1 f v", &c);
        run(&mut slot, "XADD s 2-1 f v", &c);
        let (out, fx) = run(&mut slot, "XIDMPRECORD s p i 1-1", &c);
        assert_eq!(out, "+OK\r\n");
        assert!(fx.events.is_empty());
        assert_eq!(repl(&fx), vec!["idmp.xidmprecord s p i 1-1 IDMPAT 1000"]);
        // Idempotent: nothing changes, nothing propagates; another ID is refused.
        let (out, fx) = run(&mut slot, "XIDMPRECORD s p i 1-1", &c);
        assert_eq!(out, "+OK\r\n");
        assert!(fx.replicate.is_empty());
        let (out, fx) = run(&mut slot, "XIDMPRECORD s p i 2-1", &c);
        assert_eq!(out, err(ERR_OTHER_ID));
        assert!(fx.replicate.is_empty());
        let s = slot.as_ref().expect("s");
        assert_eq!((s.idmp.iids_added, s.idmp.iids_tracked()), (1, 1));
        // An XADD IDMP of the recorded pair is a duplicate.
        let (out, _) = run(&mut slot, "XADD s IDMP p i * f v", &c);
        assert_eq!(out, "$3\r\n1-1\r\n");
        // The replica's copy records the master's time and counts alike.
        let mut replica = None;
        let t = trusted(5000);
        run_args(&mut replica, &words("idmp.xadd s 1-1 f v"), &t, false);
        let (out, _) = run_args(
            &mut replica,
            &words("idmp.xidmprecord s p i 1-1 IDMPAT 1000"),
            &t,
            false,
        );
        assert_eq!(out, "+OK\r\n");
        let r = replica.as_ref().expect("r");
        assert_eq!(r.idmp.iids_added, 1);
        let times: Vec<u64> = r
            .idmp
            .producers()
            .flat_map(|(_, it)| it.map(|(_, _, t)| t))
            .collect();
        assert_eq!(times, vec![1000]);
    }

    #[test]
    fn trusted_accepts_gone_entries() {
        let c = ctx(1000);
        let mut slot = None;
        run(&mut slot, "XADD s 1-1 f v", &c);
        run(&mut slot, "XADD s 2-1 f v", &c);
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
        let recs: Vec<(StreamId, u64)> = s
            .idmp
            .producers()
            .flat_map(|(_, it)| it.map(|(_, id, t)| (id, t)))
            .collect();
        assert_eq!(
            recs,
            vec![(StreamId::new(2, 1), 500), (StreamId::new(2, 2), 1000)]
        );
        assert_eq!(s.idmp.iids_added, 2);
    }
}
