//! The pure model of a stream with idempotent production: no FFI, no
//! `redis_module` types. Unit- and property-tested without a server.

pub mod digest;
pub mod id;
pub mod idmp;
pub mod store;
pub mod stream;

pub use id::StreamId;
