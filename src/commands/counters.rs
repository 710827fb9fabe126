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
    ) -> Effects {
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
