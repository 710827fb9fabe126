//! The pure model of a stream with idempotent production: no FFI, no
//! `redis_module` types. Unit- and property-tested without a server.

pub mod digest;
pub mod groups;
pub mod id;
pub mod idmp;
pub mod store;
/// The stream value type (same name as this module, as the API contract fixes).
#[allow(clippy::module_inception)]
pub mod stream;

pub use id::StreamId;
pub use store::{Entry, EntryStore, NodeLimits, TrimStrategy};
pub use stream::{AppendError, IdRequest, Stream, TrimArgs};
