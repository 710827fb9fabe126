//! Permissions: the server checks ACLs against the module command the filter
//! produced (`idmp.xadd`), so the module checks the caller's ACL against the
//! original command and its keys itself, answering the native NOPERM errors
//! and adding an ACL LOG entry. Callers without a user (the AOF loader, the
//! master link) are not checked, as natively.

use std::ffi::c_int;

use redis_module::raw;

use crate::rm;
use crate::server::api::create_string;

/// The caller's ACL user, freed on drop.
struct User(*mut raw::RedisModuleUser);

impl Drop for User {
    fn drop(&mut self) {
        if !self.0.is_null() {
            let _ = rm!(RedisModule_FreeModuleUser(self.0));
        }
    }
}

/// The name of the calling client's user, or `None` where there is no user
/// (the master link, the AOF loader, another module's `RM_Call`).
///
/// `RedisModule_GetCurrentUserName` dereferences the client's user without a
/// check on Redis 7.0, so it is only used for scripts, whose client always
/// carries the caller's user; other clients are asked by ID, which answers
/// NULL for a client without a user or without an ID (temporary clients).
fn current_user_name(ctx: *mut raw::RedisModuleCtx) -> Option<*mut raw::RedisModuleString> {
    let flags = crate::server::api::ctx_flags(ctx);
    if flags & (raw::REDISMODULE_CTX_FLAGS_REPLICATED | raw::REDISMODULE_CTX_FLAGS_LOADING) != 0 {
        return None;
    }
    let id = rm!(RedisModule_GetClientId(ctx)).unwrap_or(0);
    let by_id = rm!(RedisModule_GetClientUserNameById(ctx, id)).unwrap_or(std::ptr::null_mut());
    if !by_id.is_null() {
        return Some(by_id);
    }
    if flags & raw::REDISMODULE_CTX_FLAGS_LUA != 0 {
        return rm!(RedisModule_GetCurrentUserName(ctx)).filter(|p| !p.is_null());
    }
    None
}

fn current_user(ctx: *mut raw::RedisModuleCtx) -> Option<User> {
    let name = current_user_name(ctx)?;
    let u = rm!(RedisModule_GetModuleUserFromUserName(name)).unwrap_or(std::ptr::null_mut());
    crate::server::api::free_string(ctx, name);
    (!u.is_null()).then_some(User(u))
}

fn permitted(user: &User, argv: &mut [*mut raw::RedisModuleString]) -> bool {
    rm!(RedisModule_ACLCheckCommandPermissions(
        user.0,
        argv.as_mut_ptr(),
        argv.len() as c_int
    ))
    .is_some_and(|r| r == raw::Status::Ok as c_int)
}

/// Checks the command `native` (e.g. "xadd"; with `cmd_words` 2 the
/// subcommand in argv\[1\] too, as in `XINFO STREAM`) against the caller's
/// ACL. Keys need no check here: the server has checked them against the
/// module command, whose key specs are the native command's. Returns the
/// NOPERM error to answer, or `None` when the call is allowed.
pub fn check(
    ctx: *mut raw::RedisModuleCtx,
    native: &str,
    argv: &[*mut raw::RedisModuleString],
    cmd_words: usize,
) -> Option<String> {
    let user = current_user(ctx)?;
    let name = create_string(ctx, native.as_bytes());
    let mut cmd: Vec<*mut raw::RedisModuleString> = vec![name];
    if cmd_words >= 2 {
        cmd.extend(argv.get(1).copied());
    }
    if permitted(&user, &mut cmd) {
        return None;
    }
    let fullname = if cmd_words >= 2 {
        let sub = argv
            .get(1)
            .map(|&s| crate::server::api::str_bytes(s).to_ascii_lowercase())
            .unwrap_or_default();
        format!("{native}|{}", String::from_utf8_lossy(&sub))
    } else {
        native.to_string()
    };
    let object = create_string(ctx, fullname.as_bytes());
    let _ = rm!(RedisModule_ACLAddLogEntry(
        ctx,
        user.0,
        object,
        raw::RedisModuleACLLogEntryReason_REDISMODULE_ACL_LOG_CMD
    ));
    Some(format!(
        "NOPERM this user has no permissions to run the '{fullname}' command"
    ))
}
