//! ACL categories of the module commands, where the server has
//! `RedisModule_SetCommandACLCategories` (Redis 7.2+, Valkey; see
//! [`crate::server::host::Host::acl_categories`]): each command
//! carries the categories of the native command it stands for, so that users
//! defined by categories (`+@read`, `+@stream`, `-@write`) get the native
//! verdicts. Redis 7.0 has no such API: its module commands belong to no
//! category.

use std::ffi::c_int;

use redis_module::raw;

use crate::rm;
use crate::server::api::{c_string, log};

/// (module command, categories of the native original without the `@`), as
/// `COMMAND INFO` reports them on Valkey 9.1 and Redis 7.2. Container commands
/// (XINFO, XGROUP) take the categories shared by all their subcommands.
/// `idmp.idmpcounters` (a duplicate's replicated counter bump) and the two
/// Redis 8.6 commands count as stream writes like XADD.
pub const CATEGORIES: &[(&str, &str)] = &[
    ("idmp.xadd", "write stream fast"),
    ("idmp.xrange", "read stream slow"),
    ("idmp.xrevrange", "read stream slow"),
    ("idmp.xlen", "read stream fast"),
    ("idmp.xdel", "write stream fast"),
    ("idmp.xtrim", "write stream slow"),
    ("idmp.xsetid", "write stream fast"),
    ("idmp.xinfo", "read stream slow"),
    ("idmp.type", "keyspace read fast"),
    ("idmp.idmpcounters", "write stream fast"),
    ("xcfgset", "write stream fast"),
    ("xidmprecord", "write stream fast"),
    ("idmp.xidmprecord", "write stream fast"),
    ("idmp.configget", "admin slow dangerous"),
    ("idmp.configset", "admin slow dangerous"),
    ("idmp.xread", "read stream slow blocking"),
    ("idmp.xreadgroup", "write stream slow blocking"),
    ("idmp.xgroup", "write stream slow"),
    ("idmp.xack", "write stream fast"),
    ("idmp.xpending", "read stream slow"),
    ("idmp.xclaim", "write stream fast"),
    ("idmp.xautoclaim", "write stream fast"),
    // Redis 8.2's XDELEX and XACKDEL: `@write @stream @fast`.
    ("xdelex", "write stream fast"),
    ("xackdel", "write stream fast"),
];

/// The categories (without `@`, space-separated) of a command in
/// [`CATEGORIES`], by its lower-case name.
pub fn categories_of(name: &str) -> Option<&'static str> {
    CATEGORIES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|&(_, categories)| categories)
}

/// Whether the ACL command rules of one selector, as `ACL GETUSER` shows
/// them (`+@all -@write -xadd`), allow the command `name` with `categories`
/// as they would if the server knew its categories: the last rule naming the
/// command, one of its categories, or `@all` decides. Rules for a first
/// argument (`+cmd|arg`) do not allow the whole command.
pub fn rules_allow(rules: &[u8], name: &str, categories: &str) -> bool {
    let mut allowed = false;
    for tok in rules
        .split(|b| b.is_ascii_whitespace())
        .filter(|t| !t.is_empty())
    {
        let (grant, body) = match tok.split_first() {
            Some((b'+', rest)) => (true, rest),
            Some((b'-', rest)) => (false, rest),
            _ => {
                if tok.eq_ignore_ascii_case(b"allcommands") {
                    allowed = true;
                } else if tok.eq_ignore_ascii_case(b"nocommands") {
                    allowed = false;
                }
                continue;
            }
        };
        let hit = match body.strip_prefix(b"@") {
            Some(cat) => {
                cat.eq_ignore_ascii_case(b"all")
                    || categories
                        .split(' ')
                        .any(|c| cat.eq_ignore_ascii_case(c.as_bytes()))
            }
            None => body.eq_ignore_ascii_case(name.as_bytes()),
        };
        if hit {
            allowed = grant;
        }
    }
    allowed
}

/// Sets the categories of every command in [`CATEGORIES`] (at load, after
/// the commands are created). True on servers without the API; false, with a
/// log line, if the server refuses one.
pub fn init(ctx: *mut raw::RedisModuleCtx) -> bool {
    let host = crate::server::host::host();
    if !host.acl_categories {
        return true;
    }
    for &(name, categories) in CATEGORIES {
        let name = host.command_name(name);
        let cname = c_string(name);
        let cmd = rm!(RedisModule_GetCommand(ctx, cname.as_ptr())).unwrap_or(std::ptr::null_mut());
        let ccat = c_string(categories);
        let ok = !cmd.is_null()
            && rm!(RedisModule_SetCommandACLCategories(cmd, ccat.as_ptr()))
                .is_some_and(|r| r == raw::Status::Ok as c_int);
        if !ok {
            log(
                ctx,
                "warning",
                &format!("idmp: the server refused the ACL categories of {name}"),
            );
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::rules_allow;

    const W: &str = "write stream fast";

    #[test]
    fn rules_decide_by_the_last_matching_rule() {
        assert!(rules_allow(b"+@all", "xcfgset", W));
        assert!(!rules_allow(b"+@all -@write", "xcfgset", W));
        assert!(rules_allow(b"+@all -@write +@stream", "xcfgset", W));
        assert!(rules_allow(b"+@all -xadd", "xcfgset", W));
        assert!(!rules_allow(b"+@all -XCFGSET", "xcfgset", W));
        assert!(!rules_allow(b"-@all +@read", "xcfgset", W));
        assert!(rules_allow(b"-@all +@read +xcfgset", "xcfgset", W));
        assert!(!rules_allow(b"-@all +xcfgset|idmp-duration", "xcfgset", W));
        assert!(!rules_allow(b"allcommands -@fast", "xcfgset", W));
        assert!(!rules_allow(b"", "xcfgset", W));
        assert!(!rules_allow(b"+@all nocommands", "xcfgset", W));
        assert!(!rules_allow(b"\xff +", "xcfgset", W));
    }
}
