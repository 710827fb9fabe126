//! The `INFO idmp` section.

use redis_module::raw;
use std::ffi::c_int;

use crate::rm;
use crate::server::api::c_string;
use crate::server::guard::guard;
use crate::server::host::{host, version_str};
use crate::server::{stats, GIT_REV, VERSION};

fn field_str(ctx: *mut raw::RedisModuleInfoCtx, name: &str, value: &str) {
    let n = c_string(name);
    let v = c_string(value);
    let _ = rm!(RedisModule_InfoAddFieldCString(ctx, n.as_ptr(), v.as_ptr()));
}

fn field_u64(ctx: *mut raw::RedisModuleInfoCtx, name: &str, value: u64) {
    let n = c_string(name);
    let _ = rm!(RedisModule_InfoAddFieldULongLong(ctx, n.as_ptr(), value));
}

extern "C" fn info(ctx: *mut raw::RedisModuleInfoCtx, _for_crash_report: c_int) {
    guard((), || {
        // A null name makes the section `# idmp` (the module's name).
        let _ = rm!(RedisModule_InfoAddSection(ctx, std::ptr::null_mut()));
        field_str(ctx, "version", VERSION);
        field_str(ctx, "git_revision", GIT_REV);
        // The host the module found at load (see host.rs).
        let h = host();
        field_str(ctx, "host_server", h.server.name());
        field_str(ctx, "host_version", &version_str(h.version));
        field_str(ctx, "host_native_features", &h.native_list());
        field_str(ctx, "host_prefixed_commands", &h.prefixed_commands());
        field_u64(ctx, "host_native_idmp", u64::from(h.native_idmp));
        field_u64(ctx, "host_acl_categories", u64::from(h.acl_categories));
        field_u64(ctx, "host_filter_client_id", u64::from(h.filter_client_id));
        field_u64(ctx, "host_module_configs", u64::from(h.module_configs));
        field_u64(ctx, "host_unblock_deleted", u64::from(h.unblock_deleted));
        for (name, value) in stats::snapshot() {
            field_u64(ctx, name, value);
        }
        // The name index and the commands the filter left to the host
        // (nameidx.rs, skip.rs).
        let (named, unnamed, buckets, unsure) = crate::server::nameidx::INDEX.sizes();
        field_u64(ctx, "name_index_values", named);
        field_u64(ctx, "name_index_unnamed", unnamed);
        field_u64(ctx, "name_index_buckets", buckets);
        field_u64(ctx, "name_index_unsure", u64::from(unsure));
        let (left, suspended, for_all, clients) = crate::server::skip::counters();
        field_u64(
            ctx,
            "acl_prechecks_cached",
            crate::server::aclcache::native_hits(),
        );
        field_u64(ctx, "commands_left_to_host", left);
        field_u64(
            ctx,
            "key_events_subscribed",
            u64::from(crate::server::wake::key_events_subscribed()),
        );
        // Suspended: for some client (in a transaction); for all: for every
        // client (a transaction the filter could not attribute); clients:
        // those listed one by one (txn.rs).
        field_u64(ctx, "left_to_host_suspended", u64::from(suspended));
        field_u64(ctx, "left_to_host_suspended_all", u64::from(for_all));
        field_u64(ctx, "left_to_host_suspended_clients", clients as u64);
    })
}

/// Registers the INFO callback.
pub fn init(ctx: *mut raw::RedisModuleCtx) {
    let _ = rm!(RedisModule_RegisterInfoFunc(ctx, Some(info)));
}
