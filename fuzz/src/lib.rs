//! Shared pieces of the fuzz targets (see `fuzz/README` in the main README's
//! "Fuzzing" section): a reply sink that checks the shape of every reply, a
//! compact RDB reader/writer, a key space that runs commands as the glue does
//! (with a replica fed by what the master propagates), a compact encoding of
//! useful commands for the structured targets, and a comparable view of a
//! stream.

pub mod check;
pub mod db;
pub mod ops;
pub mod rdbio;
pub mod sink;
pub mod view;
