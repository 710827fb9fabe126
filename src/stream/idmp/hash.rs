//! The keyed hash of pids and iids: foldhash (hashbrown's own default hash)
//! with secret random seeds, because pids and iids come from clients
//! (HashDoS).
//!
//! The seeds come from std's `RandomState`, whose keys the standard library
//! draws from the operating system's random source: one process-wide shared
//! seed, and a per-state seed drawn when the state is created. foldhash's own
//! default seeding (address-space layout and the clock) is not used. Hash
//! values live only in memory: nothing persisted depends on them.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::OnceLock;

use foldhash::fast::SeedableRandomState;
use foldhash::SharedSeed;

/// The process-wide half of the seed.
fn shared_seed() -> &'static SharedSeed {
    static SEED: OnceLock<SharedSeed> = OnceLock::new();
    SEED.get_or_init(|| SharedSeed::from_u64(random_u64()))
}

/// 64 random bits: std's `RandomState` is keyed from the OS random source
/// (per thread, then incremented per instance), so hashing a constant with a
/// fresh one gives a new unpredictable value each call.
fn random_u64() -> u64 {
    RandomState::new().hash_one(0x6964_6d70_u64)
}

/// A randomly seeded hasher of byte strings.
#[derive(Clone, Debug)]
pub(super) struct KeyedHasher {
    seed: u64,
    state: SeedableRandomState,
}

impl KeyedHasher {
    /// A hasher with a fresh random per-state seed.
    pub(super) fn new() -> KeyedHasher {
        let seed = random_u64();
        KeyedHasher {
            seed,
            state: SeedableRandomState::with_seed(seed, shared_seed()),
        }
    }

    /// The per-state seed: two hashers with the same seed hash alike (a
    /// clone), so a hash computed by one is valid in the other.
    pub(super) fn seed(&self) -> u64 {
        self.seed
    }

    /// The hash of `bytes`. One write of the whole string: foldhash mixes
    /// the length in, and no two strings are ever hashed together.
    #[inline]
    pub(super) fn hash(&self, bytes: &[u8]) -> u64 {
        let mut h = self.state.build_hasher();
        h.write(bytes);
        h.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_are_seeded_apart_and_clones_agree() {
        let a = KeyedHasher::new();
        let b = KeyedHasher::new();
        assert_ne!(a.seed(), b.seed());
        assert_ne!(a.hash(b"pid"), b.hash(b"pid"));
        let c = a.clone();
        assert_eq!(c.seed(), a.seed());
        assert_eq!(c.hash(b"pid"), a.hash(b"pid"));
        // Lengths are mixed in: a prefix and a zero-padded string differ.
        assert_ne!(a.hash(b"ab"), a.hash(b"ab\0"));
        assert_ne!(a.hash(b""), a.hash(b"\0"));
        let long: Vec<u8> = (0..100u8).collect();
        assert_ne!(a.hash(&long), a.hash(&long[..99]));
    }
}
