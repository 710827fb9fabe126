//! The name index: which key names may hold a module stream, so that the
//! command filter can leave a stream command on any other key to the host
//! (see [`crate::server::skip`]).
//!
//! The filter cannot see the client's database on Redis 7.0, so the index
//! answers by name across all databases, and MOVE and SWAPDB change nothing
//! in it. It counts live module-stream values per bucket of names (a seeded
//! hash of the name picks one of [`BUCKETS`]): a bucket at zero means that no
//! database holds a module stream under any name of the bucket. Two names
//! sharing a bucket only cost speed (the command is routed, as before the
//! index). The counts are exact in both directions, so the index never
//! grows, and a value's bucket is remembered by its address, since the
//! type's `free` callback gets the value alone:
//!
//! - bound: when the module stores a new value ([`crate::server::route`],
//!   [`crate::server::convert`]), when the type loads one (`rdb_load`: RDB,
//!   RESTORE, DEBUG RELOAD, replica sync, AOF preamble; the name from
//!   `RedisModule_GetKeyNameFromIO`) and when it copies one (`copy`: COPY,
//!   with the destination name);
//! - moved: when RENAME, RENAMENX or MOVE unlinks the value from its
//!   source name (the type's `unlink2`), to the destination the command
//!   filter saw ([`moving`]); a value unlinked without one is unnamed until
//!   it is freed. No key event is subscribed to: the server would build a
//!   module context for every DEL, EXPIRE or `SET ... EX` of every key (about
//!   640 instructions each, a tenth of a `SET ... EX`). An AOF's RENAME,
//!   which the filter does not see, leaves the value unnamed until loading
//!   ends, when the names are read from the keyspace;
//! - unbound: in `free` (DEL, UNLINK, expiry, eviction, overwrite, FLUSHDB,
//!   FLUSHALL, a discarded load), possibly on a lazy-free thread: the map
//!   sits behind a mutex and the counts are atomic; a count that lags only
//!   keeps a name routed a little longer.
//!
//! A value loaded without a name (another module's
//! `RedisModule_LoadDataTypeFromString`) makes every name possible until it
//! is freed; a failed subscription to the loading events makes every name
//! possible for good.

use std::collections::HashMap;
use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Mutex;

use redis_module::raw;

use crate::server::api;
use crate::server::guard::guard;

/// log2 of the number of buckets.
const BUCKET_BITS: u32 = 16;
/// Buckets of names (a static array: its pages stay untouched, and cost no
/// memory, on a server without module streams).
pub const BUCKETS: usize = 1 << BUCKET_BITS;

/// Value address -> its bucket. Keyed by heap addresses, which no client
/// chooses: foldhash with a fixed seed rather than SipHash (whose hashing
/// was about 440 instructions of a stream's creation and deletion).
type Values = HashMap<usize, Option<u32>, foldhash::fast::FixedState>;

/// Live module-stream values per bucket of names, and where each value is
/// bound.
pub struct Index {
    counts: [AtomicU32; BUCKETS],
    /// Value address -> its bucket (`None`: its name is unknown).
    values: Mutex<Option<Values>>,
    /// Live values bound to a name.
    named: AtomicU64,
    /// Live values whose name is unknown.
    unnamed: AtomicU64,
    /// Buckets whose count is not zero.
    used: AtomicU64,
    /// The index can no longer tell: every name may hold a module stream.
    unsure: AtomicBool,
    seed: AtomicU64,
}

impl Index {
    /// An empty index.
    pub const fn new() -> Index {
        Index {
            counts: [const { AtomicU32::new(0) }; BUCKETS],
            values: Mutex::new(None),
            named: AtomicU64::new(0),
            unnamed: AtomicU64::new(0),
            used: AtomicU64::new(0),
            unsure: AtomicBool::new(false),
            seed: AtomicU64::new(0),
        }
    }

    /// Sets the hash seed; only before the first value is bound.
    pub fn seed(&self, seed: u64) {
        self.seed.store(seed, Ordering::Relaxed);
    }

    fn bucket(&self, name: &[u8]) -> u32 {
        let h = xxhash_rust::xxh3::xxh3_64_with_seed(name, self.seed.load(Ordering::Relaxed));
        (h >> (64 - BUCKET_BITS)) as u32
    }

    fn count(&self, b: Option<u32>, up: bool) {
        let Some(b) = b else {
            if up {
                self.unnamed.fetch_add(1, Ordering::SeqCst);
            } else {
                self.unnamed.fetch_sub(1, Ordering::SeqCst);
            }
            return;
        };
        let Some(c) = self.counts.get(b as usize) else {
            return;
        };
        if up {
            if c.fetch_add(1, Ordering::SeqCst) == 0 {
                self.used.fetch_add(1, Ordering::Relaxed);
            }
            self.named.fetch_add(1, Ordering::SeqCst);
        } else {
            if c.fetch_sub(1, Ordering::SeqCst) == 1 {
                self.used.fetch_sub(1, Ordering::Relaxed);
            }
            self.named.fetch_sub(1, Ordering::SeqCst);
        }
    }

    fn with_values<T>(&self, f: impl FnOnce(&mut Values) -> T) -> Option<T> {
        let Ok(mut g) = self.values.lock() else {
            // A panic while the lock was held: the map may be off.
            self.unsure.store(true, Ordering::SeqCst);
            return None;
        };
        Some(f(g.get_or_insert_with(Values::default)))
    }

    /// The value at `value` became live under `name` (`None`: unknown).
    pub fn bind(&self, value: usize, name: Option<&[u8]>) {
        let b = name.map(|n| self.bucket(n));
        self.with_values(|m| {
            if let Some(old) = m.insert(value, b) {
                self.count(old, false);
            }
            self.count(b, true);
        });
    }

    /// The value at `value` is being freed.
    pub fn unbind(&self, value: usize) {
        self.with_values(|m| {
            if let Some(old) = m.remove(&value) {
                self.count(old, false);
            }
        });
    }

    /// The live value at `value` is now under `name` (RENAME).
    pub fn rebind(&self, value: usize, name: &[u8]) {
        let b = Some(self.bucket(name));
        self.with_values(|m| {
            // (A value the index never saw is bound now.)
            if let Some(old) = m.insert(value, b) {
                self.count(old, false);
            }
            self.count(b, true);
        });
    }

    /// From now on every name may hold a module stream.
    pub fn give_up(&self) {
        self.unsure.store(true, Ordering::SeqCst);
    }

    /// Whether some database may hold a module stream named `name`; `false`
    /// is certain.
    pub fn may_hold(&self, name: &[u8]) -> bool {
        self.may_hold_lazy(|| name)
    }

    /// [`Index::may_hold`], reading the name only when the index is not
    /// empty (the filter's commonest case is a server without module
    /// streams).
    pub fn may_hold_lazy<'a>(&self, name: impl FnOnce() -> &'a [u8]) -> bool {
        if self.unsure.load(Ordering::Relaxed) || self.unnamed.load(Ordering::Relaxed) != 0 {
            return true;
        }
        if self.named.load(Ordering::Relaxed) == 0 {
            return false;
        }
        self.counts
            .get(self.bucket(name()) as usize)
            .is_none_or(|c| c.load(Ordering::Relaxed) != 0)
    }

    /// (values bound to a name, values without a name, buckets in use,
    /// unsure) for INFO.
    pub fn sizes(&self) -> (u64, u64, u64, bool) {
        (
            self.named.load(Ordering::Relaxed),
            self.unnamed.load(Ordering::Relaxed),
            self.used.load(Ordering::Relaxed),
            self.unsure.load(Ordering::Relaxed),
        )
    }
}

impl Default for Index {
    fn default() -> Self {
        Index::new()
    }
}

/// The server's index.
pub static INDEX: Index = Index::new();

/// The filter reads the index (not in migration mode).
static ROUTING: AtomicBool = AtomicBool::new(false);

/// Moves the filter saw coming: source name -> destination name of a
/// RENAME/RENAMENX (a MOVE's are the same name), taken by the type's
/// `unlink2` when the command unlinks the value from its source. `None`:
/// two queued moves of the same source to different names, of which the
/// filter cannot tell which runs first. At most [`MAX_MOVES`] (a RENAME
/// that fails, or a transaction discarded, leaves its entry behind): when
/// full it is emptied. A move without its entry leaves its value unnamed.
type Moves = HashMap<Vec<u8>, Option<Vec<u8>>>;
static MOVES: Mutex<Option<Moves>> = Mutex::new(None);
const MAX_MOVES: usize = 1024;
/// Whether [`MOVES`] may hold an entry (read without its lock on every
/// unlink, most of which are deletions with no move noted).
static MOVES_NOTED: AtomicBool = AtomicBool::new(false);

/// A value was unlinked while the server loaded (an AOF's RENAME, which the
/// filter does not see): the names are read from the keyspace when loading
/// ends.
static RESCAN: AtomicBool = AtomicBool::new(false);
/// Between a loading event's start and its end or failure.
static LOADING: AtomicBool = AtomicBool::new(false);

/// Seeds the index and marks it as read by the filter; subscribes to the
/// loading events (see [`RESCAN`]). Called by the filter's init, before any
/// value can be loaded.
pub fn init(ctx: *mut raw::RedisModuleCtx) {
    use std::hash::BuildHasher;
    INDEX.seed(std::collections::hash_map::RandomState::new().hash_one(0x1d3b_u64));
    if !api::subscribe_event(ctx, raw::REDISMODULE_EVENT_LOADING, on_loading) {
        INDEX.give_up();
        api::log(
            ctx,
            "warning",
            "idmp: cannot subscribe to the loading events: every stream command is routed",
        );
    }
    ROUTING.store(true, Ordering::SeqCst);
}

/// Binds a value the module stores or loads (`None`: its name is unknown).
pub fn bind(value: *const c_void, name: Option<&[u8]>) {
    INDEX.bind(value as usize, name);
}

/// Unbinds a value being freed (any thread).
pub fn unbind(value: *const c_void) {
    INDEX.unbind(value as usize);
}

/// The filter saw `RENAME src dst`, `RENAMENX src dst` (or `MOVE src db`,
/// `dst` = `src`): if `src` may hold a module stream (or a transaction may
/// queue the command, when `queued`), the destination is remembered for
/// [`unlinked`]. A command that runs at once replaces what an earlier one
/// of the same source left (a failed RENAME); a queued one that disagrees
/// with it makes the source's next move unnamed.
pub fn moving(src: &[u8], dst: &[u8], queued: bool) {
    if !ROUTING.load(Ordering::Relaxed) || !(queued || INDEX.may_hold(src)) {
        return;
    }
    if let Ok(mut g) = MOVES.lock() {
        let m = g.get_or_insert_with(HashMap::new);
        if m.len() >= MAX_MOVES && !m.contains_key(src) {
            m.clear();
        }
        let to = match m.get(src) {
            Some(old) if queued && old.as_deref() != Some(dst) => None,
            _ => Some(dst.to_vec()),
        };
        m.insert(src.to_vec(), to);
        MOVES_NOTED.store(true, Ordering::SeqCst);
    }
}

/// The type's `unlink2`: the value leaves the key `name` (DEL, UNLINK,
/// expiry, eviction, an overwrite, or the source of a RENAME or MOVE,
/// whose value lives on under another name or in another database). A
/// move the filter announced ([`moving`]) rebinds the value to its
/// destination at once; any other unlink leaves the value unnamed, which
/// makes every name possible (every stream command routed) until it is
/// freed, right after a deletion, or until loading ends (see [`RESCAN`]).
pub fn unlinked(value: *const c_void, name: Option<&[u8]>) {
    if !ROUTING.load(Ordering::Relaxed) {
        return;
    }
    let loading = LOADING.load(Ordering::SeqCst);
    let dst = if loading || !MOVES_NOTED.load(Ordering::SeqCst) {
        None
    } else {
        name.and_then(|n| {
            let mut g = MOVES.lock().ok()?;
            let m = g.as_mut()?;
            let d = m.remove(n).flatten();
            MOVES_NOTED.store(!m.is_empty(), Ordering::SeqCst);
            d
        })
    };
    match dst {
        Some(d) => INDEX.rebind(value as usize, &d),
        None => {
            if loading {
                RESCAN.store(true, Ordering::SeqCst);
            }
            INDEX.bind(value as usize, None);
        }
    }
}

extern "C" fn on_loading(
    ctx: *mut raw::RedisModuleCtx,
    _eid: raw::RedisModuleEvent,
    subevent: u64,
    _data: *mut c_void,
) {
    guard((), || match subevent {
        raw::REDISMODULE_SUBEVENT_LOADING_ENDED | raw::REDISMODULE_SUBEVENT_LOADING_FAILED => {
            LOADING.store(false, Ordering::SeqCst);
            if RESCAN.swap(false, Ordering::SeqCst) {
                rebind_all(ctx);
            }
        }
        _ => LOADING.store(true, Ordering::SeqCst),
    })
}

/// Binds every module stream of every database to its key's name (after a
/// load whose RENAMEs left values unnamed).
fn rebind_all(ctx: *mut raw::RedisModuleCtx) {
    crate::server::migrate::for_each_module_stream(ctx, |_, name, value| {
        INDEX.rebind(value as usize, name);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> Box<Index> {
        let i = Box::new(Index::new());
        i.seed(7);
        i
    }

    #[test]
    fn bound_names_are_held_until_freed() {
        let i = index();
        assert!(!i.may_hold(b"a"));
        i.bind(1, Some(b"a"));
        i.bind(2, Some(b"a")); // the same name in another database
        assert!(i.may_hold(b"a"));
        i.unbind(1);
        assert!(i.may_hold(b"a"));
        i.unbind(2);
        assert!(!i.may_hold(b"a"));
        assert_eq!(i.sizes(), (0, 0, 0, false));
        i.unbind(2); // freed twice (never): no underflow
        assert_eq!(i.sizes(), (0, 0, 0, false));
    }

    #[test]
    fn rename_moves_the_value() {
        let i = index();
        i.bind(1, Some(b"a"));
        i.rebind(1, b"b");
        assert!(i.may_hold(b"b"));
        assert_eq!(i.sizes().0, 1);
        // (Another bucket unless the two names collide.)
        if i.bucket(b"a") != i.bucket(b"b") {
            assert!(!i.may_hold(b"a"));
        }
        i.unbind(1);
        assert!(!i.may_hold(b"b"));
        assert_eq!(i.sizes(), (0, 0, 0, false));
    }

    #[test]
    fn an_unnamed_value_makes_every_name_possible_until_freed() {
        let i = index();
        i.bind(1, None);
        assert!(i.may_hold(b"anything"));
        i.rebind(1, b"x"); // renamed: now known
        assert!(!i.may_hold(b"anything") || i.bucket(b"anything") == i.bucket(b"x"));
        i.bind(2, None);
        i.unbind(2);
        i.unbind(1);
        assert_eq!(i.sizes(), (0, 0, 0, false));
        i.give_up();
        assert!(i.may_hold(b"anything"));
    }

    #[test]
    fn a_reused_address_is_bound_once() {
        let i = index();
        i.bind(1, Some(b"a"));
        i.bind(1, Some(b"b")); // (a missed free: the old binding goes)
        assert_eq!(i.sizes().0, 1);
        i.unbind(1);
        assert_eq!(i.sizes(), (0, 0, 0, false));
    }
}
