//! XCFGSET (SPEC section 4): per-stream IDMP settings.

use super::reply::Reply;
use super::util::{check_arity, is_kw, parse_ll, ERR_NO_SUCH_KEY, ERR_SYNTAX};
use super::{CmdError, Effects, ExecCtx};
use crate::stream::idmp::IdmpSettings;
use crate::stream::stream::Stream;

/// `XCFGSET key IDMP-DURATION d IDMP-MAXSIZE m`: the command that gives a
/// stream these settings (AOF rewrite, propagation of a created stream).
pub fn settings_argv(key: &[u8], settings: IdmpSettings) -> Vec<Vec<u8>> {
    vec![
        b"XCFGSET".to_vec(),
        key.to_vec(),
        b"IDMP-DURATION".to_vec(),
        settings.duration_secs.to_string().into_bytes(),
        b"IDMP-MAXSIZE".to_vec(),
        settings.maxsize.to_string().into_bytes(),
    ]
}

/// Error: no option given.
pub const ERR_NO_PARAM: &str =
    "ERR At least one parameter (IDMP-DURATION or IDMP-MAXSIZE) is required";
/// Error: duration out of range.
pub const ERR_DURATION_RANGE: &str = "ERR IDMP-DURATION must be between 1 and 86400 seconds";
/// Error: maxsize out of range.
pub const ERR_MAXSIZE_RANGE: &str = "ERR IDMP-MAXSIZE must be between 1 and 10000 entries";

/// A parsed XCFGSET.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XcfgsetRequest<'a> {
    /// The key.
    pub key: &'a [u8],
    /// IDMP-DURATION (seconds), if given (the last one wins).
    pub duration: Option<u32>,
    /// IDMP-MAXSIZE, if given (the last one wins).
    pub maxsize: Option<u32>,
}

impl<'a> XcfgsetRequest<'a> {
    /// Parses `XCFGSET key [IDMP-DURATION s] [IDMP-MAXSIZE n]` left to right
    /// (`DURATION` / `MAXSIZE` are aliases), before the key is looked up.
    pub fn parse(argv: &[&'a [u8]], name: &str) -> Result<Self, CmdError> {
        check_arity(argv, -2, name)?;
        if argv.len() == 2 {
            return Err(ERR_NO_PARAM.into());
        }
        let mut duration = None;
        let mut maxsize = None;
        let mut i = 2;
        while i < argv.len() {
            let opt = argv.get(i).copied().unwrap_or_default();
            let Some(val) = argv.get(i + 1).copied() else {
                return Err(ERR_SYNTAX.into());
            };
            if is_kw(opt, "idmp-duration") || is_kw(opt, "duration") {
                let v = parse_ll(val)?;
                if !(1..=86400).contains(&v) {
                    return Err(ERR_DURATION_RANGE.into());
                }
                duration = Some(v as u32);
            } else if is_kw(opt, "idmp-maxsize") || is_kw(opt, "maxsize") {
                let v = parse_ll(val)?;
                if !(1..=10000).contains(&v) {
                    return Err(ERR_MAXSIZE_RANGE.into());
                }
                maxsize = Some(v as u32);
            } else {
                return Err(ERR_SYNTAX.into());
            }
            i += 2;
        }
        Ok(XcfgsetRequest {
            key: argv.get(1).copied().unwrap_or_default(),
            duration,
            maxsize,
        })
    }

    /// Applies the settings (clearing producers if any value changes).
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
        s.idmp.configure(self.duration, self.maxsize);
        let now = s.idmp.settings();
        reply.simple("OK");
        fx.events.push("xcfgset");
        fx.propagate([
            b"XCFGSET".to_vec(),
            self.key.to_vec(),
            b"IDMP-DURATION".to_vec(),
            now.duration_secs.to_string().into_bytes(),
            b"IDMP-MAXSIZE".to_vec(),
            now.maxsize.to_string().into_bytes(),
        ]);
        fx
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{ctx, perr, repl, run};
    use super::*;

    fn e(s: &str) -> Option<String> {
        Some(s.to_string())
    }

    #[test]
    fn spec_errors_exact() {
        assert_eq!(
            perr("XCFGSET"),
            e("ERR wrong number of arguments for 'xcfgset' command")
        );
        assert_eq!(perr("XCFGSET s"), e(ERR_NO_PARAM));
        assert_eq!(perr("XCFGSET s FOO 1"), e(ERR_SYNTAX));
        assert_eq!(perr("XCFGSET s IDMP-DURATION"), e(ERR_SYNTAX));
        assert_eq!(
            perr("XCFGSET s IDMP-DURATION 5 IDMP-MAXSIZE"),
            e(ERR_SYNTAX)
        );
        for v in ["A", "3.14", "120-5", "+", "000", "01", " 1", ""] {
            assert_eq!(
                perr(&format!("XCFGSET s IDMP-DURATION {v}")),
                e("ERR value is not an integer or out of range"),
                "{v:?}"
            );
            assert_eq!(
                perr(&format!("XCFGSET s IDMP-MAXSIZE {v}")),
                e("ERR value is not an integer or out of range"),
                "{v:?}"
            );
        }
        for v in ["0", "-1", "86401", "99999999999"] {
            assert_eq!(
                perr(&format!("XCFGSET s IDMP-DURATION {v}")),
                e(ERR_DURATION_RANGE),
                "{v}"
            );
        }
        for v in ["0", "-5", "10001"] {
            assert_eq!(
                perr(&format!("XCFGSET s IDMP-MAXSIZE {v}")),
                e(ERR_MAXSIZE_RANGE),
                "{v}"
            );
        }
        for ok in [
            "XCFGSET s IDMP-DURATION 1",
            "XCFGSET s IDMP-DURATION 86400",
            "XCFGSET s idmp-maxsize 1 IDMP-DURATION 5",
            "XCFGSET s IDMP-MAXSIZE 10000",
            "XCFGSET s duration 5 MaxSize 7",
        ] {
            assert_eq!(perr(ok), None, "{ok}");
        }
    }

    #[test]
    fn left_to_right_first_problem_wins() {
        assert_eq!(
            perr("XCFGSET s IDMP-DURATION 0 IDMP-MAXSIZE x"),
            e(ERR_DURATION_RANGE)
        );
        assert_eq!(
            perr("XCFGSET s IDMP-MAXSIZE x IDMP-DURATION 0"),
            e("ERR value is not an integer or out of range")
        );
        assert_eq!(perr("XCFGSET s IDMP-MAXSIZE 0 FOO"), e(ERR_MAXSIZE_RANGE));
        assert_eq!(perr("XCFGSET s FOO IDMP-MAXSIZE 0"), e(ERR_SYNTAX));
        assert_eq!(
            perr("XCFGSET s IDMP-DURATION 5 IDMP-DURATION 0"),
            e(ERR_DURATION_RANGE)
        );
    }

    #[test]
    fn exec_semantics() {
        let c = ctx(1000);
        let mut slot = None;
        let (out, fx) = run(&mut slot, "XCFGSET s IDMP-DURATION 5", &c);
        assert_eq!(out, "-ERR no such key\r\n");
        assert!(fx.replicate.is_empty() && slot.is_none());

        run(&mut slot, "XADD s IDMP p a * f v", &c);
        run(&mut slot, "XADD s IDMP p a * f v", &c);
        // Same values: nothing cleared.
        let (out, fx) = run(&mut slot, "XCFGSET s IDMP-DURATION 100 MAXSIZE 100", &c);
        assert_eq!(out, "+OK\r\n");
        assert_eq!(fx.events, vec!["xcfgset"]);
        assert_eq!(
            repl(&fx),
            vec!["XCFGSET s IDMP-DURATION 100 IDMP-MAXSIZE 100"]
        );
        assert_eq!(slot.as_ref().expect("s").idmp.iids_tracked(), 1);
        // Last one wins; a change clears producers but keeps counters.
        let (out, fx) = run(&mut slot, "XCFGSET s IDMP-MAXSIZE 3 IDMP-MAXSIZE 7", &c);
        assert_eq!(out, "+OK\r\n");
        assert_eq!(
            repl(&fx),
            vec!["XCFGSET s IDMP-DURATION 100 IDMP-MAXSIZE 7"]
        );
        let s = slot.as_ref().expect("s");
        assert_eq!((s.idmp.pids_tracked(), s.idmp.iids_tracked()), (0, 0));
        assert_eq!((s.idmp.iids_added, s.idmp.iids_duplicates), (1, 1));
        assert_eq!(s.idmp.settings().maxsize, 7);
        assert_eq!(s.len(), 1);
    }
}
