//! One tracked iid: its stream ID, its insertion time and its bytes, in 40
//! bytes when the iid is at most [`INLINE`] bytes long (the common case of
//! 16-byte digests and UUIDs).

use crate::stream::id::StreamId;

/// Longest iid stored inside the record itself; longer ones go to the heap.
pub(super) const INLINE: usize = 18;

/// A tracked iid. `t` is the insertion time in milliseconds relative to the
/// owning state's epoch (see `IdmpState`), so that it fits in 32 bits.
///
/// The two variants carry the same leading fields so that the compiler packs
/// the tag, the length and the inline bytes into the padding of the header.
#[derive(Clone, Debug)]
pub(super) enum Rec {
    /// iid stored inline: `data[..len]`.
    Inline {
        ms: u64,
        seq: u64,
        t: u32,
        len: u8,
        data: [u8; INLINE],
    },
    /// iid longer than [`INLINE`] bytes.
    Heap {
        ms: u64,
        seq: u64,
        t: u32,
        data: Box<[u8]>,
    },
}

impl Rec {
    /// A record for `iid -> id` at relative time `t`.
    pub(super) fn new(iid: &[u8], id: StreamId, t: u32) -> Rec {
        if iid.len() <= INLINE {
            let mut data = [0u8; INLINE];
            for (d, s) in data.iter_mut().zip(iid) {
                *d = *s;
            }
            Rec::Inline {
                ms: id.ms,
                seq: id.seq,
                t,
                // iid.len() <= INLINE < 256
                len: iid.len() as u8,
                data,
            }
        } else {
            Rec::Heap {
                ms: id.ms,
                seq: id.seq,
                t,
                data: iid.into(),
            }
        }
    }

    /// The iid bytes.
    pub(super) fn iid(&self) -> &[u8] {
        match self {
            Rec::Inline { len, data, .. } => data.get(..usize::from(*len)).unwrap_or(&[]),
            Rec::Heap { data, .. } => data,
        }
    }

    /// The stream ID the iid maps to.
    pub(super) fn id(&self) -> StreamId {
        match self {
            Rec::Inline { ms, seq, .. } | Rec::Heap { ms, seq, .. } => StreamId::new(*ms, *seq),
        }
    }

    /// Replaces the stream ID.
    pub(super) fn set_id(&mut self, id: StreamId) {
        match self {
            Rec::Inline { ms, seq, .. } | Rec::Heap { ms, seq, .. } => {
                *ms = id.ms;
                *seq = id.seq;
            }
        }
    }

    /// Insertion time relative to the epoch.
    pub(super) fn t(&self) -> u32 {
        match self {
            Rec::Inline { t, .. } | Rec::Heap { t, .. } => *t,
        }
    }

    /// Replaces the relative insertion time (epoch rebase).
    pub(super) fn set_t(&mut self, v: u32) {
        match self {
            Rec::Inline { t, .. } | Rec::Heap { t, .. } => *t = v,
        }
    }

    /// Heap bytes owned beyond the record itself.
    pub(super) fn heap_bytes(&self) -> usize {
        match self {
            Rec::Inline { .. } => 0,
            Rec::Heap { data, .. } => data.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_is_forty_bytes() {
        assert_eq!(std::mem::size_of::<Rec>(), 40);
    }

    #[test]
    fn inline_and_heap_round_trip() {
        for len in [1usize, 16, INLINE, INLINE + 1, 70_000] {
            let iid: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let mut r = Rec::new(&iid, StreamId::new(7, 9), 42);
            assert_eq!(r.iid(), &iid[..]);
            assert_eq!(r.id(), StreamId::new(7, 9));
            assert_eq!(r.t(), 42);
            assert_eq!(r.heap_bytes(), if len > INLINE { len } else { 0 });
            r.set_id(StreamId::MAX);
            r.set_t(u32::MAX);
            assert_eq!(r.id(), StreamId::MAX);
            assert_eq!(r.t(), u32::MAX);
            assert_eq!(r.iid(), &iid[..]);
        }
    }
}
