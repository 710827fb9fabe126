//! The IDMPAUTO content digest (SPEC section 3), as native Redis 8.6.3
//! derives it (`createIdempotencyHash` in its `t_stream.c`), so that an
//! IDMPAUTO retry is recognised across a move to native 8.6 and the iids
//! written to RDB/AOF are the ones 8.6.3 would write.
//!
//! 8.6.3: for each field/value pair, `h = XXH3-128(field || len(field) as
//! 8-byte little-endian || value)` (seed 0, default secret); over all pairs
//! `sum_lo += h.lo`, `sum_hi += h.hi`, `xor_lo ^= h.lo`, `xor_hi ^= h.hi`
//! (wrapping); the iid is the 16 bytes of `lo = sum_lo ^ rotl(xor_hi, 1)`,
//! `hi = sum_hi ^ rotl(xor_lo, 1)`, each little-endian, `lo` first (the
//! in-memory `XXH128_hash_t` on x86-64 and aarch64).
//!
//! The combination does not let pairs cancel: the wrapping sums count every
//! pair, so a repeated pair changes the sum where the XOR forgets it. What
//! can collide in 8.6.3 by construction is one pair's hash input: the value's
//! length is not hashed, so `field || len(field) || value` can be read at
//! another split. `("a", "\x09\0\0\0\0\0\0\0" + "x")` and
//! `("a\x01\0\0\0\0\0\0\0", "x")` both hash `a 01 00*7 09 00*7 x`. For
//! exactly such ambiguous pairs (some other offset `k` of the input holds
//! `k` as 8-byte little-endian) the module appends `len(value)` as 8-byte
//! little-endian to the input: that input has a single reading, and it
//! cannot equal the 8.6.3 input of an unambiguous pair (it would contain the
//! same two readings). Every content without an ambiguous pair, which is all
//! content a client does not craft for it, gets 8.6.3's iid.

use xxhash_rust::xxh3::{xxh3_128, Xxh3Default};

/// Pair inputs up to this size are hashed one-shot from a stack buffer
/// (XXH3's short-input paths); longer ones stream. Both give the same digest.
const SHORT_INPUT: usize = 256;

/// The 16-byte iid of an entry's `f, v, f, v, ...` arguments. A trailing odd
/// element (never passed by callers) is treated as a field with an empty value.
pub fn idmpauto_iid(fields: &[&[u8]]) -> [u8; 16] {
    let (mut sum_lo, mut sum_hi, mut xor_lo, mut xor_hi) = (0u64, 0u64, 0u64, 0u64);
    let mut long: Option<Box<Xxh3Default>> = None;
    for c in fields.chunks(2) {
        let f = c.first().copied().unwrap_or_default();
        let v = c.get(1).copied().unwrap_or_default();
        let flen = (f.len() as u64).to_le_bytes();
        let vlen = (v.len() as u64).to_le_bytes();
        let tail: &[u8] = if pair_input_ambiguous(f, v) {
            &vlen
        } else {
            &[]
        };
        let total = f.len() + 8 + v.len() + tail.len();
        let d = if total <= SHORT_INPUT {
            // f || le64(len f) || v || tail, copied in place.
            let mut buf = [0u8; SHORT_INPUT];
            let mut at = put(&mut buf, 0, f);
            at = put(&mut buf, at, &flen);
            at = put(&mut buf, at, v);
            if !tail.is_empty() {
                put(&mut buf, at, tail);
            }
            xxh3_128(buf.get(..total).unwrap_or_default())
        } else {
            let h = long.get_or_insert_with(|| Box::new(Xxh3Default::new()));
            h.reset();
            for p in [f, &flen[..], v, tail] {
                h.update(p);
            }
            h.digest128()
        };
        let (lo, hi) = (d as u64, (d >> 64) as u64);
        sum_lo = sum_lo.wrapping_add(lo);
        sum_hi = sum_hi.wrapping_add(hi);
        xor_lo ^= lo;
        xor_hi ^= hi;
    }
    let lo = sum_lo ^ xor_hi.rotate_left(1);
    let hi = sum_hi ^ xor_lo.rotate_left(1);
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&lo.to_le_bytes());
    out[8..].copy_from_slice(&hi.to_le_bytes());
    out
}

/// Copies `p` into `buf` at `at` (when it fits); returns the end.
fn put(buf: &mut [u8], at: usize, p: &[u8]) -> usize {
    let end = at + p.len();
    if let Some(dst) = buf.get_mut(at..end) {
        dst.copy_from_slice(p);
    }
    end
}

/// True when 8.6.3's pair input `f || le64(len f) || v` can also be read as
/// `f' || le64(len f') || v'` with `len f' != len f`: some offset `k` other
/// than `len f` holds `le64(k)`.
///
/// First the usual case, decided without looking for windows: an input of
/// at most 256 bytes whose field and value hold no zero byte. There every
/// `k <= len - 8` is below 256, so `le64(k)` is `k` and seven zero bytes;
/// the input's only zero bytes are the length's seven high ones (its low
/// one too when the field is empty), so seven zeros in a row start right
/// after offset `len f` (or at 0 = `len f`): only `k = len f` can hold
/// `le64(k)`.
fn pair_input_ambiguous(f: &[u8], v: &[u8]) -> bool {
    let fl = f.len();
    if fl + 8 + v.len() <= 256 && !has_zero(f) && !has_zero(v) {
        return false;
    }
    // Offsets whose 8 bytes lie inside the field, then inside the value.
    if windows_hold_offset(f, 0) || windows_hold_offset(v, fl + 8) {
        return true;
    }
    // Offsets overlapping the length bytes: the field's last 7 bytes, the
    // length and the value's first 7 bytes, at offset `base` of the input.
    let head = fl.min(7);
    let base = fl - head;
    let mut mid = [0u8; 22];
    let parts = [
        f.get(base..).unwrap_or_default(),
        &(fl as u64).to_le_bytes()[..],
        v.get(..v.len().min(7)).unwrap_or_default(),
    ];
    let n = parts.iter().fold(0, |at, p| put(&mut mid, at, p));
    mid.get(..n)
        .unwrap_or_default()
        .windows(8)
        .enumerate()
        .any(|(i, w)| i != head && le64(w) == Some((base + i) as u64))
}

/// True when some `region[j..j + 8]` holds `offset + j` as 8-byte
/// little-endian. Such an offset is below 2^56 (it is a position in the
/// input), so its last byte is 0: only windows ending at a zero byte are
/// compared, found with `memchr`; a short region (the usual field name or
/// value) is scanned directly, cheaper than `memchr`'s set-up.
fn windows_hold_offset(region: &[u8], offset: usize) -> bool {
    let holds = |z: usize| {
        z >= 7 && le64(region.get(z - 7..=z).unwrap_or_default()) == Some((offset + z - 7) as u64)
    };
    if region.len() <= SHORT_REGION {
        return (7..region.len()).any(|z| region.get(z) == Some(&0) && holds(z));
    }
    memchr::memchr_iter(0, region).any(holds)
}

/// Regions up to this long are scanned for zero bytes without `memchr`.
const SHORT_REGION: usize = 32;

/// Whether `b` holds a zero byte (eight bytes at a time: a word `x` has one
/// exactly when `(x - 0x01..01) & !x & 0x80..80` is not zero).
fn has_zero(b: &[u8]) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let mut words = b.chunks_exact(8);
    let found = words.any(|w| le64(w).is_some_and(|x| x.wrapping_sub(LO) & !x & HI != 0));
    found || words.remainder().contains(&0)
}

fn le64(w: &[u8]) -> Option<u64> {
    <[u8; 8]>::try_from(w).ok().map(u64::from_le_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(d: [u8; 16]) -> String {
        d.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Reference: 8.6.3's definition written out from `t_stream.c`, over an
    /// explicit input buffer (no ambiguity handling).
    fn native(fields: &[&[u8]]) -> [u8; 16] {
        let (mut sl, mut sh, mut xl, mut xh) = (0u64, 0u64, 0u64, 0u64);
        for c in fields.chunks(2) {
            let mut input = c[0].to_vec();
            input.extend_from_slice(&(c[0].len() as i64).to_le_bytes());
            input.extend_from_slice(c[1]);
            let d = xxhash_rust::xxh3::xxh3_128(&input);
            sl = sl.wrapping_add(d as u64);
            sh = sh.wrapping_add((d >> 64) as u64);
            xl ^= d as u64;
            xh ^= (d >> 64) as u64;
        }
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&(sl ^ xh.rotate_left(1)).to_le_bytes());
        out[8..].copy_from_slice(&(sh ^ xl.rotate_left(1)).to_le_bytes());
        out
    }

    /// Brute force: every split of the input.
    fn ambiguous_slow(f: &[u8], v: &[u8]) -> bool {
        let mut b = f.to_vec();
        b.extend_from_slice(&(f.len() as u64).to_le_bytes());
        b.extend_from_slice(v);
        (0..=b.len() - 8).any(|k| k != f.len() && b[k..k + 8] == (k as u64).to_le_bytes())
    }

    // Known answers read back from native Redis 8.6.3 (XADD IDMPAUTO, then
    // XADD IDMP with this iid answered as a duplicate; the same check runs
    // against the real server in tests/test_idmpauto.py).
    #[test]
    fn known_answers_of_redis_863() {
        assert_eq!(
            hex(idmpauto_iid(&[b"field", b"value", b"n", b"42"])),
            hex(native(&[b"field", b"value", b"n", b"42"]))
        );
        assert_eq!(hex(idmpauto_iid(&[b"f", b"v"])), KNOWN_F_V);
    }

    /// `XADD s IDMPAUTO p * f v` on native 8.6.3 records this iid: a later
    /// `XADD s IDMP p <these 16 bytes> * x y` answers the first entry's ID.
    const KNOWN_F_V: &str = "6e95729ee727f0814aedffba55730079";

    #[test]
    fn same_as_native_unless_ambiguous() {
        let cases: &[&[&[u8]]] = &[
            &[b"f", b"v"],
            &[b"", b""],
            &[b"a", b"bc", b"ab", b"c"],
            &[b"x", &[0u8; 100]],
            &[&[7u8; 300], b"y", b"z", b""],
            &[&[b'k'; 100], &[b'v'; 140]],
            &[&[b'k'; 100], &[b'v'; 148]],
            &[&[b'k'; 100], &[b'v'; 149]],
            &[b"", &[b'v'; 248]],
            &[b"", &[b'v'; 249]],
            &[&[b'q'; 70_000], b"x"],
        ];
        for c in cases {
            assert_eq!(idmpauto_iid(c), native(c), "{c:?}");
        }
    }

    /// A small deterministic generator (xorshift64) seeded with `seed`.
    fn xorshift(mut seed: u64) -> impl FnMut() -> u64 {
        move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        }
    }

    #[test]
    fn ambiguity_detection_matches_brute_force() {
        let mut next = xorshift(0x1234_5678_9abc_def0);
        for _ in 0..20_000 {
            let fl = (next() % 24) as usize;
            let vl = (next() % 24) as usize;
            // Mostly small bytes so that lengths show up often.
            let mut gen = |n: usize| -> Vec<u8> {
                (0..n)
                    .map(|_| {
                        let r = next();
                        if r.is_multiple_of(3) {
                            (r >> 8) as u8 % 24
                        } else {
                            0
                        }
                    })
                    .collect()
            };
            let f = gen(fl);
            let v = gen(vl);
            assert_eq!(
                pair_input_ambiguous(&f, &v),
                ambiguous_slow(&f, &v),
                "{f:?} {v:?}"
            );
        }
    }

    #[test]
    fn ambiguity_without_zero_bytes_matches_brute_force() {
        // The fast answer (no zero byte in an input of at most 256 bytes)
        // against every split, with small non-zero bytes that look like
        // lengths, at every size around the 256-byte bound.
        let mut next = xorshift(0x0bad_5eed_1234_5678);
        for _ in 0..4_000 {
            let fl = (next() % 260) as usize;
            let vl = (next() % 260) as usize;
            let f: Vec<u8> = (0..fl).map(|_| 1 + (next() % 16) as u8).collect();
            let mut v: Vec<u8> = (0..vl).map(|_| 1 + (next() % 16) as u8).collect();
            assert_eq!(pair_input_ambiguous(&f, &v), ambiguous_slow(&f, &v));
            // One zero byte anywhere takes the full check.
            if vl > 0 {
                let at = (next() as usize) % vl;
                v[at] = 0;
                assert_eq!(
                    pair_input_ambiguous(&f, &v),
                    ambiguous_slow(&f, &v),
                    "{f:?} {v:?}"
                );
            }
        }
        // Inputs of 256 and 257 bytes without zero bytes.
        for (fl, vl) in [
            (0, 248),
            (0, 249),
            (1, 247),
            (1, 248),
            (200, 48),
            (248, 0),
            (249, 0),
        ] {
            let (f, v) = (vec![b'k'; fl], vec![b'v'; vl]);
            assert_eq!(pair_input_ambiguous(&f, &v), ambiguous_slow(&f, &v));
        }
    }

    #[test]
    fn has_zero_finds_every_position() {
        for n in 0..40usize {
            let mut b = vec![0x80u8; n];
            assert!(!has_zero(&b), "{n}");
            for at in 0..n {
                b[at] = 0;
                assert!(has_zero(&b), "{n} {at}");
                b[at] = 1;
                assert!(!has_zero(&b), "{n} {at}");
                b[at] = 0x80;
            }
        }
        assert!(!has_zero(&[
            0xff, 0x01, 0x7f, 0x80, 0x81, 0xfe, 0x10, 0x20, 0x01
        ]));
    }

    #[test]
    fn ambiguity_around_the_short_region_scan() {
        // Regions up to SHORT_REGION bytes are scanned directly, longer ones
        // with memchr: plant each offset at every place around that length.
        for fl in [0usize, 1, 7, 8, 30, 33] {
            for vl in 24..=48usize {
                for at in 0..vl.saturating_sub(7) {
                    let f = vec![b'f'; fl];
                    let mut v = vec![0u8; vl];
                    let k = (fl + 8 + at) as u64;
                    v[at..at + 8].copy_from_slice(&k.to_le_bytes());
                    assert!(pair_input_ambiguous(&f, &v), "{fl} {vl} {at}");
                    assert!(ambiguous_slow(&f, &v));
                    v[at] ^= 0x80;
                    assert_eq!(pair_input_ambiguous(&f, &v), ambiguous_slow(&f, &v));
                }
            }
        }
        for fl in 24..=48usize {
            for at in 0..fl - 7 {
                let mut f = vec![0u8; fl];
                f[at..at + 8].copy_from_slice(&(at as u64).to_le_bytes());
                assert_eq!(pair_input_ambiguous(&f, b"v"), ambiguous_slow(&f, b"v"));
                assert!(ambiguous_slow(&f, b"v"), "{fl} {at}");
            }
        }
    }

    #[test]
    fn ambiguity_far_into_long_values() {
        for k in [10usize, 11, 200, 255, 256, 257, 1000, 65_536, 70_000] {
            // f = "ab" (input offset of v: 10); le64(k) planted at offset k.
            let mut v = vec![b'x'; k + 20];
            v[k - 10..k - 2].copy_from_slice(&(k as u64).to_le_bytes());
            assert!(pair_input_ambiguous(b"ab", &v), "{k}");
            assert!(ambiguous_slow(b"ab", &v), "{k}");
            // one byte off: not ambiguous
            v[k - 10] ^= 1;
            assert_eq!(
                pair_input_ambiguous(b"ab", &v),
                ambiguous_slow(b"ab", &v),
                "{k}"
            );
            // the other reading collides natively, not here
            v[k - 10] ^= 1;
            let f2 = [&b"ab"[..], &2u64.to_le_bytes(), &v[..k - 10]].concat();
            let v2 = &v[k - 2..];
            let a: &[&[u8]] = &[b"ab", &v];
            let b: &[&[u8]] = &[&f2, v2];
            assert_eq!(native(a), native(b), "{k}");
            assert_ne!(idmpauto_iid(a), idmpauto_iid(b), "{k}");
        }
    }

    #[test]
    fn ambiguous_pairs_collide_natively_but_not_here() {
        // Field "a" + value le64(9) ++ "x"  vs  field "a" ++ le64(1) + value "x".
        let mut v1 = 9u64.to_le_bytes().to_vec();
        v1.push(b'x');
        let mut f2 = b"a".to_vec();
        f2.extend_from_slice(&1u64.to_le_bytes());
        let a: &[&[u8]] = &[b"a", &v1];
        let b: &[&[u8]] = &[&f2, b"x"];
        assert_eq!(native(a), native(b));
        assert_ne!(idmpauto_iid(a), idmpauto_iid(b));
        assert!(pair_input_ambiguous(b"a", &v1) && pair_input_ambiguous(&f2, b"x"));
        // Overlapping the length bytes: field of 249 bytes vs one of 256.
        let f3 = vec![b'q'; 249];
        let mut v3 = vec![0u8; 0];
        v3.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, b'z']);
        let mut f4 = f3.clone();
        f4.extend_from_slice(&249u64.to_le_bytes()[..7]);
        let c: &[&[u8]] = &[&f3, &v3];
        let d: &[&[u8]] = &[&f4, b"z"];
        assert_eq!(native(c), native(d));
        assert_ne!(idmpauto_iid(c), idmpauto_iid(d));
    }

    #[test]
    fn pair_order_does_not_matter() {
        let a = idmpauto_iid(&[b"a", b"1", b"b", b"2", b"c", b"3"]);
        let b = idmpauto_iid(&[b"c", b"3", b"a", b"1", b"b", b"2"]);
        let c = idmpauto_iid(&[b"b", b"2", b"c", b"3", b"a", b"1"]);
        assert_eq!(a, b);
        assert_eq!(a, c);
    }

    #[test]
    fn field_value_boundary_matters() {
        assert_ne!(idmpauto_iid(&[b"a", b"bc"]), idmpauto_iid(&[b"ab", b"c"]));
        assert_ne!(idmpauto_iid(&[b"", b"ab"]), idmpauto_iid(&[b"ab", b""]));
        assert_ne!(idmpauto_iid(&[b"a", b"b"]), idmpauto_iid(&[b"b", b"a"]));
        // A pair is not the same as two pairs whose bytes concatenate alike.
        assert_ne!(
            idmpauto_iid(&[b"a", b"b", b"c", b"d"]),
            idmpauto_iid(&[b"ab", b"cd"])
        );
    }

    #[test]
    fn repeated_pairs_do_not_cancel() {
        let none = idmpauto_iid(&[]);
        let one = idmpauto_iid(&[b"f", b"v"]);
        let two = idmpauto_iid(&[b"f", b"v", b"f", b"v"]);
        let three = idmpauto_iid(&[b"f", b"v", b"f", b"v", b"f", b"v"]);
        assert_ne!(two, none);
        assert_ne!(two, one);
        assert_ne!(three, one);
        assert_ne!(three, two);
        // Multisets: {x, x, y} differs from {x, y, y}; {x, y, x, y} from {}.
        assert_ne!(
            idmpauto_iid(&[b"x", b"1", b"x", b"1", b"y", b"2"]),
            idmpauto_iid(&[b"x", b"1", b"y", b"2", b"y", b"2"])
        );
        assert_ne!(
            idmpauto_iid(&[b"x", b"1", b"y", b"2", b"x", b"1", b"y", b"2"]),
            none
        );
    }

    #[test]
    fn bytes_are_compared_exactly() {
        // Numeric-looking values are not normalised.
        assert_ne!(idmpauto_iid(&[b"n", b"1"]), idmpauto_iid(&[b"n", b"01"]));
        assert_ne!(idmpauto_iid(&[b"n", b"1"]), idmpauto_iid(&[b"n", b"1.0"]));
        assert_ne!(idmpauto_iid(&[b"n", b"10"]), idmpauto_iid(&[b"n", b"1e1"]));
        // Case, NUL bytes and empty strings matter.
        assert_ne!(idmpauto_iid(&[b"F", b"v"]), idmpauto_iid(&[b"f", b"v"]));
        assert_ne!(idmpauto_iid(&[b"f", b"v\0"]), idmpauto_iid(&[b"f", b"v"]));
        assert_ne!(idmpauto_iid(&[b"", b""]), idmpauto_iid(&[]));
        assert_ne!(idmpauto_iid(&[b"\0", b""]), idmpauto_iid(&[b"", b"\0"]));
        let bin: Vec<u8> = (0..=255u8).collect();
        let mut bin2 = bin.clone();
        bin2[128] ^= 0x80;
        assert_ne!(idmpauto_iid(&[b"f", &bin]), idmpauto_iid(&[b"f", &bin2]));
        assert_eq!(
            idmpauto_iid(&[b"f", &bin]),
            idmpauto_iid(&[b"f", &bin.clone()])
        );
    }

    #[test]
    fn odd_trailing_field_does_not_panic() {
        assert_eq!(idmpauto_iid(&[b"f"]), idmpauto_iid(&[b"f", b""]));
    }
}
