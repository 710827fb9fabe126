//! The glue with the server: FFI, type callbacks, command registration, the
//! command filter and routing. All `unsafe` of the crate lives here.

pub mod acl;
pub mod aclcache;
pub mod aclcat;
pub mod api;
pub mod call;
pub mod cmddocs;
pub mod cmdinfo;
pub mod commands;
pub mod config;
pub mod configget;
pub mod convert;
pub mod dtype;
pub mod filter;
pub mod getkeys;
pub mod guard;
pub mod host;
pub mod hot_idmp;
pub mod hot_xadd;
pub mod info;
pub mod limits;
pub mod migrate;
pub mod nameidx;
pub mod native_fast;
pub mod reply;
pub mod route;
pub mod scan;
pub mod skip;
pub mod stats;
pub mod translate;
pub mod txn;
pub mod wake;
pub mod xinfo_native;
pub mod xread;

use redis_module::{Context, RedisString, Status};

/// Crate version and git revision, stamped by build.rs.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// Git revision the module was built from.
pub const GIT_REV: &str = env!("IDMP_GIT_REV");

/// Module initialisation after the data type is registered: the host record
/// ([`host::detect`]) first, then the configs; on a host with native IDMP the
/// migration mode ([`migrate::init`]), elsewhere the commands, filter and INFO.
pub fn init(ctx: &Context, args: &[RedisString]) -> Status {
    let raw_ctx = ctx.ctx;
    api::auto_memory(raw_ctx);
    guard::install_panic_hook();
    // What the host is and has: one record, read by everything below.
    let host = match host::detect(raw_ctx) {
        Ok(h) => h,
        Err(msg) => {
            api::log(
                raw_ctx,
                "warning",
                &format!("idmp: refusing to load: {msg}"),
            );
            return Status::Err;
        }
    };
    // Configs before the mode is chosen: a `loadmodule` line that carries
    // them must load in migration mode too.
    if let Err(msg) = config::register(ctx, args) {
        api::log(
            raw_ctx,
            "warning",
            &format!("idmp: refusing to load: a module argument is invalid: {msg}"),
        );
        return Status::Err;
    }
    // A host with native IDMP (8.6+): the way out, nothing else.
    if host.native_idmp {
        return match migrate::init(raw_ctx) {
            redis_module::raw::Status::Ok => Status::Ok,
            _ => Status::Err,
        };
    }
    if !commands::register_all(raw_ctx) {
        api::log(raw_ctx, "warning", "idmp: failed to register the commands");
        return Status::Err;
    }
    if !cmdinfo::init(raw_ctx) {
        api::log(
            raw_ctx,
            "warning",
            "idmp: failed to set the commands' key specs",
        );
        return Status::Err;
    }
    // Native ACL categories where the server can attach them.
    if !aclcat::init(raw_ctx) {
        return Status::Err;
    }
    if !filter::init(raw_ctx) {
        api::log(
            raw_ctx,
            "warning",
            "idmp: failed to register the command filter",
        );
        return Status::Err;
    }
    limits::init(raw_ctx);
    wake::init(raw_ctx);
    info::init(raw_ctx);
    // The module signals modified keys itself, only on real writes, so that
    // reads never invalidate a WATCH.
    let _ = crate::rm!(RedisModule_SetModuleOptions(
        raw_ctx,
        (redis_module::raw::REDISMODULE_OPTION_NO_IMPLICIT_SIGNAL_MODIFIED
            | redis_module::raw::REDISMODULE_OPTIONS_HANDLE_IO_ERRORS) as std::ffi::c_int
    ));
    api::log(
        raw_ctx,
        "notice",
        &format!(
            "idmp: redis-idmp {VERSION} ({GIT_REV}) loaded: idempotent streams (XADD IDMP/IDMPAUTO, XCFGSET, XIDMPRECORD); {}",
            host.summary()
        ),
    );
    Status::Ok
}
