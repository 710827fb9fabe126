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
    use redis_module::configuration::ConfigurationFlags;

    use crate::server::config::{AOF_NATIVE, CAPTURE, DURATION, MAXSIZE};
    use crate::server::dtype::IDMP_TYPE;
    use crate::server::init as module_init;

    redis_module::redis_module! {
        name: "idmp",
        version: 1,
        allocator: (RedisAlloc, RedisAlloc),
        data_types: [IDMP_TYPE],
        init: module_init,
        configurations: [
            i64: [
                ["stream-idmp-duration", &DURATION, 100, 1, 86400, ConfigurationFlags::DEFAULT, None],
                ["stream-idmp-maxsize", &MAXSIZE, 100, 1, 10000, ConfigurationFlags::DEFAULT, None],
            ],
            string: [],
            bool: [
                ["capture-new-streams", &CAPTURE, true, ConfigurationFlags::DEFAULT, None],
                ["aof-rewrite-native", &AOF_NATIVE, false, ConfigurationFlags::DEFAULT, None],
            ],
            enum: [],
            module_args_as_configuration: true,
        ]
    }
}
