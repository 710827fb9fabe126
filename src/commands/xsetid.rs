//! XSETID, as Redis 7.0's `xsetidCommand`.

use super::reply::Reply;
use super::util::{check_arity, is_kw, parse_ll, ERR_NO_SUCH_KEY, ERR_SYNTAX};
use super::{CmdError, Effects, ExecCtx};
use crate::stream::id::{parse_strict_id, ERR_INVALID_ID};
use crate::stream::stream::Stream;
use crate::stream::StreamId;

/// A parsed XSETID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XsetidRequest<'a> {
    /// The key.
    pub key: &'a [u8],
    /// The new last-generated-id.
    pub id: StreamId,
    /// ENTRIESADDED, if given.
    pub entries_added: Option<u64>,
    /// MAXDELETEDID (`0-0` when not given: then it is left unchanged).
    pub max_deleted_id: StreamId,
}

impl<'a> XsetidRequest<'a> {
    /// Parses `XSETID key id [ENTRIESADDED n] [MAXDELETEDID id]`.
    pub fn parse(argv: &[&'a [u8]], name: &str) -> Result<Self, CmdError> {
        Self::parse_ctx(argv, name, false)
    }

    /// [`XsetidRequest::parse`]; `trusted` callers (AOF loader, master link)
    /// may give a MAXDELETEDID above the ID: a stream whose top entries were
    /// deleted before XSETID went below them has one, and its AOF rewrite
    /// restores it.
    pub fn parse_ctx(argv: &[&'a [u8]], name: &str, trusted: bool) -> Result<Self, CmdError> {
        check_arity(argv, -3, name)?;
        let id = parse_strict_id(argv.get(2).copied().unwrap_or_default())
            .ok_or_else(|| ERR_INVALID_ID.to_string())?;
        let mut entries_added = None;
        let mut max_deleted_id = StreamId::MIN;
        let mut i = 3;
        while i < argv.len() {
            let moreargs = argv.len() - 1 - i;
            let opt = argv.get(i).copied().unwrap_or_default();
            let val = argv.get(i + 1).copied().unwrap_or_default();
            if is_kw(opt, "ENTRIESADDED") && moreargs > 0 {
                let n = parse_ll(val)?;
                if n < 0 {
                    return Err("ERR entries_added must be positive".into());
                }
                entries_added = Some(n as u64);
            } else if is_kw(opt, "MAXDELETEDID") && moreargs > 0 {
                max_deleted_id = parse_strict_id(val).ok_or_else(|| ERR_INVALID_ID.to_string())?;
                if id < max_deleted_id && !trusted {
                    return Err("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id".into());
                }
            } else {
                return Err(ERR_SYNTAX.into());
            }
            i += 2;
        }
        Ok(XsetidRequest {
            key: argv.get(1).copied().unwrap_or_default(),
            id,
            entries_added,
            max_deleted_id,
        })
    }

    /// Sets the stream's metadata; `ERR no such key` for a missing key.
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
        // Redis 7.2+: never below the max-deleted-entry-id (a trusted caller,
        // the AOF or the master link, restores what a legacy payload held).
        if self.id < s.max_deleted_id && !ctx.trusted {
            reply.error(
                "ERR The ID specified in XSETID is smaller than current max_deleted_entry_id",
            );
            return fx;
        }
        if !s.is_empty() {
            let maxid = s.store.last_id().unwrap_or(StreamId::MIN);
            if self.id < maxid {
                reply.error(
                    "ERR The ID specified in XSETID is smaller than the target stream top item",
                );
                return fx;
            }
            if let Some(n) = self.entries_added {
                if s.len() > n {
                    reply.error("ERR The entries_added specified in XSETID is smaller than the target stream length");
                    return fx;
                }
            }
        }
        s.idmp.expire(ctx.now_ms);
        s.last_id = self.id;
        // Deleted top entries above the new ID go (see drop_tombstones_above):
        // checked above, no live entry is above it.
        s.store.drop_tombstones_above(self.id);
        if let Some(n) = self.entries_added {
            s.entries_added = n;
        }
        if self.max_deleted_id != StreamId::MIN {
            s.max_deleted_id = self.max_deleted_id;
        }
        reply.simple("OK");
        fx.events.push("xsetid");
        let mut argv = vec![
            b"idmp.xsetid".to_vec(),
            self.key.to_vec(),
            self.id.to_bytes(),
            b"ENTRIESADDED".to_vec(),
            s.entries_added.to_string().into_bytes(),
        ];
        // The replica checks MAXDELETEDID <= id; a larger recorded value (the
        // top entries were deleted, then XSETID went below them) is already
        // the replica's own value and is left out.
        if s.max_deleted_id <= self.id {
            argv.push(b"MAXDELETEDID".to_vec());
            argv.push(s.max_deleted_id.to_bytes());
        }
        fx.push_owned(argv);
        fx
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{ctx, repl, run, run_args};
    use super::super::ExecCtx;

    #[test]
    fn propagates_resolved_metadata() {
        let c = ctx(1);
        let mut slot = None;
        run(&mut slot, "XADD s 1-1 f v", &c);
        run(&mut slot, "XADD s 2-1 f v", &c);
        let (out, fx) = run(&mut slot, "XSETID s 3-0", &c);
        assert_eq!(out, "+OK\r\n");
        assert_eq!(fx.events, vec!["xsetid"]);
        assert_eq!(
            repl(&fx),
            vec!["idmp.xsetid s 3-0 ENTRIESADDED 2 MAXDELETEDID 0-0"]
        );
        // The top entry deleted, then XSETID below it: max-deleted (2-1) > id.
        run(&mut slot, "XDEL s 2-1", &c);
        let (out, fx) = run(&mut slot, "XSETID s 1-5 ENTRIESADDED 9", &c);
        assert_eq!(out, "+OK\r\n");
        assert_eq!(repl(&fx), vec!["idmp.xsetid s 1-5 ENTRIESADDED 9"]);
        // Replaying on a copy works.
        let mut replica = None;
        let t = ExecCtx { trusted: true, ..c };
        run(&mut replica, "XADD s 1-1 f v", &t);
        run(&mut replica, "XADD s 2-1 f v", &t);
        run(&mut replica, "XDEL s 2-1", &t);
        let (out, _) = run_args(&mut replica, &fx.owned_argvs()[0], &t, false);
        assert_eq!(out, "+OK\r\n");
        let (m, r) = (slot.expect("m"), replica.expect("r"));
        assert_eq!(
            (m.last_id, m.entries_added, m.max_deleted_id),
            (r.last_id, r.entries_added, r.max_deleted_id)
        );
    }
}
