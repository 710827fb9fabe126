//! Trimming with the Redis 8.2 reference policies (XADD and XTRIM), as
//! Redis 8.6's `streamTrim` does them:
//!
//! * KEEPREF (default): trim as ever (whole nodes, `~` stops at a node);
//!   pending entries stay in the PELs.
//! * DELREF: every entry the strategy reaches is removed from every group's
//!   PEL and trimmed; `~` is ignored (only LIMIT counts).
//! * ACKED: entries some group still references (pending, or not yet
//!   delivered) are skipped and the trim goes on past them, so the stream
//!   may keep gaps; `~` is ignored as for DELREF.
//!
//! A DELREF/ACKED trim is propagated as its exact effect,
//! `idmp.xtrim key TRIMIDS id ...` (trusted callers only), then DELREF's
//! `idmp.xack key group ids...`.

use super::trim_args::DeleteStrategy;
use super::Effects;
use crate::stream::stream::{Stream, TrimArgs};
use crate::stream::StreamId;

/// What a trim did, for its propagation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrimDone {
    /// A KEEPREF trim: the arguments that ran.
    Ran(TrimArgs),
    /// A DELREF/ACKED trim: the IDs removed (propagated as TRIMIDS).
    Ids(Vec<StreamId>),
}

/// Trims `s` under `policy`; returns the entries removed and what to
/// propagate, and queues the exact effect of a DELREF/ACKED trim (TRIMIDS,
/// then DELREF's acknowledgements) in `fx`.
pub fn trim_with_policy(
    s: &mut Stream,
    key: &[u8],
    trim: &TrimArgs,
    policy: Option<DeleteStrategy>,
    fx: &mut Effects<'_>,
) -> (u64, TrimDone) {
    let delref = match policy {
        None | Some(DeleteStrategy::KeepRef) => return (s.trim(trim), TrimDone::Ran(*trim)),
        Some(DeleteStrategy::DelRef) => true,
        Some(DeleteStrategy::Acked) => false,
    };
    let (ids, unref) = s.trim_referenced(trim, delref);
    if !ids.is_empty() {
        let mut argv = vec![b"idmp.xtrim".to_vec(), key.to_vec(), b"TRIMIDS".to_vec()];
        argv.extend(ids.iter().map(|id| id.to_bytes()));
        fx.push_owned(argv);
    }
    let mut groups: Vec<&Vec<u8>> = unref.iter().map(|(g, _)| g).collect();
    groups.sort();
    groups.dedup();
    for g in groups {
        let mut argv = vec![b"idmp.xack".to_vec(), key.to_vec(), g.clone()];
        argv.extend(
            unref
                .iter()
                .filter(|(n, _)| n == g)
                .map(|(_, id)| id.to_bytes()),
        );
        fx.push_owned(argv);
    }
    (ids.len() as u64, TrimDone::Ids(ids))
}
