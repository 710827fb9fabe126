//! Trimming with the Redis 8.2 reference policies (XADD and XTRIM):
//!
//! * KEEPREF (default): trim as 7.0; pending entries stay in the PELs.
//! * DELREF: trim as 7.0, then remove the trimmed entries from every
//!   group's PEL (propagated as `idmp.xack key group ids...` after the trim).
//! * ACKED: trim only entries every group has read and acknowledged: the
//!   trim stops before the first live entry that is pending in some group
//!   or not yet delivered to one (`Groups::is_referenced`), so the stream
//!   stays contiguous; the trim actually run is what gets propagated.

use super::trim_args::DeleteStrategy;
use super::Effects;
use crate::stream::store::TrimStrategy;
use crate::stream::stream::{Stream, TrimArgs};
use crate::stream::StreamId;

/// The first live entry some group still references (ACKED's limit).
fn first_referenced(s: &Stream) -> Option<StreamId> {
    s.groups
        .iter()
        .filter_map(|(_, g)| {
            let pending = g
                .pel()
                .map(|(id, _)| id)
                .find(|id| s.store.get(*id).is_some());
            let undelivered = g
                .last_id
                .incr()
                .and_then(|from| s.store.range(from, StreamId::MAX).next())
                .map(|e| e.id());
            match (pending, undelivered) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
        })
        .min()
}

/// The trim ACKED allows: `trim` bounded so that the first referenced
/// entry and everything after it stay.
pub fn acked_bound(s: &Stream, trim: &TrimArgs) -> TrimArgs {
    let Some(r) = first_referenced(s) else {
        return *trim;
    };
    let strategy = match trim.strategy {
        TrimStrategy::MinId(t) => TrimStrategy::MinId(t.min(r)),
        TrimStrategy::MaxLen(n) => {
            let keep = s.store.range(r, StreamId::MAX).count() as u64;
            TrimStrategy::MaxLen(n.max(keep))
        }
    };
    TrimArgs { strategy, ..*trim }
}

/// Trims `s` under `policy`; returns the entries removed and the trim that
/// ran (to propagate), and queues DELREF's acknowledgements in `fx` (to be
/// propagated after the trim).
pub fn trim_with_policy(
    s: &mut Stream,
    key: &[u8],
    trim: &TrimArgs,
    policy: Option<DeleteStrategy>,
    fx: &mut Effects<'_>,
) -> (u64, TrimArgs) {
    let run = match policy {
        Some(DeleteStrategy::Acked) => acked_bound(s, trim),
        _ => *trim,
    };
    if policy != Some(DeleteStrategy::DelRef) || s.groups.is_empty() {
        return (s.trim(&run), run);
    }
    // Pending entries that are live now; those gone after the trim were trimmed.
    let live: Vec<(Vec<u8>, Vec<StreamId>)> = s
        .groups
        .iter()
        .map(|(name, g)| {
            let ids = g
                .pel()
                .map(|(id, _)| id)
                .filter(|id| s.store.get(*id).is_some())
                .collect();
            (name.to_vec(), ids)
        })
        .collect();
    let removed = s.trim(&run);
    for (name, ids) in live {
        let gone: Vec<StreamId> = ids
            .into_iter()
            .filter(|id| s.store.get(*id).is_none())
            .collect();
        if gone.is_empty() {
            continue;
        }
        if let Some(g) = s.groups.get_mut(&name) {
            for id in &gone {
                g.remove_nack(*id);
            }
        }
        let mut argv = vec![b"idmp.xack".to_vec(), key.to_vec(), name];
        argv.extend(gone.iter().map(|id| id.to_bytes()));
        fx.push_owned(argv);
    }
    (removed, run)
}
