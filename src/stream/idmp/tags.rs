//! The index of a small producer: one byte of each iid's hash, in ring
//! order, kept inside the producer. Finding an iid scans these bytes eight at
//! a time and compares the iid bytes of the (rare) matches only, so a
//! lookup touches no allocation besides the ring, and dropping the oldest
//! iid needs no hashing.

/// Most iids a [`Tags`] index covers.
pub(super) const CAP: usize = 32;

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// `tags[k]` is the tag ([`tag_of`]) of the iid at ring position `k`, for
/// `k` below the ring's length; bytes beyond it mean nothing.
#[derive(Clone, Debug, Default)]
pub(super) struct Tags([u8; CAP]);

/// The tag of an iid whose hash is `hash`: its top byte (hashbrown uses the
/// top 7 bits for its own control bytes the same way).
#[inline]
fn tag_of(hash: u64) -> u8 {
    (hash >> 56) as u8
}

impl Tags {
    /// Sets the tag of ring position `k` (`k < CAP`) to that of `hash`.
    #[inline]
    pub(super) fn set(&mut self, k: usize, hash: u64) {
        if let Some(t) = self.0.get_mut(k) {
            *t = tag_of(hash);
        }
    }

    /// Drops the tag of position 0 and moves the others down one position
    /// (the ring popped its oldest record).
    #[inline]
    pub(super) fn pop_front(&mut self) {
        self.0.copy_within(1..CAP, 0);
    }

    /// The first position `k < len` whose tag is that of `hash` and for which
    /// `eq(k)` holds (`eq` compares the iid itself).
    #[inline]
    pub(super) fn find(
        &self,
        len: usize,
        hash: u64,
        mut eq: impl FnMut(usize) -> bool,
    ) -> Option<usize> {
        let want = LO.wrapping_mul(u64::from(tag_of(hash)));
        for (w, chunk) in self.0.chunks_exact(8).enumerate() {
            let base = w * 8;
            if base >= len {
                break;
            }
            let Ok(bytes) = <[u8; 8]>::try_from(chunk) else {
                break;
            };
            let x = u64::from_le_bytes(bytes) ^ want;
            // The high bit of every byte of x that is zero (exact: no carry
            // crosses a byte, since (b & 0x7f) + 0x7f <= 0xfe).
            let mut zeros = !(((x & !HI).wrapping_add(!HI)) | x) & HI;
            while zeros != 0 {
                let k = base + (zeros.trailing_zeros() / 8) as usize;
                if k >= len {
                    break;
                }
                if eq(k) {
                    return Some(k);
                }
                zeros &= zeros - 1;
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_match_below_len_in_order() {
        let mut t = Tags::default();
        // Tags of hashes 0..CAP: position k holds tag k % 3.
        let hash = |v: u64| v << 56;
        for k in 0..CAP {
            t.set(k, hash((k % 3) as u64));
        }
        for len in 0..=CAP {
            for v in 0..4u64 {
                let mut seen = Vec::new();
                assert_eq!(
                    t.find(len, hash(v), |k| {
                        seen.push(k);
                        false
                    }),
                    None
                );
                let want: Vec<usize> = (0..len).filter(|k| (k % 3) as u64 == v).collect();
                assert_eq!(seen, want, "len {len} tag {v}");
                if let Some(&last) = want.last() {
                    assert_eq!(t.find(len, hash(v), |k| k == last), Some(last));
                }
            }
        }
        // Tag bytes 0x80 and 0x7f and 0xff are told apart exactly.
        let mut t = Tags::default();
        for (k, v) in [0x80u64, 0x7f, 0xff, 0x00, 0x01].into_iter().enumerate() {
            t.set(k, hash(v));
        }
        for (k, v) in [0x80u64, 0x7f, 0xff, 0x00, 0x01].into_iter().enumerate() {
            assert_eq!(t.find(5, hash(v), |_| true), Some(k));
        }
    }

    #[test]
    fn pop_front_shifts_down() {
        let mut t = Tags::default();
        for k in 0..CAP {
            t.set(k, (k as u64 + 1) << 56);
        }
        t.pop_front();
        for k in 0..CAP - 1 {
            assert_eq!(t.find(CAP - 1, (k as u64 + 2) << 56, |_| true), Some(k));
        }
    }
}
