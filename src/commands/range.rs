//! XRANGE and XREVRANGE, a port of Redis 7.0's `xrangeGenericCommand`.

use super::reply::Reply;
use super::util::{check_arity, is_kw, parse_ll, ERR_SYNTAX};
use super::{CmdError, Effects};
use crate::stream::id::parse_range_bound;
use crate::stream::store::Entry;
use crate::stream::stream::Stream;
use crate::stream::StreamId;

/// A parsed XRANGE / XREVRANGE.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RangeRequest<'a> {
    /// The key.
    pub key: &'a [u8],
    /// Smallest ID of the interval (inclusive, exclusion already applied).
    pub start: StreamId,
    /// Largest ID of the interval (inclusive).
    pub end: StreamId,
    /// COUNT: `None` when not given, `Some(0)` for a zero or negative count.
    pub count: Option<u64>,
    /// XREVRANGE.
    pub rev: bool,
}

impl<'a> RangeRequest<'a> {
    /// Parses `XRANGE key start end [COUNT n]` (`XREVRANGE key end start ...`).
    pub fn parse(argv: &[&'a [u8]], rev: bool, name: &str) -> Result<Self, CmdError> {
        check_arity(argv, -4, name)?;
        let a2 = argv.get(2).copied().unwrap_or_default();
        let a3 = argv.get(3).copied().unwrap_or_default();
        let (startarg, endarg) = if rev { (a3, a2) } else { (a2, a3) };
        let start = parse_range_bound(startarg, true).map_err(|e| e.message().to_string())?;
        let end = parse_range_bound(endarg, false).map_err(|e| e.message().to_string())?;
        let mut count = None;
        let mut j = 4;
        while j < argv.len() {
            let additional = argv.len() - j - 1;
            let opt = argv.get(j).copied().unwrap_or_default();
            if is_kw(opt, "COUNT") && additional >= 1 {
                let c = parse_ll(argv.get(j + 1).copied().unwrap_or_default())?;
                count = Some(c.max(0) as u64);
                j += 1;
            } else {
                return Err(ERR_SYNTAX.into());
            }
            j += 1;
        }
        Ok(RangeRequest {
            key: argv.get(1).copied().unwrap_or_default(),
            start,
            end,
            count,
            rev,
        })
    }

    /// Replies with the entries; a missing key is an empty array, COUNT 0 a
    /// null array.
    pub fn exec(&self, stream: Option<&Stream>, reply: &mut dyn Reply) -> Effects<'_> {
        let Some(s) = stream else {
            reply.array(0);
            return Effects::default();
        };
        let limit = match self.count {
            Some(0) => {
                reply.null_array();
                return Effects::default();
            }
            Some(n) => usize::try_from(n).unwrap_or(usize::MAX),
            None => usize::MAX,
        };
        let entries: Vec<Entry<'_>> = if self.rev {
            s.store
                .rev_range(self.start, self.end)
                .take(limit)
                .collect()
        } else {
            s.store.range(self.start, self.end).take(limit).collect()
        };
        reply_entries(reply, &entries);
        Effects::default()
    }
}

/// One entry as `[id, [f, v, ...]]`.
pub fn reply_entry(reply: &mut dyn Reply, e: &Entry<'_>) {
    reply.array(2);
    reply.stream_id(e.id());
    reply.array(e.field_count() * 2);
    for (f, v) in e.fields() {
        reply.bulk(f);
        reply.bulk(v);
    }
}

/// An array of entries, each as [`reply_entry`].
pub fn reply_entries(reply: &mut dyn Reply, entries: &[Entry<'_>]) {
    reply.array(entries.len());
    for e in entries {
        reply_entry(reply, e);
    }
}
