//! Process-wide counters reported in `INFO idmp`.

use std::sync::atomic::AtomicU64;

/// Native streams converted into module streams.
pub static CONVERTED: AtomicU64 = AtomicU64::new(0);
/// Commands forwarded unchanged to native streams.
pub static FORWARDED: AtomicU64 = AtomicU64::new(0);
