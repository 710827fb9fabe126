//! Stream IDs and their textual forms, parsed exactly as Redis 7.0 parses them
//! (`streamGenericParseIDOrReply` and `string2ull` in the server's sources).

use std::fmt;

/// A stream entry ID: milliseconds and a sequence number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId {
    /// Millisecond part.
    pub ms: u64,
    /// Sequence part.
    pub seq: u64,
}

impl StreamId {
    /// `0-0`, the smallest ID.
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    /// `18446744073709551615-18446744073709551615`, the largest ID.
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    /// Builds an ID from its two parts.
    pub const fn new(ms: u64, seq: u64) -> Self {
        StreamId { ms, seq }
    }

    /// The next ID, or `None` when this is [`StreamId::MAX`].
    pub fn incr(self) -> Option<StreamId> {
        if self.seq == u64::MAX {
            if self.ms == u64::MAX {
                None
            } else {
                Some(StreamId::new(self.ms + 1, 0))
            }
        } else {
            Some(StreamId::new(self.ms, self.seq + 1))
        }
    }

    /// The previous ID, or `None` when this is [`StreamId::MIN`].
    pub fn decr(self) -> Option<StreamId> {
        if self.seq == 0 {
            if self.ms == 0 {
                None
            } else {
                Some(StreamId::new(self.ms - 1, u64::MAX))
            }
        } else {
            Some(StreamId::new(self.ms, self.seq - 1))
        }
    }

    /// Writes `ms-seq` into `buf` (at least 41 bytes) and returns the used slice.
    pub fn format_into(self, buf: &mut [u8; 41]) -> &[u8] {
        let mut pos = 0;
        pos += write_u64(&mut buf[pos..], self.ms);
        buf[pos] = b'-';
        pos += 1;
        pos += write_u64(&mut buf[pos..], self.seq);
        &buf[..pos]
    }

    /// The `ms-seq` form as an owned byte vector.
    pub fn to_bytes(self) -> Vec<u8> {
        let mut buf = [0u8; 41];
        self.format_into(&mut buf).to_vec()
    }

    /// Big-endian 16-byte encoding; its byte order is the ID order.
    pub fn to_be_bytes(self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&self.ms.to_be_bytes());
        out[8..].copy_from_slice(&self.seq.to_be_bytes());
        out
    }
}

fn write_u64(buf: &mut [u8], mut v: u64) -> usize {
    // Two digits per division (IDs are 13 + 1 digits on every XADD reply).
    const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    while v >= 100 {
        let d = (v % 100) as usize * 2;
        v /= 100;
        i -= 2;
        tmp[i] = PAIRS[d];
        tmp[i + 1] = PAIRS[d + 1];
    }
    if v >= 10 {
        let d = v as usize * 2;
        i -= 2;
        tmp[i] = PAIRS[d];
        tmp[i + 1] = PAIRS[d + 1];
    } else {
        i -= 1;
        tmp[i] = b'0' + v as u8;
    }
    let n = tmp.len() - i;
    buf[..n].copy_from_slice(&tmp[i..]);
    n
}

/// `v` in decimal, written into `buf` (the digits [`StreamId`] uses).
pub fn format_u64(v: u64, buf: &mut [u8; 20]) -> &[u8] {
    let n = write_u64(buf, v);
    &buf[..n]
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// Redis `string2ll`: a strict signed 64-bit integer (no spaces, no `+`, no
/// leading zeros, at most 20 characters).
pub fn string2ll(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() >= 21 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !(b'1'..=b'9').contains(&digits[0]) {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    if neg {
        if v > (i64::MAX as u64) + 1 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else if v > i64::MAX as u64 {
        None
    } else {
        Some(v as i64)
    }
}

/// C `strtoull(s, &end, 10)` accepting the whole string: leading white space,
/// an optional sign (a minus negates modulo 2^64, as C does), at least one digit.
fn strtoull_whole(s: &[u8]) -> Option<u64> {
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        neg = s[i] == b'-';
        i += 1;
    }
    let start = i;
    let mut v: u64 = 0;
    let mut overflow = false;
    while i < s.len() && s[i].is_ascii_digit() {
        match v
            .checked_mul(10)
            .and_then(|x| x.checked_add(u64::from(s[i] - b'0')))
        {
            Some(x) => v = x,
            None => overflow = true,
        }
        i += 1;
    }
    if i == start || i != s.len() || overflow {
        return None;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

/// Redis `string2ull`: what stream IDs accept for each part.
pub fn string2ull(s: &[u8]) -> Option<u64> {
    // The server works on C strings: anything after a NUL byte is invisible.
    let s = match s.iter().position(|&c| c == 0) {
        Some(p) => &s[..p],
        None => s,
    };
    if let Some(ll) = string2ll(s) {
        return if ll < 0 { None } else { Some(ll as u64) };
    }
    strtoull_whole(s)
}

/// An ID as parsed from an argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParsedId {
    /// The ID (for `ms-*`, the sequence is 0 and `seq_given` is false).
    pub id: StreamId,
    /// False only for the `ms-*` form.
    pub seq_given: bool,
}

/// Parses a stream ID argument like `streamGenericParseIDOrReply`.
///
/// * `missing_seq`: the sequence used for the `ms` form (0 for a start, `u64::MAX` for an end).
/// * `strict`: `-` and `+` are rejected.
/// * `allow_seq_star`: the `ms-*` form is accepted (XADD only).
///
/// Returns `None` for an invalid ID; the caller answers [`ERR_INVALID_ID`].
pub fn parse_id(
    arg: &[u8],
    missing_seq: u64,
    strict: bool,
    allow_seq_star: bool,
) -> Option<ParsedId> {
    if arg.len() > 127 {
        return None;
    }
    // C-string view of the argument.
    let s = match arg.iter().position(|&c| c == 0) {
        Some(p) => &arg[..p],
        None => arg,
    };
    if strict && (s == b"-" || s == b"+") {
        return None;
    }
    if s == b"-" {
        return Some(ParsedId {
            id: StreamId::MIN,
            seq_given: true,
        });
    }
    if s == b"+" {
        return Some(ParsedId {
            id: StreamId::MAX,
            seq_given: true,
        });
    }
    match s.iter().position(|&c| c == b'-') {
        Some(dash) => {
            let ms = string2ull(&s[..dash])?;
            let rest = &s[dash + 1..];
            if allow_seq_star && rest == b"*" {
                Some(ParsedId {
                    id: StreamId::new(ms, 0),
                    seq_given: false,
                })
            } else {
                Some(ParsedId {
                    id: StreamId::new(ms, string2ull(rest)?),
                    seq_given: true,
                })
            }
        }
        None => Some(ParsedId {
            id: StreamId::new(string2ull(s)?, missing_seq),
            seq_given: true,
        }),
    }
}

/// Parses a strict ID (no `-`/`+`), as XDEL, XSETID and XIDMPRECORD do.
pub fn parse_strict_id(arg: &[u8]) -> Option<StreamId> {
    parse_id(arg, 0, true, false).map(|p| p.id)
}

/// Error answered for an ID that does not parse.
pub const ERR_INVALID_ID: &str = "ERR Invalid stream ID specified as stream command argument";

/// A range bound error, as XRANGE reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RangeBoundError {
    /// The ID does not parse.
    Invalid,
    /// An exclusive start at the largest ID.
    InvalidStart,
    /// An exclusive end at the smallest ID.
    InvalidEnd,
}

impl RangeBoundError {
    /// The exact error reply.
    pub fn message(self) -> &'static str {
        match self {
            RangeBoundError::Invalid => ERR_INVALID_ID,
            RangeBoundError::InvalidStart => "ERR invalid start ID for the interval",
            RangeBoundError::InvalidEnd => "ERR invalid end ID for the interval",
        }
    }
}

/// Parses an XRANGE/XREVRANGE bound: `-`, `+`, `ms`, `ms-seq`, or `(` before a
/// strict ID for an exclusive bound. `is_start` picks the missing sequence
/// (0 for a start, max for an end) and the direction of exclusion.
pub fn parse_range_bound(arg: &[u8], is_start: bool) -> Result<StreamId, RangeBoundError> {
    let missing_seq = if is_start { 0 } else { u64::MAX };
    if arg.len() > 1 && arg[0] == b'(' {
        let id = parse_id(&arg[1..], missing_seq, true, false)
            .ok_or(RangeBoundError::Invalid)?
            .id;
        if is_start {
            id.incr().ok_or(RangeBoundError::InvalidStart)
        } else {
            id.decr().ok_or(RangeBoundError::InvalidEnd)
        }
    } else {
        parse_id(arg, missing_seq, false, false)
            .map(|p| p.id)
            .ok_or(RangeBoundError::Invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_u64_is_decimal() {
        for v in [0u64, 7, 10, 99, 100, 1_700_000_000_123, u64::MAX] {
            let mut buf = [0u8; 20];
            assert_eq!(format_u64(v, &mut buf), v.to_string().as_bytes());
        }
    }

    fn id(s: &str) -> Option<StreamId> {
        parse_id(s.as_bytes(), 0, false, false).map(|p| p.id)
    }

    #[test]
    fn parses_plain_forms() {
        assert_eq!(id("5"), Some(StreamId::new(5, 0)));
        assert_eq!(id("5-7"), Some(StreamId::new(5, 7)));
        assert_eq!(id("-"), Some(StreamId::MIN));
        assert_eq!(id("+"), Some(StreamId::MAX));
        assert_eq!(
            id("18446744073709551615-18446744073709551615"),
            Some(StreamId::MAX)
        );
        assert_eq!(
            parse_id(b"5", u64::MAX, false, false).map(|p| p.id),
            Some(StreamId::new(5, u64::MAX))
        );
    }

    #[test]
    fn rejects_junk() {
        for s in [
            "",
            "a",
            "1-",
            "-1",
            "1-a",
            "1-2-3",
            "0x10",
            "18446744073709551616",
            "1.5",
            "*",
        ] {
            assert_eq!(id(s), None, "{s:?}");
        }
        assert_eq!(parse_id(&[b'1'; 128], 0, false, false), None);
    }

    #[test]
    fn follows_strtoull_leniency() {
        // string2ull falls back to strtoull: leading zeros, '+', spaces.
        assert_eq!(id("007"), Some(StreamId::new(7, 0)));
        assert_eq!(id("+7"), Some(StreamId::new(7, 0)));
        assert_eq!(id(" 7"), Some(StreamId::new(7, 0)));
        assert_eq!(id("7 "), None);
        assert_eq!(id("-0-1"), None); // "-0" splits at the first dash
    }

    #[test]
    fn seq_star_only_when_allowed() {
        assert_eq!(id("5-*"), None);
        assert_eq!(
            parse_id(b"5-*", 0, true, true),
            Some(ParsedId {
                id: StreamId::new(5, 0),
                seq_given: false
            })
        );
    }

    #[test]
    fn strict_rejects_special() {
        assert_eq!(parse_strict_id(b"-"), None);
        assert_eq!(parse_strict_id(b"+"), None);
        assert_eq!(parse_strict_id(b"3-4"), Some(StreamId::new(3, 4)));
    }

    #[test]
    fn range_bounds() {
        assert_eq!(parse_range_bound(b"(5-5", true), Ok(StreamId::new(5, 6)));
        assert_eq!(parse_range_bound(b"(5-5", false), Ok(StreamId::new(5, 4)));
        assert_eq!(
            parse_range_bound(b"(5", false),
            Ok(StreamId::new(5, u64::MAX - 1))
        );
        assert_eq!(
            parse_range_bound(b"(-", true),
            Err(RangeBoundError::Invalid)
        );
        assert_eq!(
            parse_range_bound(b"(18446744073709551615-18446744073709551615", true),
            Err(RangeBoundError::InvalidStart)
        );
        assert_eq!(
            parse_range_bound(b"(0-0", false),
            Err(RangeBoundError::InvalidEnd)
        );
        assert_eq!(parse_range_bound(b"(", true), Err(RangeBoundError::Invalid));
    }

    #[test]
    fn formats() {
        let mut b = [0u8; 41];
        assert_eq!(
            StreamId::MAX.format_into(&mut b),
            b"18446744073709551615-18446744073709551615"
        );
        assert_eq!(StreamId::new(0, 0).to_bytes(), b"0-0");
        assert_eq!(StreamId::new(12, 3).to_string(), "12-3");
        // every digit count, both sides of each power of ten
        let mut p = 1u64;
        for _ in 0..20 {
            for v in [p - 1, p, p + 1, p.wrapping_mul(7) / 3, 1_796_437_276_108] {
                let mut out = [0u8; 20];
                let n = write_u64(&mut out, v);
                assert_eq!(&out[..n], v.to_string().as_bytes(), "{v}");
            }
            p = p.saturating_mul(10);
        }
    }

    #[test]
    fn incr_decr() {
        assert_eq!(StreamId::new(1, u64::MAX).incr(), Some(StreamId::new(2, 0)));
        assert_eq!(StreamId::MAX.incr(), None);
        assert_eq!(StreamId::new(2, 0).decr(), Some(StreamId::new(1, u64::MAX)));
        assert_eq!(StreamId::MIN.decr(), None);
    }
}
