//! Persistence: the versioned RDB codec and the AOF-rewrite emitter.

pub mod aof;
pub mod groups;
pub mod native_aof;
#[cfg(test)]
mod native_aof_prop_tests;
pub mod rdb;
pub mod translate;
