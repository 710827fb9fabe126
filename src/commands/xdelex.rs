//! XDELEX and XACKDEL (Redis 8.2) on module streams.
//!
//! ```text
//! XDELEX  key       [KEEPREF | DELREF | ACKED] IDS numids id [id ...]
//! XACKDEL key group [KEEPREF | DELREF | ACKED] IDS numids id [id ...]
//! ```
//!
//! Reply: one integer per ID: -1 no such entry in the stream, 1 deleted, 2
//! kept because ACKED found it still referenced (pending in a group, or not
//! yet delivered to one). KEEPREF (default) leaves pending entries in the
//! PELs, DELREF removes them from every group. XACKDEL first acknowledges
//! each ID in the group. The error texts follow Redis 8.2 as documented;
//! no 8.2 server was at hand to check them byte for byte.
//!
//! Propagation: the exact effects with commands every module version has:
//! `idmp.xack` for acknowledgements and removed references, then `idmp.xdel`.

use super::reply::Reply;
use super::util::{check_arity, is_kw, ERR_SYNTAX};
use super::{CmdError, Effects};
use crate::stream::id::{parse_strict_id, string2ll, ERR_INVALID_ID};
use crate::stream::stream::Stream;
use crate::stream::StreamId;

/// What happens to references of deleted entries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RefPolicy {
    /// KEEPREF: PEL entries stay.
    #[default]
    KeepRef,
    /// DELREF: PEL entries are removed from every group.
    DelRef,
    /// ACKED: only entries no group references are deleted.
    Acked,
}

/// A parsed XDELEX (`group` is `None`) or XACKDEL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XdelexRequest<'a> {
    /// The key.
    pub key: &'a [u8],
    /// XACKDEL's group.
    pub group: Option<&'a [u8]>,
    /// The reference policy.
    pub policy: RefPolicy,
    /// The IDs as given: Redis 8.6 validates them only once the key (and
    /// XACKDEL's group) exist, so a missing key answers -1s even for bad IDs.
    pub ids: Vec<&'a [u8]>,
}

impl<'a> XdelexRequest<'a> {
    /// Parses XDELEX (`ack` false) or XACKDEL as Redis 8.6's
    /// `streamParseAckDelArgsOrReply`: options may follow the IDs, a second
    /// policy is a syntax error, `numids` may not exceed the arguments left
    /// (fewer leaves the rest to be parsed as options).
    pub fn parse(argv: &[&'a [u8]], ack: bool, name: &str) -> Result<Self, CmdError> {
        check_arity(argv, if ack { -6 } else { -5 }, name)?;
        let arg = |i: usize| argv.get(i).copied().unwrap_or_default();
        let mut i = if ack { 3 } else { 2 };
        let mut policy = None;
        let mut ids = None;
        while i < argv.len() {
            let o = arg(i);
            let p = if is_kw(o, "KEEPREF") {
                Some(RefPolicy::KeepRef)
            } else if is_kw(o, "DELREF") {
                Some(RefPolicy::DelRef)
            } else if is_kw(o, "ACKED") {
                Some(RefPolicy::Acked)
            } else {
                None
            };
            if let (Some(p), None) = (p, policy) {
                policy = Some(p);
                i += 1;
            } else if is_kw(o, "IDS") && i + 1 < argv.len() {
                let n = string2ll(arg(i + 1))
                    .filter(|n| *n > 0)
                    .ok_or("ERR Number of IDs must be a positive integer")?;
                let left = (argv.len() - i - 2) as u64;
                let n = u64::try_from(n).unwrap_or(u64::MAX);
                if n > left {
                    return Err(
                        "ERR The `numids` parameter must match the number of arguments".into(),
                    );
                }
                let start = i + 2;
                let end = start + n as usize;
                ids = Some(argv.get(start..end).unwrap_or_default().to_vec());
                i = end;
            } else {
                return Err(ERR_SYNTAX.into());
            }
        }
        let Some(ids) = ids else {
            return Err("ERR IDS option is required".into());
        };
        Ok(XdelexRequest {
            key: arg(1),
            group: ack.then(|| arg(2)),
            policy: policy.unwrap_or_default(),
            ids,
        })
    }

    /// Acknowledges (XACKDEL) and deletes. As Redis 8.6: a missing key (or
    /// XACKDEL's missing group) answers -1 for every ID; XACKDEL acts only on
    /// IDs pending in the group (-1 for the others) and answers 1 for an
    /// acknowledged ID deleted (or already gone), 2 when ACKED keeps it;
    /// XDELEX's ACKED answers 2 for any referenced ID, present or not.
    pub fn exec(&self, stream: Option<&mut Stream>, reply: &mut dyn Reply) -> Effects<'_> {
        let mut fx = Effects::default();
        let s = match (stream, self.group) {
            (Some(s), Some(g)) if s.groups.get(g).is_some() => Some(s),
            (Some(s), None) => Some(s),
            _ => None,
        };
        let Some(s) = s else {
            reply.array(self.ids.len());
            for _ in &self.ids {
                reply.int(-1);
            }
            return fx;
        };
        let mut ids = Vec::with_capacity(self.ids.len());
        for a in &self.ids {
            match parse_strict_id(a) {
                Some(id) => ids.push(id),
                None => {
                    reply.error(ERR_INVALID_ID);
                    return fx;
                }
            }
        }
        let mut acked: Vec<StreamId> = Vec::new();
        let mut unref: Vec<(Vec<u8>, StreamId)> = Vec::new();
        let mut deleted: Vec<StreamId> = Vec::new();
        let mut results: Vec<i64> = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(g) = self.group {
                if !s.groups.get_mut(g).is_some_and(|cg| cg.ack(id)) {
                    results.push(-1);
                    continue;
                }
                acked.push(id);
            }
            match self.policy {
                RefPolicy::Acked if s.groups.is_referenced(id) => {
                    results.push(2);
                    continue;
                }
                RefPolicy::DelRef => {
                    for g in s.groups.remove_refs(id) {
                        unref.push((g, id));
                    }
                }
                _ => {}
            }
            if s.delete(id) {
                deleted.push(id);
                results.push(1);
            } else {
                results.push(if self.group.is_some() { 1 } else { -1 });
            }
        }
        if let (Some(g), false) = (self.group, acked.is_empty()) {
            let mut argv = vec![b"idmp.xack".to_vec(), self.key.to_vec(), g.to_vec()];
            argv.extend(acked.iter().map(|id| id.to_bytes()));
            fx.push_owned(argv);
        }
        let mut groups: Vec<&Vec<u8>> = unref.iter().map(|(g, _)| g).collect();
        groups.dedup();
        groups.sort();
        groups.dedup();
        for g in groups {
            let mut argv = vec![b"idmp.xack".to_vec(), self.key.to_vec(), g.clone()];
            argv.extend(
                unref
                    .iter()
                    .filter(|(n, _)| n == g)
                    .map(|(_, id)| id.to_bytes()),
            );
            fx.push_owned(argv);
        }
        if !deleted.is_empty() {
            s.refresh_first_id();
            fx.events.push("xdel");
            let mut argv = vec![b"idmp.xdel".to_vec(), self.key.to_vec()];
            argv.extend(deleted.iter().map(|id| id.to_bytes()));
            fx.push_owned(argv);
        }
        reply.array(results.len());
        for r in results {
            reply.int(r);
        }
        fx
    }
}
