//! XTRIM, as Redis 7.0's `xtrimCommand`, plus the Redis 8.2 KEEPREF/DELREF/ACKED
//! options (see `trim_refs`; with no consumer groups they all trim as 7.0 does).

use super::reply::Reply;
use super::trim_args::{exact_trim_argv, parse_add_or_trim, DeleteStrategy};
use super::trim_refs::{trim_with_policy, TrimDone};
use super::util::{check_arity, is_kw};
use super::{CmdError, Effects, ExecCtx};
use crate::stream::id::{parse_strict_id, ERR_INVALID_ID};
use crate::stream::store::TrimStrategy;
use crate::stream::stream::{Stream, TrimArgs};
use crate::stream::StreamId;

/// A parsed XTRIM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XtrimRequest<'a> {
    /// The key.
    pub key: &'a [u8],
    /// The trimming, limit resolved.
    pub trim: TrimArgs,
    /// KEEPREF / DELREF / ACKED if given.
    pub delete_strategy: Option<DeleteStrategy>,
    /// Internal (trusted callers only): `TRIMIDS id ...`, the exact effect of
    /// a DELREF/ACKED trim on the master (see `trim_refs`).
    pub trim_ids: Option<Vec<StreamId>>,
}

impl<'a> XtrimRequest<'a> {
    /// Parses `XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT n] [KEEPREF|DELREF|ACKED]`.
    pub fn parse(argv: &[&'a [u8]], ctx: &ExecCtx, name: &str) -> Result<Self, CmdError> {
        check_arity(argv, -4, name)?;
        if ctx.trusted && argv.get(2).is_some_and(|a| is_kw(a, "TRIMIDS")) {
            let mut ids = Vec::new();
            for a in argv.get(3..).unwrap_or_default() {
                ids.push(parse_strict_id(a).ok_or(ERR_INVALID_ID)?);
            }
            return Ok(XtrimRequest {
                key: argv.get(1).copied().unwrap_or_default(),
                trim: TrimArgs {
                    strategy: TrimStrategy::MaxLen(u64::MAX),
                    approx: false,
                    limit: 0,
                },
                delete_strategy: None,
                trim_ids: Some(ids),
            });
        }
        let args = parse_add_or_trim(argv, false, ctx.trusted, ctx.limits.max_entries)?;
        let Some(trim) = args.trim else {
            // parse_add_or_trim already refuses XTRIM without a strategy.
            return Err("ERR syntax error, XTRIM must be called with a trimming strategy".into());
        };
        Ok(XtrimRequest {
            key: argv.get(1).copied().unwrap_or_default(),
            trim,
            delete_strategy: args.delete_strategy,
            trim_ids: None,
        })
    }

    /// The 8.2 options exist only on module streams.
    pub fn needs_module_stream(&self) -> bool {
        self.delete_strategy.is_some()
    }

    /// Trims; replies with the number of entries removed (0 for a missing key).
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
        s.idmp.expire(ctx.now_ms);
        if let Some(ids) = &self.trim_ids {
            let removed = s.trim_ids(ids);
            if removed > 0 {
                fx.events.push("xtrim");
                let mut argv = vec![
                    b"idmp.xtrim".to_vec(),
                    self.key.to_vec(),
                    b"TRIMIDS".to_vec(),
                ];
                argv.extend(ids.iter().map(|id| id.to_bytes()));
                fx.push_owned(argv);
            }
            reply.int(i64::try_from(removed).unwrap_or(i64::MAX));
            return fx;
        }
        let mut acks = Effects::default();
        let (removed, done) =
            trim_with_policy(s, self.key, &self.trim, self.delete_strategy, &mut acks);
        if removed > 0 {
            fx.events.push("xtrim");
            if let TrimDone::Ran(ran) = done {
                let mut argv = vec![b"idmp.xtrim".to_vec(), self.key.to_vec()];
                argv.extend(exact_trim_argv(&ran, s.len(), s.store.first_id_any()));
                fx.push_owned(argv);
            }
        }
        fx.replicate.extend(acks.replicate);
        reply.int(i64::try_from(removed).unwrap_or(i64::MAX));
        fx
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{ctx, perr, repl, run};

    #[test]
    fn propagates_the_exact_result() {
        let c = ctx(1);
        let mut slot = None;
        let (out, fx) = run(&mut slot, "XTRIM s MAXLEN 0", &c);
        assert_eq!(out, ":0\r\n");
        assert!(fx.replicate.is_empty());
        for i in 1..=5 {
            run(&mut slot, &format!("XADD s {i}-0 f v"), &c);
        }
        let (out, fx) = run(&mut slot, "XTRIM s MAXLEN ~ 1", &c);
        assert_eq!(out, ":0\r\n");
        assert!(fx.replicate.is_empty() && fx.events.is_empty());
        let (out, fx) = run(&mut slot, "XTRIM s MAXLEN 3 KEEPREF", &c);
        assert_eq!(out, ":2\r\n");
        assert_eq!(fx.events, vec!["xtrim"]);
        assert_eq!(repl(&fx), vec!["idmp.xtrim s MAXLEN = 3"]);
        let (out, fx) = run(&mut slot, "XTRIM s MINID 5", &c);
        assert_eq!(out, ":2\r\n");
        assert_eq!(repl(&fx), vec!["idmp.xtrim s MINID = 5-0"]);
        assert_eq!(perr("XTRIM s DELREF MAXLEN 1"), None);
        assert_eq!(
            perr("XTRIM s KEEPREF LIMIT 0"),
            Some("ERR syntax error, XTRIM must be called with a trimming strategy".into())
        );
    }
}
