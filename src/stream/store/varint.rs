//! Variable-length integers of the node buffers: LEB128 for forward reading
//! and a reverse form (as listpack's back-length) for reading backwards.

/// Appends `v` as LEB128 (7 bits per byte, low bits first, high bit = more).
pub(crate) fn put(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

/// Bytes [`put`] writes for `v`.
pub(super) fn size(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

/// Reads a LEB128 value at `pos`; returns it and the position after it.
pub(crate) fn get(buf: &[u8], pos: usize) -> Option<(u64, usize)> {
    let mut v: u64 = 0;
    let mut shift = 0u32;
    let mut p = pos;
    loop {
        let b = *buf.get(p)?;
        p += 1;
        if shift >= 64 || (shift == 63 && b > 1) {
            return None;
        }
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some((v, p));
        }
        shift += 7;
    }
}

/// Reads a LEB128 length at `pos` and the bytes it announces; returns the
/// bytes and the position after them.
pub(super) fn get_bytes(buf: &[u8], pos: usize) -> Option<(&[u8], usize)> {
    let (len, p) = get(buf, pos)?;
    let end = p.checked_add(usize::try_from(len).ok()?)?;
    Some((buf.get(p..end)?, end))
}

/// Appends `v` so that it can be read backwards from its end: 7-bit groups,
/// most significant first; every byte but the first has the high bit set.
pub(super) fn put_back(buf: &mut Vec<u8>, v: u64) {
    let n = size(v);
    for i in (0..n).rev() {
        let group = ((v >> (7 * i as u32)) & 0x7f) as u8;
        buf.push(if i + 1 == n { group } else { group | 0x80 });
    }
}

/// Reads a value written by [`put_back`] that ends right before `end`;
/// returns it and the position where it starts.
pub(super) fn get_back(buf: &[u8], end: usize) -> Option<(u64, usize)> {
    let mut v: u64 = 0;
    let mut shift = 0u32;
    let mut p = end;
    loop {
        p = p.checked_sub(1)?;
        let b = *buf.get(p)?;
        if shift >= 64 || (shift == 63 && (b & 0x7f) > 1) {
            return None;
        }
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some((v, p));
        }
        shift += 7;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for v in [
            0u64,
            1,
            127,
            128,
            16383,
            16384,
            1 << 35,
            u64::MAX - 1,
            u64::MAX,
        ] {
            let mut b = vec![9u8];
            put(&mut b, v);
            assert_eq!(b.len(), 1 + size(v));
            assert_eq!(get(&b, 1), Some((v, b.len())));
            let mut r = vec![9u8];
            put_back(&mut r, v);
            assert_eq!(r.len(), 1 + size(v));
            assert_eq!(get_back(&r, r.len()), Some((v, 1)));
        }
    }

    #[test]
    fn truncated_input_is_none() {
        assert_eq!(get(&[0x80], 0), None);
        assert_eq!(get(&[], 0), None);
        assert_eq!(get_back(&[0x80], 1), None);
        assert_eq!(get_back(&[], 0), None);
        assert_eq!(get_bytes(&[5, 1, 2], 0), None);
        assert_eq!(get(&[0xff; 11], 0), None);
        assert_eq!(get_back(&[0xff; 11], 11), None);
    }
}
