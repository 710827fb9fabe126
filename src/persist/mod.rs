//! Persistence: the versioned RDB codec and the AOF-rewrite emitter.

pub mod aof;
pub mod groups;
pub mod rdb;
