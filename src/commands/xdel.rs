//! XDEL, as Redis 7.0's `xdelCommand`: the key is looked up before the IDs
//! are parsed, so a missing key answers 0 and WRONGTYPE wins over a bad ID.

use super::reply::Reply;
use super::util::check_arity;
use super::{CmdError, Effects, ExecCtx};
use crate::stream::id::{parse_strict_id, ERR_INVALID_ID};
use crate::stream::stream::Stream;
use crate::stream::StreamId;

/// A parsed XDEL (IDs still raw: they are checked at exec time).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XdelRequest<'a> {
    /// The key.
    pub key: &'a [u8],
    /// The ID arguments.
    pub ids: Vec<&'a [u8]>,
}

impl<'a> XdelRequest<'a> {
    /// Parses `XDEL key id [id ...]` (arity only).
    pub fn parse(argv: &[&'a [u8]], name: &str) -> Result<Self, CmdError> {
        check_arity(argv, -3, name)?;
        Ok(XdelRequest {
            key: argv.get(1).copied().unwrap_or_default(),
            ids: argv.get(2..).unwrap_or_default().to_vec(),
        })
    }

    /// Deletes the entries; replies with how many existed. Every ID is
    /// checked before anything is deleted.
    pub fn exec(
        &self,
        stream: Option<&mut Stream>,
        ctx: &ExecCtx,
        reply: &mut dyn Reply,
    ) -> Effects<'_> {
        let mut fx = Effects::default();
        let Some(s) = stream else {
            reply.int(0);
            return fx;
        };
        let mut ids: Vec<StreamId> = Vec::with_capacity(self.ids.len());
        for arg in &self.ids {
            match parse_strict_id(arg) {
                Some(id) => ids.push(id),
                None => {
                    reply.error(ERR_INVALID_ID);
                    return fx;
                }
            }
        }
        s.idmp.expire(ctx.now_ms);
        let mut deleted: Vec<StreamId> = Vec::new();
        for id in ids {
            if s.delete(id) {
                deleted.push(id);
            }
        }
        if !deleted.is_empty() {
            s.refresh_first_id();
            fx.events.push("xdel");
            let mut argv = Vec::with_capacity(deleted.len() + 2);
            argv.push(b"idmp.xdel".to_vec());
            argv.push(self.key.to_vec());
            argv.extend(deleted.iter().map(|id| id.to_bytes()));
            fx.push_owned(argv);
        }
        reply.int(i64::try_from(deleted.len()).unwrap_or(i64::MAX));
        fx
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{ctx, repl, run};

    #[test]
    fn propagates_only_deleted_ids() {
        let c = ctx(1);
        let mut slot = None;
        let (out, _) = run(&mut slot, "XDEL s bad", &c);
        assert_eq!(out, ":0\r\n");
        run(&mut slot, "XADD s 1-1 f v", &c);
        run(&mut slot, "XADD s 2-1 f v", &c);
        let (out, fx) = run(&mut slot, "XDEL s 1-1 bad", &c);
        assert_eq!(
            out,
            "-ERR Invalid stream ID specified as stream command argument\r\n"
        );
        assert!(fx.replicate.is_empty());
        let (out, fx) = run(&mut slot, "XDEL s 5 1-1 1-1", &c);
        assert_eq!(out, ":1\r\n");
        assert_eq!(fx.events, vec!["xdel"]);
        assert_eq!(repl(&fx), vec!["idmp.xdel s 1-1"]);
        let (out, fx) = run(&mut slot, "XDEL s 1-1", &c);
        assert_eq!(out, ":0\r\n");
        assert!(fx.replicate.is_empty() && fx.events.is_empty());
        let s = slot.expect("s");
        assert_eq!((s.first_id.ms, s.max_deleted_id.ms), (2, 1));
    }
}
