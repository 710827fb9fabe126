//! redis-idmp: Redis 8.6 idempotent stream production for Redis 7.x and Valkey,
//! as a loadable module. See `SPEC.md` and `DESIGN.md` in the shared folder.
//!
//! Layers (arrows point one way): `server` (FFI glue) -> `commands` -> `stream`.

pub mod commands;
pub mod persist;
pub mod stream;

// The glue passes the server's own handles (contexts, keys, strings, IO) for
// the current call between small helpers; they are never user-made pointers.
// `rm!` evaluates its arguments inside its unsafe call: they are plain handles
// and buffers, never expressions with unsafe operations of their own.
#[cfg(feature = "module")]
#[allow(clippy::not_unsafe_ptr_arg_deref, clippy::macro_metavars_in_unsafe)]
pub mod server;

#[cfg(all(feature = "module", not(test)))]
mod module_decl {
    use redis_module::alloc::RedisAlloc;

    use crate::server::dtype::IDMP_TYPE;
    use crate::server::init as module_init;

    redis_module::redis_module! {
        name: "idmp",
        version: 1,
        allocator: (RedisAlloc, RedisAlloc),
        data_types: [IDMP_TYPE],
        // The configs are registered by init (server::config::register),
        // after the host check: the macro's own registration would abort a
        // server without module configs (Redis 6) instead of refusing it.
        init: module_init,
    }
}
