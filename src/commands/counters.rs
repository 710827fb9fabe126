//! The internal `idmp.idmpcounters key <iids-added> <iids-duplicates>`: sets
//! the lifetime IDMP counters of a stream. XADD propagates it for a duplicate
//! (whose only effect is the counter bump); an AOF rewrite may emit it. Only
//! the AOF loader and the master link may run it.

use super::reply::Reply;
use super::util::{check_arity, parse_ll, ERR_NOT_INT, ERR_NO_SUCH_KEY};
use super::{CmdError, Effects, ExecCtx};
use crate::stream::stream::Stream;

/// Error for clients: the command is internal.
pub const ERR_INTERNAL: &str =
    "ERR idmp.idmpcounters is internal: only the AOF loader and a master link may run it";

/// A parsed `idmp.idmpcounters`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CountersRequest<'a> {
    /// The key.
    pub key: &'a [u8],
    /// New `iids-added`.
    pub added: u64,
    /// New `iids-duplicates`.
    pub duplicates: u64,
}

impl<'a> CountersRequest<'a> {
    /// Parses `idmp.idmpcounters key added duplicates` (trusted callers only).
    pub fn parse(argv: &[&'a [u8]], ctx: &ExecCtx, name: &str) -> Result<Self, CmdError> {
        check_arity(argv, 4, name)?;
        if !ctx.trusted {
            return Err(ERR_INTERNAL.into());
        }
        let num = |i: usize| -> Result<u64, CmdError> {
            let v = parse_ll(argv.get(i).copied().unwrap_or_default())?;
            u64::try_from(v).map_err(|_| ERR_NOT_INT.to_string())
        };
        Ok(CountersRequest {
            key: argv.get(1).copied().unwrap_or_default(),
            added: num(2)?,
            duplicates: num(3)?,
        })
    }

    /// Sets the counters; `ERR no such key` for a missing key.
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
        s.idmp.expire(ctx.now_ms);
        s.idmp.iids_added = self.added;
        s.idmp.iids_duplicates = self.duplicates;
        reply.simple("OK");
        fx.propagate([
            b"idmp.idmpcounters".to_vec(),
            self.key.to_vec(),
            self.added.to_string().into_bytes(),
            self.duplicates.to_string().into_bytes(),
        ]);
        fx
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{ctx, parse_err, perr, repl, run, run_args, words};
    use super::super::ExecCtx;
    use super::*;

    #[test]
    fn trusted_only() {
        let t = ExecCtx {
            trusted: true,
            ..ctx(1)
        };
        assert_eq!(perr("idmp.idmpcounters s 1 2"), Some(ERR_INTERNAL.into()));
        assert_eq!(
            perr("idmp.idmpcounters s 1"),
            Some("ERR wrong number of arguments for 'idmp.idmpcounters' command".into())
        );
        assert_eq!(
            parse_err(&words("idmp.idmpcounters s -1 2"), &t),
            Some(ERR_NOT_INT.into())
        );
        let mut slot = None;
        let (out, _) = run_args(&mut slot, &words("idmp.idmpcounters s 1 2"), &t, false);
        assert_eq!(out, "-ERR no such key\r\n");
        run(&mut slot, "XADD s 1-1 f v", &t);
        let (out, fx) = run_args(&mut slot, &words("idmp.idmpcounters s 4 5"), &t, false);
        assert_eq!(out, "+OK\r\n");
        assert_eq!(repl(&fx), vec!["idmp.idmpcounters s 4 5"]);
        let s = slot.expect("s");
        assert_eq!((s.idmp.iids_added, s.idmp.iids_duplicates), (4, 5));
    }
}
