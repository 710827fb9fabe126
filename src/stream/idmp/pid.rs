//! A producer's pid bytes, stored inside the producer when short (the common
//! case: host names, service and worker names, counters), so that finding a
//! producer does not follow a pointer to compare its pid.

/// Longest pid stored inline; longer ones go to the heap.
pub(super) const INLINE: usize = 22;

/// A pid: `data[..len]` inline, or a heap copy when longer than [`INLINE`]
/// bytes. 24 bytes either way.
#[derive(Clone, Debug)]
pub(super) enum Pid {
    /// pid stored inline: `data[..len]`.
    Inline { len: u8, data: [u8; INLINE] },
    /// pid longer than [`INLINE`] bytes.
    Heap(Box<[u8]>),
}

impl Pid {
    /// A copy of `pid`.
    pub(super) fn new(pid: &[u8]) -> Pid {
        if pid.len() <= INLINE {
            let mut data = [0u8; INLINE];
            for (d, s) in data.iter_mut().zip(pid) {
                *d = *s;
            }
            Pid::Inline {
                // pid.len() <= INLINE < 256
                len: pid.len() as u8,
                data,
            }
        } else {
            Pid::Heap(pid.into())
        }
    }

    /// The pid bytes.
    #[inline]
    pub(super) fn bytes(&self) -> &[u8] {
        match self {
            Pid::Inline { len, data } => data.get(..usize::from(*len)).unwrap_or(&[]),
            Pid::Heap(data) => data,
        }
    }

    /// Heap bytes owned beyond the value itself.
    pub(super) fn heap_bytes(&self) -> usize {
        match self {
            Pid::Inline { .. } => 0,
            Pid::Heap(data) => data.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_is_twenty_four_bytes() {
        assert_eq!(std::mem::size_of::<Pid>(), 24);
    }

    #[test]
    fn inline_and_heap_round_trip() {
        for len in [0usize, 1, 9, INLINE, INLINE + 1, 70_000] {
            let pid: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let p = Pid::new(&pid);
            assert_eq!(p.bytes(), &pid[..]);
            assert_eq!(p.heap_bytes(), if len > INLINE { len } else { 0 });
            assert_eq!(p.clone().bytes(), &pid[..]);
        }
    }
}
