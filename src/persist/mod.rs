//! Persistence: the versioned RDB codec and the AOF-rewrite emitter.
