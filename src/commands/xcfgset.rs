//! XCFGSET (SPEC section 4): per-stream IDMP settings.

use super::reply::Reply;
use super::util::{check_arity, is_kw, parse_ll, ERR_NO_SUCH_KEY, ERR_SYNTAX};
use super::{CmdError, Effects, ExecCtx};
use crate::stream::stream::Stream;

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
    ) -> Effects {
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
