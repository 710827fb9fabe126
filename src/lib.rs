//! redis-idmp: Redis 8.6 idempotent stream production for Redis 7.x and Valkey,
//! as a loadable module. See `SPEC.md` and `DESIGN.md` in the shared folder.
//!
//! Layers (arrows point one way): `server` (FFI glue) -> `commands` -> `stream`.

pub mod commands;
pub mod persist;
pub mod stream;

#[cfg(feature = "module")]
pub mod server;
