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

/// Error: no option given (8.6.3).
pub const ERR_NO_PARAM: &str = "ERR At least one parameter must be specified";
/// Error: IDMP-DURATION given twice (8.6.3).
pub const ERR_DURATION_TWICE: &str = "ERR IDMP-DURATION specified multiple times";
/// Error: IDMP-MAXSIZE given twice (8.6.3).
pub const ERR_MAXSIZE_TWICE: &str = "ERR IDMP-MAXSIZE specified multiple times";
/// Error: duration out of range.
pub const ERR_DURATION_RANGE: &str = "ERR IDMP-DURATION must be between 1 and 86400 seconds";
/// Error: maxsize out of range.
pub const ERR_MAXSIZE_RANGE: &str = "ERR IDMP-MAXSIZE must be between 1 and 10000 entries";

/// A parsed XCFGSET: only its arity is checked before the key, as 8.6.3
/// looks the key up first (missing key, WRONGTYPE) and then reads the
/// options (see [`XcfgsetRequest::settings`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XcfgsetRequest<'a> {
    /// The key.
    pub key: &'a [u8],
    /// The arguments after the key, unchecked.
    pub opts: Vec<&'a [u8]>,
}

impl<'a> XcfgsetRequest<'a> {
    /// Parses `XCFGSET key [IDMP-DURATION s] [IDMP-MAXSIZE n]` (arity only).
    pub fn parse(argv: &[&'a [u8]], name: &str) -> Result<Self, CmdError> {
        check_arity(argv, -2, name)?;
        Ok(XcfgsetRequest {
            key: argv.get(1).copied().unwrap_or_default(),
            opts: argv.get(2..).unwrap_or_default().to_vec(),
        })
    }

    /// The options read left to right as 8.6.3's `xcfgsetCommand` does (the
    /// first problem wins; an option without a value or an unknown token is
    /// a syntax error; a repeated option is an error), then "at least one".
    /// `DURATION` / `MAXSIZE` are accepted as aliases (an extension).
    pub fn settings(&self) -> Result<(Option<u32>, Option<u32>), CmdError> {
        let mut duration = None;
        let mut maxsize = None;
        let mut i = 0;
        while i < self.opts.len() {
            let opt = self.opts.get(i).copied().unwrap_or_default();
            let val = self.opts.get(i + 1).copied();
            match val {
                Some(val) if is_kw(opt, "idmp-duration") || is_kw(opt, "duration") => {
                    if duration.is_some() {
                        return Err(ERR_DURATION_TWICE.into());
                    }
                    let v = parse_ll(val)?;
                    if !(1..=86400).contains(&v) {
                        return Err(ERR_DURATION_RANGE.into());
                    }
                    duration = Some(v as u32);
                }
                Some(val) if is_kw(opt, "idmp-maxsize") || is_kw(opt, "maxsize") => {
                    if maxsize.is_some() {
                        return Err(ERR_MAXSIZE_TWICE.into());
                    }
                    let v = parse_ll(val)?;
                    if !(1..=10000).contains(&v) {
                        return Err(ERR_MAXSIZE_RANGE.into());
                    }
                    maxsize = Some(v as u32);
                }
                _ => return Err(ERR_SYNTAX.into()),
            }
            i += 2;
        }
        if duration.is_none() && maxsize.is_none() {
            return Err(ERR_NO_PARAM.into());
        }
        Ok((duration, maxsize))
    }

    /// Applies the settings (clearing producers if any value changes). As on
    /// 8.6.3, only a change is a write: it alone propagates.
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
        let (duration, maxsize) = match self.settings() {
            Ok(v) => v,
            Err(e) => {
                reply.error(&e);
                return fx;
            }
        };
        s.idmp.expire(ctx.now_ms);
        let changed = s.idmp.configure(duration, maxsize);
        let now = s.idmp.settings();
        reply.simple("OK");
        if changed {
            fx.propagate([
                b"XCFGSET".to_vec(),
                self.key.to_vec(),
                b"IDMP-DURATION".to_vec(),
                now.duration_secs.to_string().into_bytes(),
                b"IDMP-MAXSIZE".to_vec(),
                now.maxsize.to_string().into_bytes(),
            ]);
        }
        fx
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{ctx, perr, repl, run};
    use super::*;

    /// The option errors, read after the key (exec on an existing stream).
    fn oerr(line: &str) -> Option<String> {
        let c = ctx(1000);
        let mut slot = None;
        run(&mut slot, "XADD s 1-1 f v", &c);
        let (out, fx) = run(&mut slot, line, &c);
        if out == "+OK\r\n" {
            return None;
        }
        assert!(fx.replicate.is_empty(), "{line}");
        let s = slot.as_ref().expect("s");
        assert_eq!(
            (s.idmp.settings().duration_secs, s.idmp.settings().maxsize),
            (100, 100),
            "an error changes nothing: {line}"
        );
        Some(out.trim_start_matches('-').trim_end().to_string())
    }

    fn e(s: &str) -> Option<String> {
        Some(s.to_string())
    }

    /// The strings as native Redis 8.6.3 answers them (compared with the
    /// real server in tests/test_idmp_vs86.py).
    #[test]
    fn errors_as_redis_863() {
        assert_eq!(ERR_NO_PARAM, "ERR At least one parameter must be specified");
        assert_eq!(
            ERR_DURATION_TWICE,
            "ERR IDMP-DURATION specified multiple times"
        );
        assert_eq!(
            ERR_MAXSIZE_TWICE,
            "ERR IDMP-MAXSIZE specified multiple times"
        );
        assert_eq!(
            ERR_DURATION_RANGE,
            "ERR IDMP-DURATION must be between 1 and 86400 seconds"
        );
        assert_eq!(
            ERR_MAXSIZE_RANGE,
            "ERR IDMP-MAXSIZE must be between 1 and 10000 entries"
        );
    }

    #[test]
    fn spec_errors_exact() {
        assert_eq!(
            perr("XCFGSET"),
            e("ERR wrong number of arguments for 'xcfgset' command")
        );
        // Only the arity is checked before the key.
        assert_eq!(perr("XCFGSET s"), None);
        assert_eq!(perr("XCFGSET s FOO 1"), None);
        assert_eq!(oerr("XCFGSET s"), e(ERR_NO_PARAM));
        assert_eq!(oerr("XCFGSET s FOO 1"), e(ERR_SYNTAX));
        assert_eq!(oerr("XCFGSET s FOO"), e(ERR_SYNTAX));
        assert_eq!(oerr("XCFGSET s IDMP-DURATION"), e(ERR_SYNTAX));
        assert_eq!(
            oerr("XCFGSET s IDMP-DURATION 5 IDMP-MAXSIZE"),
            e(ERR_SYNTAX)
        );
        for v in ["A", "3.14", "120-5", "+", "000", "01", " 1", ""] {
            assert_eq!(
                oerr(&format!("XCFGSET s IDMP-DURATION {v}")),
                e("ERR value is not an integer or out of range"),
                "{v:?}"
            );
            assert_eq!(
                oerr(&format!("XCFGSET s IDMP-MAXSIZE {v}")),
                e("ERR value is not an integer or out of range"),
                "{v:?}"
            );
        }
        for v in ["0", "-1", "86401", "99999999999"] {
            assert_eq!(
                oerr(&format!("XCFGSET s IDMP-DURATION {v}")),
                e(ERR_DURATION_RANGE),
                "{v}"
            );
        }
        for v in ["0", "-5", "10001"] {
            assert_eq!(
                oerr(&format!("XCFGSET s IDMP-MAXSIZE {v}")),
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
            assert_eq!(oerr(ok), None, "{ok}");
        }
    }

    #[test]
    fn left_to_right_first_problem_wins() {
        assert_eq!(
            oerr("XCFGSET s IDMP-DURATION 0 IDMP-MAXSIZE x"),
            e(ERR_DURATION_RANGE)
        );
        assert_eq!(
            oerr("XCFGSET s IDMP-MAXSIZE x IDMP-DURATION 0"),
            e("ERR value is not an integer or out of range")
        );
        assert_eq!(oerr("XCFGSET s IDMP-MAXSIZE 0 FOO"), e(ERR_MAXSIZE_RANGE));
        assert_eq!(oerr("XCFGSET s FOO IDMP-MAXSIZE 0"), e(ERR_SYNTAX));
        // A repeat is refused when its keyword is reached with a value,
        // before that value is read.
        assert_eq!(
            oerr("XCFGSET s IDMP-DURATION 5 IDMP-DURATION 0"),
            e(ERR_DURATION_TWICE)
        );
        assert_eq!(
            oerr("XCFGSET s IDMP-DURATION 5 IDMP-DURATION 5"),
            e(ERR_DURATION_TWICE)
        );
        assert_eq!(
            oerr("XCFGSET s IDMP-MAXSIZE 5 IDMP-DURATION 5 maxsize x"),
            e(ERR_MAXSIZE_TWICE)
        );
        assert_eq!(
            oerr("XCFGSET s IDMP-DURATION 5 IDMP-DURATION"),
            e(ERR_SYNTAX)
        );
        assert_eq!(
            oerr("XCFGSET s IDMP-DURATION 0 IDMP-DURATION 5"),
            e(ERR_DURATION_RANGE)
        );
    }

    #[test]
    fn exec_semantics() {
        let c = ctx(1000);
        let mut slot = None;
        // The key first: a missing key wins over any option error.
        for line in ["XCFGSET s IDMP-DURATION 5", "XCFGSET s", "XCFGSET s FOO"] {
            let (out, fx) = run(&mut slot, line, &c);
            assert_eq!(out, "-ERR no such key\r\n");
            assert!(fx.replicate.is_empty() && slot.is_none());
        }

        run(&mut slot, "XADD s IDMP p a * f v", &c);
        run(&mut slot, "XADD s IDMP p a * f v", &c);
        // Same values: nothing cleared, nothing propagated, no event.
        let (out, fx) = run(&mut slot, "XCFGSET s IDMP-DURATION 100 MAXSIZE 100", &c);
        assert_eq!(out, "+OK\r\n");
        assert!(fx.events.is_empty());
        assert!(fx.replicate.is_empty());
        assert_eq!(slot.as_ref().expect("s").idmp.iids_tracked(), 1);
        // A change clears producers but keeps counters, and propagates the
        // full settings.
        let (out, fx) = run(&mut slot, "XCFGSET s IDMP-MAXSIZE 7", &c);
        assert_eq!(out, "+OK\r\n");
        assert!(fx.events.is_empty());
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
