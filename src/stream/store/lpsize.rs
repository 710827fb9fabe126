//! Sizes a native listpack (listpack.c, Redis 7.0) would use for the same
//! elements, so that node boundaries follow `streamAppendItem` exactly.

use crate::stream::id::string2ll;

/// `lpNew`: 6-byte header plus the end byte.
pub(super) const LP_EMPTY: u64 = 7;

/// `lpEncodeBacklen(NULL, l)`: bytes of the back-length of an element whose
/// encoding and data take `l` bytes.
#[inline]
fn backlen_size(l: u64) -> u64 {
    if l <= 127 {
        1
    } else if l < 16383 {
        2
    } else if l < 2_097_151 {
        3
    } else if l < 268_435_455 {
        4
    } else {
        5
    }
}

/// `lpEncodeIntegerGetType`: encoding bytes of an integer.
#[inline]
fn int_enc(v: i64) -> u64 {
    if (0..=127).contains(&v) {
        1
    } else if (-4096..=4095).contains(&v) {
        2
    } else if (-32768..=32767).contains(&v) {
        3
    } else if (-8_388_608..=8_388_607).contains(&v) {
        4
    } else if (-2_147_483_648..=2_147_483_647).contains(&v) {
        5
    } else {
        9
    }
}

/// Total bytes of an integer element (`lpAppendInteger`).
#[inline]
pub(super) fn int_elem(v: i64) -> u64 {
    let e = int_enc(v);
    e + backlen_size(e)
}

/// Total bytes of a string element (`lpAppend`): strings that
/// `lpStringToInt64` accepts are stored as integers.
#[inline]
pub(super) fn str_elem(s: &[u8]) -> u64 {
    // Only a string starting with a digit or '-' can be an integer.
    let int = match s.first() {
        Some(b'-' | b'0'..=b'9') => string2ll(s),
        _ => None,
    };
    let e = match int {
        Some(v) => int_enc(v),
        None => {
            let n = s.len() as u64;
            if n < 64 {
                1 + n
            } else if n < 4096 {
                2 + n
            } else {
                5 + n
            }
        }
    };
    e + backlen_size(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers() {
        assert_eq!(int_elem(0), 2);
        assert_eq!(int_elem(127), 2);
        assert_eq!(int_elem(128), 3);
        assert_eq!(int_elem(-1), 3);
        assert_eq!(int_elem(4095), 3);
        assert_eq!(int_elem(4096), 4);
        assert_eq!(int_elem(-32768), 4);
        assert_eq!(int_elem(32768), 5);
        assert_eq!(int_elem(8_388_608), 6);
        assert_eq!(int_elem(2_147_483_648), 10);
        assert_eq!(int_elem(i64::MIN), 10);
    }

    #[test]
    fn strings() {
        assert_eq!(str_elem(b""), 2);
        assert_eq!(str_elem(b"v"), 3);
        assert_eq!(str_elem(b"12"), 2);
        assert_eq!(str_elem(b"012"), 5);
        assert_eq!(str_elem(b"-0"), 4);
        assert_eq!(str_elem(b"9223372036854775807"), 10);
        assert_eq!(str_elem(b"9223372036854775808"), 21);
        assert_eq!(str_elem(&[b'x'; 63]), 65);
        assert_eq!(str_elem(&[b'x'; 64]), 67);
        assert_eq!(str_elem(&[b'x'; 125]), 128);
        assert_eq!(str_elem(&[b'x'; 126]), 130);
        assert_eq!(str_elem(&[b'x'; 127]), 131);
        assert_eq!(str_elem(&[b'x'; 1000]), 1004);
        assert_eq!(str_elem(&[b'x'; 4096]), 4103);
    }
}
