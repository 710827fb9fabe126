//! Process-wide counters reported in `INFO idmp`. Values may be freed on a
//! background thread (lazy free), so everything is atomic. The counters
//! only commands change (the main thread) are bumped with [`bump`], without
//! a locked instruction; those a freed value changes keep atomic
//! read-modify-writes.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use crate::stream::Stream;

/// Native streams converted into module streams.
pub static CONVERTED: AtomicU64 = AtomicU64::new(0);
/// Commands forwarded unchanged to native streams (main thread: [`bump`]).
pub static FORWARDED: AtomicU64 = AtomicU64::new(0);
/// Module streams held by the server (all databases).
static STREAMS: AtomicI64 = AtomicI64::new(0);
/// iids held by module streams (expired ones until their stream's next
/// command reclaims them).
static IIDS: AtomicI64 = AtomicI64::new(0);
/// Duplicates answered with the original entry's ID.
static DUPLICATES: AtomicU64 = AtomicU64::new(0);
/// iids forgotten because their duration passed.
static EXPIRED: AtomicU64 = AtomicU64::new(0);
/// iids forgotten because their producer exceeded maxsize.
static EVICTED: AtomicU64 = AtomicU64::new(0);

/// Adds `n` to a counter that only the main thread writes (commands, the
/// filter, the cron): a plain load and store. An atomic read-modify-write
/// is a locked instruction on x86, a full barrier of some 20 cycles, paid by
/// every command that counted itself that way.
pub fn bump(counter: &AtomicU64, n: u64) {
    counter.store(
        counter.load(Ordering::Relaxed).wrapping_add(n),
        Ordering::Relaxed,
    );
}

/// The counters of one stream that INFO sums up.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    iids: u64,
    duplicates: u64,
    expired: u64,
    evicted: u64,
}

impl Tally {
    /// The stream's current counters.
    pub fn of(s: &Stream) -> Tally {
        Tally {
            iids: s.idmp.iids_tracked(),
            duplicates: s.idmp.iids_duplicates,
            expired: s.idmp.iids_expired,
            evicted: s.idmp.iids_evicted,
        }
    }
}

fn delta(a: u64, b: u64) -> i64 {
    (i128::from(b) - i128::from(a)).clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// A command changed a stream from `before` to `after` (nothing to do,
/// and no atomic touched, when it changed none of the counters: reads).
pub fn account(before: Tally, after: Tally) {
    if before == after {
        return;
    }
    // A freed value (possibly on the lazy-free thread) lowers IIDS: an
    // atomic add, and none when the count is unchanged (a duplicate; an add
    // that evicted one).
    if before.iids != after.iids {
        IIDS.fetch_add(delta(before.iids, after.iids), Ordering::Relaxed);
    }
    for (counter, a, b) in [
        (&DUPLICATES, before.duplicates, after.duplicates),
        (&EXPIRED, before.expired, after.expired),
        (&EVICTED, before.evicted, after.evicted),
    ] {
        if b > a {
            bump(counter, b - a);
        }
    }
}

/// A module stream became a key's value (created, loaded, copied,
/// converted): its iids count, not its lifetime counters (duplicates a
/// loaded or copied stream answered before were counted then, or by another
/// process).
pub fn stream_added(s: &Stream) {
    STREAMS.fetch_add(1, Ordering::Relaxed);
    IIDS.fetch_add(delta(0, s.idmp.iids_tracked()), Ordering::Relaxed);
}

/// A module stream is being freed.
pub fn stream_removed(s: &Stream) {
    STREAMS.fetch_sub(1, Ordering::Relaxed);
    IIDS.fetch_sub(delta(0, s.idmp.iids_tracked()), Ordering::Relaxed);
}

/// (name, value) of every counter, in INFO order.
pub fn snapshot() -> [(&'static str, u64); 7] {
    let pos = |v: &AtomicI64| u64::try_from(v.load(Ordering::Relaxed)).unwrap_or(0);
    let get = |v: &AtomicU64| v.load(Ordering::Relaxed);
    [
        ("module_streams", pos(&STREAMS)),
        ("iids_tracked", pos(&IIDS)),
        ("duplicates_answered", get(&DUPLICATES)),
        ("iids_expired", get(&EXPIRED)),
        ("iids_evicted", get(&EVICTED)),
        ("native_streams_converted", get(&CONVERTED)),
        ("native_commands_forwarded", get(&FORWARDED)),
    ]
}
