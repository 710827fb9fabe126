//! Persistence: the versioned RDB codec and the AOF-rewrite emitter.

pub mod aof;
pub mod groups;
pub mod native_aof;
pub mod rdb;
pub mod translate;
