//! The `INFO idmp` section.

use redis_module::raw;
use std::ffi::c_int;

use crate::rm;
use crate::server::api::c_string;
use crate::server::guard::guard;
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
        for (name, value) in stats::snapshot() {
            field_u64(ctx, name, value);
        }
    })
}

/// Registers the INFO callback.
pub fn init(ctx: *mut raw::RedisModuleCtx) {
    let _ = rm!(RedisModule_RegisterInfoFunc(ctx, Some(info)));
}
