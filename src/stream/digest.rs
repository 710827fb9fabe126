//! The IDMPAUTO content digest (SPEC section 3).
//!
//! For each field/value pair: `SHA-256(len(field) u64 LE || field || len(value)
//! u64 LE || value)`; the per-pair digests are sorted; the iid is the first 16
//! bytes of `SHA-256(pair count u64 LE || sorted digests)`. Redis 8.6 uses
//! another hash, so iids differ from native ones; behaviour does not.

use sha2::{Digest, Sha256};

/// The 16-byte iid of an entry's `f, v, f, v, ...` arguments. A trailing odd
/// element (never passed by callers) is treated as a field with an empty value.
pub fn idmpauto_iid(fields: &[&[u8]]) -> [u8; 16] {
    let mut pairs: Vec<[u8; 32]> = fields
        .chunks(2)
        .map(|c| {
            let f = c.first().copied().unwrap_or_default();
            let v = c.get(1).copied().unwrap_or_default();
            let mut h = Sha256::new();
            h.update((f.len() as u64).to_le_bytes());
            h.update(f);
            h.update((v.len() as u64).to_le_bytes());
            h.update(v);
            h.finalize().into()
        })
        .collect();
    pairs.sort_unstable();
    let mut h = Sha256::new();
    h.update((pairs.len() as u64).to_le_bytes());
    for d in &pairs {
        h.update(d);
    }
    let full: [u8; 32] = h.finalize().into();
    let mut out = [0u8; 16];
    for (o, b) in out.iter_mut().zip(full.iter()) {
        *o = *b;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(d: [u8; 16]) -> String {
        d.iter().map(|b| format!("{b:02x}")).collect()
    }

    // Known answers computed independently with Python:
    //   import hashlib, struct
    //   def iid(pairs):
    //       ds = sorted(hashlib.sha256(struct.pack('<Q', len(f)) + f
    //                   + struct.pack('<Q', len(v)) + v).digest() for f, v in pairs)
    //       return hashlib.sha256(struct.pack('<Q', len(ds)) + b''.join(ds)).digest()[:16].hex()
    //   iid([(b"field", b"value"), (b"n", b"42")]) == "f123acf3a9ada6401541a95c89172a7a"
    //   iid([])                                    == "af5570f5a1810b7af78caf4bc70a660f"
    //   iid([(b"", b"")])                          == "82dd6180bf912561aa887e67b145e097"
    #[test]
    fn known_answers() {
        assert_eq!(
            hex(idmpauto_iid(&[b"field", b"value", b"n", b"42"])),
            "f123acf3a9ada6401541a95c89172a7a"
        );
        assert_eq!(
            hex(idmpauto_iid(&[b"n", b"42", b"field", b"value"])),
            "f123acf3a9ada6401541a95c89172a7a"
        );
        assert_eq!(hex(idmpauto_iid(&[])), "af5570f5a1810b7af78caf4bc70a660f");
        assert_eq!(
            hex(idmpauto_iid(&[b"", b""])),
            "82dd6180bf912561aa887e67b145e097"
        );
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
        // Multisets: {x, x, y} differs from {x, y, y}.
        assert_ne!(
            idmpauto_iid(&[b"x", b"1", b"x", b"1", b"y", b"2"]),
            idmpauto_iid(&[b"x", b"1", b"y", b"2", b"y", b"2"])
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
