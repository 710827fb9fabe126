//! XLEN, as Redis 7.0's `xlenCommand`.

use super::reply::Reply;
use super::util::check_arity;
use super::{CmdError, Effects};
use crate::stream::stream::Stream;

/// A parsed XLEN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XlenRequest<'a> {
    /// The key.
    pub key: &'a [u8],
}

impl<'a> XlenRequest<'a> {
    /// Parses `XLEN key`.
    pub fn parse(argv: &[&'a [u8]], name: &str) -> Result<Self, CmdError> {
        check_arity(argv, 2, name)?;
        Ok(XlenRequest {
            key: argv.get(1).copied().unwrap_or_default(),
        })
    }

    /// Replies with the number of live entries (0 for a missing key).
    pub fn exec(&self, stream: Option<&Stream>, reply: &mut dyn Reply) -> Effects<'_> {
        let len = stream.map_or(0, |s| s.len());
        reply.int(i64::try_from(len).unwrap_or(i64::MAX));
        Effects::default()
    }
}
