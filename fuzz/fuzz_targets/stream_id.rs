//! The ID and integer parsers against references: `string2ll` against
//! Rust's `i64` parser (canonical forms only), `string2ull` against the C
//! library's `strtoull` as Redis calls it, and parse -> format -> parse
//! being the identity for every form `parse_id` and `parse_range_bound`
//! accept.
#![no_main]

use std::ffi::CString;

use libfuzzer_sys::fuzz_target;
use redis_idmp::stream::id::{
    parse_id, parse_range_bound, parse_strict_id, string2ll, string2ull, ParsedId,
};
use redis_idmp::stream::StreamId;

/// The bytes before the first NUL (what C code sees).
fn cstr(s: &[u8]) -> &[u8] {
    s.split(|&b| b == 0).next().unwrap_or_default()
}

/// `string2ll`: exactly the canonical decimal forms of an `i64`.
fn ref_string2ll(s: &[u8]) -> Option<i64> {
    let t = std::str::from_utf8(s).ok()?;
    t.parse::<i64>().ok().filter(|v| v.to_string() == t)
}

/// Redis `string2ull` (util.c) with the C library's `strtoull`.
fn ref_string2ull(s: &[u8]) -> Option<u64> {
    let s = cstr(s);
    if let Some(ll) = ref_string2ll(s) {
        return u64::try_from(ll).ok();
    }
    if s.is_empty() {
        return None;
    }
    let c = CString::new(s).ok()?;
    let mut end: *mut libc::c_char = std::ptr::null_mut();
    // SAFETY: `c` is a valid NUL-terminated string that outlives the call,
    // `end` a valid out-pointer; errno is this thread's.
    let (v, errno, consumed) = unsafe {
        *libc::__errno_location() = 0;
        let v = libc::strtoull(c.as_ptr(), &mut end, 10);
        let consumed = end.offset_from(c.as_ptr());
        (v, *libc::__errno_location(), consumed)
    };
    let whole = usize::try_from(consumed).is_ok_and(|n| n == s.len());
    (errno != libc::EINVAL && errno != libc::ERANGE && whole).then_some(v)
}

fn round_trip(p: ParsedId) {
    let text = p.id.to_bytes();
    assert_eq!(text, p.id.to_string().as_bytes());
    assert_eq!(parse_strict_id(&text), Some(p.id));
    assert_eq!(
        parse_id(&text, 7, false, true),
        Some(ParsedId {
            id: p.id,
            seq_given: true
        })
    );
}

fuzz_target!(|data: &[u8]| {
    assert_eq!(string2ll(data), ref_string2ll(data), "string2ll");
    assert_eq!(string2ull(data), ref_string2ull(data), "string2ull");

    let c = cstr(data);
    for (missing, strict, star) in [
        (0, false, false),
        (u64::MAX, false, false),
        (0, true, false),
        (0, false, true),
    ] {
        let Some(p) = parse_id(data, missing, strict, star) else {
            continue;
        };
        assert!(data.len() <= 127);
        assert!(!strict || (c != b"-" && c != b"+"));
        assert!(star || p.seq_given);
        if !c.contains(&b'-') && c != b"+" {
            // The `ms` form: the sequence is the one asked for.
            assert_eq!(p.id.seq, missing);
        }
        round_trip(p);
    }
    assert_eq!(
        parse_strict_id(data),
        parse_id(data, 0, true, false).map(|p| p.id)
    );

    for is_start in [true, false] {
        let missing = if is_start { 0 } else { u64::MAX };
        let got = parse_range_bound(data, is_start).ok();
        let want = match data.split_first() {
            Some((b'(', inner)) if !inner.is_empty() => parse_id(inner, missing, true, false)
                .and_then(|p| if is_start { p.id.incr() } else { p.id.decr() }),
            _ => parse_id(data, missing, false, false).map(|p| p.id),
        };
        assert_eq!(got, want, "range bound (start: {is_start})");
    }

    // An ID from the first 16 bytes: formatting, parsing, incr/decr.
    if let Some(raw) = data.get(..16) {
        let mut ms = [0u8; 8];
        let mut seq = [0u8; 8];
        ms.copy_from_slice(&raw[..8]);
        seq.copy_from_slice(&raw[8..]);
        let id = StreamId::new(u64::from_le_bytes(ms), u64::from_le_bytes(seq));
        round_trip(ParsedId {
            id,
            seq_given: true,
        });
        let ms_only = id.ms.to_string();
        assert_eq!(
            parse_id(ms_only.as_bytes(), id.seq, false, false).map(|p| p.id),
            Some(id)
        );
        assert_eq!(id.incr().and_then(StreamId::decr).or(Some(id)), Some(id));
        assert_eq!(id.decr().and_then(StreamId::incr).or(Some(id)), Some(id));
        assert_eq!(id.incr().is_none(), id == StreamId::MAX);
        assert_eq!(id.decr().is_none(), id == StreamId::MIN);
        let next = id.incr().map(|n| n > id);
        assert!(next.unwrap_or(true));
    }
});
