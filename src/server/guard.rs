//! The FFI boundary's panic fence: nothing may unwind into the server.

use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use crate::server::api::log;

static HOOK: Once = Once::new();

/// Installs a panic hook that writes the message and location to the server
/// log (once per process).
pub fn install_panic_hook() {
    HOOK.call_once(|| {
        panic::set_hook(Box::new(|info| {
            let loc = info
                .location()
                .map(|l| format!("{}:{}", l.file(), l.line()))
                .unwrap_or_default();
            let msg = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_default();
            log(
                std::ptr::null_mut(),
                "warning",
                &format!("idmp: internal error (panic) at {loc}: {msg}"),
            );
        }));
    });
}

/// Runs `f`, returning `fallback` if it panics (the hook has logged it).
pub fn guard<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    panic::catch_unwind(AssertUnwindSafe(f)).unwrap_or(fallback)
}
