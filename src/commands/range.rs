//! XRANGE and XREVRANGE, a port of Redis 7.0's `xrangeGenericCommand`.

use super::reply::Reply;
use super::util::{check_arity, is_kw, parse_ll, plain_decimal, ERR_SYNTAX};
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

    /// Whether [`RangeRequest::parse`] certainly accepts a call whose
    /// arguments after the key are `tail` (`start end [COUNT n]`): only the
    /// common forms, `-`, `+`, `<ms>` or `<ms>-<seq>` bounds (decimals of at
    /// most 19 digits without a leading zero) and at most one `COUNT n` (`n`
    /// such a decimal of at most 18 digits). False says nothing: the caller
    /// then parses. The command filter asks this of every XRANGE/XREVRANGE
    /// it may leave to the host, for about a fifth of what the parse costs.
    pub fn surely_parses(tail: &[&[u8]]) -> bool {
        fn bound(b: &[u8]) -> bool {
            match b.iter().position(|&c| c == b'-') {
                _ if b == b"-" || b == b"+" => true,
                Some(d) => plain_decimal(&b[..d], 19) && plain_decimal(&b[d + 1..], 19),
                None => plain_decimal(b, 19),
            }
        }
        match tail {
            [s, e] => bound(s) && bound(e),
            [s, e, kw, n] => {
                bound(s) && bound(e) && kw.eq_ignore_ascii_case(b"count") && plain_decimal(n, 18)
            }
            _ => false,
        }
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

#[cfg(test)]
mod tests {
    use super::RangeRequest;
    use proptest::prelude::*;

    /// Arguments near the fast forms: bounds, counts, and their near misses.
    fn arg() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            Just(b"-".to_vec()),
            Just(b"+".to_vec()),
            Just(b"COUNT".to_vec()),
            Just(b"count".to_vec()),
            Just(b"(5".to_vec()),
            "[0-9]{1,21}".prop_map(String::into_bytes),
            "[0-9]{1,21}-[0-9]{0,21}".prop_map(String::into_bytes),
            "-?[0-9]{0,3}[-+ a-z\\x00]?[0-9]{0,3}".prop_map(String::into_bytes),
            proptest::collection::vec(any::<u8>(), 0..6),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]
        #[test]
        fn surely_parses_only_what_parse_accepts(
            tail in proptest::collection::vec(arg(), 0..6),
            rev in any::<bool>(),
        ) {
            let tail: Vec<&[u8]> = tail.iter().map(Vec::as_slice).collect();
            if RangeRequest::surely_parses(&tail) {
                let mut argv: Vec<&[u8]> = vec![b"xrange", b"k"];
                argv.extend_from_slice(&tail);
                prop_assert!(RangeRequest::parse(&argv, rev, "xrange").is_ok(), "{:?}", tail);
            }
        }
    }

    #[test]
    fn surely_parses_the_common_forms() {
        let yes: [&[&[u8]]; 5] = [
            &[b"-", b"+"],
            &[b"-", b"+", b"COUNT", b"10"],
            &[b"+", b"-", b"count", b"0"],
            &[
                b"1700000000000-0",
                b"9999999999999999999-9999999999999999999",
            ],
            &[b"0", b"5", b"Count", b"999999999999999999"],
        ];
        for t in yes {
            assert!(RangeRequest::surely_parses(t), "{t:?}");
        }
        let no: [&[&[u8]]; 8] = [
            &[b"-"],
            &[b"(5", b"+"],
            &[b"05", b"+"],
            &[b"-", b"+", b"COUNT"],
            &[b"-", b"+", b"COUNT", b"-1"],
            &[b"-", b"+", b"COUNT", b"1", b"COUNT", b"2"],
            &[b"5-", b"+"],
            &[b"10000000000000000000", b"+"],
        ];
        for t in no {
            assert!(!RangeRequest::surely_parses(t), "{t:?}");
        }
    }
}
