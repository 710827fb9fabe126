//! XACK, a port of Redis 7.0's `xackCommand`: a missing key or group
//! acknowledges nothing (0); every ID is parsed before anything changes.

use super::reply::Reply;
use super::util::check_arity;
use super::{CmdError, Effects};
use crate::stream::id::{parse_strict_id, ERR_INVALID_ID};
use crate::stream::stream::Stream;
use crate::stream::StreamId;

/// A parsed XACK (IDs are parsed at exec time, after the key and group).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XackRequest<'a> {
    /// The key.
    pub key: &'a [u8],
    /// The group.
    pub group: &'a [u8],
    /// The ID arguments.
    pub ids: Vec<&'a [u8]>,
}

impl<'a> XackRequest<'a> {
    /// Parses `XACK key group id [id ...]` (arity only).
    pub fn parse(argv: &[&'a [u8]], name: &str) -> Result<Self, CmdError> {
        check_arity(argv, -4, name)?;
        Ok(XackRequest {
            key: argv.get(1).copied().unwrap_or_default(),
            group: argv.get(2).copied().unwrap_or_default(),
            ids: argv.get(3..).unwrap_or_default().to_vec(),
        })
    }

    /// Acknowledges; replies with how many IDs were pending. Propagates
    /// `idmp.xack key group <acknowledged IDs>`.
    pub fn exec(&self, stream: Option<&mut Stream>, reply: &mut dyn Reply) -> Effects<'_> {
        let mut fx = Effects::default();
        let Some(g) = stream.and_then(|s| s.groups.get_mut(self.group)) else {
            reply.int(0);
            return fx;
        };
        let mut ids: Vec<StreamId> = Vec::with_capacity(self.ids.len());
        for a in &self.ids {
            match parse_strict_id(a) {
                Some(id) => ids.push(id),
                None => {
                    reply.error(ERR_INVALID_ID);
                    return fx;
                }
            }
        }
        let acked: Vec<StreamId> = ids.into_iter().filter(|id| g.ack(*id)).collect();
        if !acked.is_empty() {
            let mut argv = vec![
                b"idmp.xack".to_vec(),
                self.key.to_vec(),
                self.group.to_vec(),
            ];
            argv.extend(acked.iter().map(|id| id.to_bytes()));
            fx.push_owned(argv);
        }
        reply.int(i64::try_from(acked.len()).unwrap_or(i64::MAX));
        fx
    }
}
