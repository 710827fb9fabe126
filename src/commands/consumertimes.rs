//! The internal `idmp.consumertimes key group consumer seen-time active-time`:
//! restores a consumer's times. An AOF rewrite emits it after the commands
//! that rebuild the consumer (whose replay stamps the loading time), so that
//! XINFO's seen-time and idle survive a rewrite. Only the AOF loader and the
//! master link may run it.

use super::reply::Reply;
use super::util::{check_arity, parse_ll, ERR_NO_SUCH_KEY};
use super::{CmdError, Effects, ExecCtx};
use crate::stream::stream::Stream;

/// Error for clients: the command is internal.
pub const ERR_INTERNAL: &str =
    "ERR idmp.consumertimes is internal: only the AOF loader and a master link may run it";

/// A parsed `idmp.consumertimes`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumerTimesRequest<'a> {
    /// The key.
    pub key: &'a [u8],
    /// The group.
    pub group: &'a [u8],
    /// The consumer.
    pub consumer: &'a [u8],
    /// `seen-time` in ms.
    pub seen: u64,
    /// `active-time` in ms, -1 when never active.
    pub active: i64,
}

impl<'a> ConsumerTimesRequest<'a> {
    /// Parses the command (trusted callers only).
    pub fn parse(argv: &[&'a [u8]], ctx: &ExecCtx, name: &str) -> Result<Self, CmdError> {
        check_arity(argv, 6, name)?;
        if !ctx.trusted {
            return Err(ERR_INTERNAL.into());
        }
        let arg = |i: usize| argv.get(i).copied().unwrap_or_default();
        Ok(ConsumerTimesRequest {
            key: arg(1),
            group: arg(2),
            consumer: arg(3),
            seen: parse_ll(arg(4))?.max(0) as u64,
            active: parse_ll(arg(5))?,
        })
    }

    /// Sets the times; an unknown group or consumer changes nothing.
    pub fn exec(&self, stream: Option<&mut Stream>, reply: &mut dyn Reply) -> Effects {
        let mut fx = Effects::default();
        let Some(s) = stream else {
            reply.error(ERR_NO_SUCH_KEY);
            return fx;
        };
        let c = s
            .groups
            .get_mut(self.group)
            .and_then(|g| g.consumer_mut(self.consumer));
        match c {
            Some(c) => {
                c.seen_time = self.seen;
                c.active_time = self.active;
                reply.simple("OK");
                fx.propagate([
                    b"idmp.consumertimes".to_vec(),
                    self.key.to_vec(),
                    self.group.to_vec(),
                    self.consumer.to_vec(),
                    self.seen.to_string().into_bytes(),
                    self.active.to_string().into_bytes(),
                ]);
            }
            None => reply.error("ERR no such consumer group or consumer"),
        }
        fx
    }
}
