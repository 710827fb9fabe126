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
