//! Module configs (`idmp.*`), registered through `redis_module!` and settable
//! at load (`loadmodule ... idmp.x value` style args) and with CONFIG SET.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use crate::stream::idmp::IdmpSettings;

/// `idmp.stream-idmp-duration`: default IDMP duration of new streams (seconds).
pub static DURATION: AtomicI64 = AtomicI64::new(100);
/// `idmp.stream-idmp-maxsize`: default per-producer capacity of new streams.
pub static MAXSIZE: AtomicI64 = AtomicI64::new(100);
/// `idmp.capture-new-streams`: every new stream is a module stream.
pub static CAPTURE: AtomicBool = AtomicBool::new(true);

/// `idmp.aof-rewrite-native`: the AOF rewrite emits only commands native
/// Redis 8.6 understands (the way out, issue 15; see `persist::native_aof`).
pub static AOF_NATIVE: AtomicBool = AtomicBool::new(false);

/// The IDMP settings a new stream starts with.
pub fn defaults() -> IdmpSettings {
    IdmpSettings {
        duration_secs: DURATION.load(Ordering::Relaxed).clamp(1, 86_400) as u32,
        maxsize: MAXSIZE.load(Ordering::Relaxed).clamp(1, 10_000) as u32,
    }
}

/// Whether new streams become module streams.
pub fn capture() -> bool {
    CAPTURE.load(Ordering::Relaxed)
}
