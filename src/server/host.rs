//! The host layer: what server the module runs in and what it has, found once
//! at load and kept in one capability record ([`Host`]). Registration, routing
//! and every host-dependent decision read [`host()`]; no other file compares
//! versions or probes for optional APIs.
//!
//! The server is asked wherever it can answer: `INFO server` for its name and
//! version, `COMMAND INFO` for the stream commands it serves natively,
//! `COMMAND DOCS` for the options of its native XADD and XREADGROUP, and the
//! module API table for the optional functions. The version alone decides only
//! what the server cannot be asked about (the wording of its NOPERM errors) and
//! the floor below which the module refuses to load.

use std::sync::OnceLock;

use redis_module::raw;

use crate::commands::NativeFeatures;
use crate::server::api;
use crate::server::call::{call_v, Elem};

/// The server family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Server {
    /// Redis (no `server_name` in INFO, or `server_name:redis`).
    Redis,
    /// Valkey (`server_name:valkey`); its version is Valkey's own.
    Valkey,
}

impl Server {
    /// The name shown in INFO and the load log line.
    pub fn name(self) -> &'static str {
        match self {
            Server::Redis => "redis",
            Server::Valkey => "valkey",
        }
    }
}

/// A server version `(major, minor, patch)`.
pub type Version = (u32, u32, u32);

/// The capability record of the host, filled once at load.
#[derive(Clone, Debug)]
pub struct Host {
    /// Redis or Valkey.
    pub server: Server,
    /// The server's own version (Valkey's, not its Redis-compatible one).
    pub version: Version,
    /// The host has native idempotent streams (XCFGSET exists: Redis 8.6+).
    pub native_idmp: bool,
    /// The host serves XIDMPRECORD natively.
    pub native_xidmprecord: bool,
    /// The host serves XDELEX natively (Redis 8.2+).
    pub native_xdelex: bool,
    /// The host serves XACKDEL natively (Redis 8.2+).
    pub native_xackdel: bool,
    /// The host's native XADD/XTRIM take KEEPREF/DELREF/ACKED (Redis 8.2+).
    pub native_ref_options: bool,
    /// The host's native XREADGROUP takes CLAIM (Redis 8.4+).
    pub native_claim: bool,
    /// Module commands may carry ACL categories
    /// (`RedisModule_SetCommandACLCategories`: Redis 7.2+, Valkey).
    pub acl_categories: bool,
    /// A command filter can name its client
    /// (`RedisModule_CommandFilterGetClientId`: Redis 7.2+, Valkey).
    pub filter_client_id: bool,
    /// The host answers ACL denials in the 7.2 words (the command denial
    /// names the user). Not askable: Redis 7.2+ and every Valkey.
    pub noperm_72_texts: bool,
    /// Module configurations exist (`RedisModule_RegisterNumericConfig`).
    pub module_configs: bool,
    /// The host wakes a client blocked on keys when one of them is deleted
    /// or overwritten, as it wakes its own XREADGROUP
    /// (`RedisModule_BlockClientOnKeysWithFlags` with
    /// `REDISMODULE_BLOCK_UNBLOCK_DELETED`: Redis 7.2+, Valkey). Without it
    /// (Redis 7.0) the module watches the keys itself (wake.rs).
    pub unblock_deleted: bool,
    /// A module command's `argv` is the client's own argument vector, which
    /// `RedisModule_ReplicateVerbatim` propagates: a command may replace one
    /// of its arguments in place (the XADD ID) and propagate the rest as the
    /// client sent them, and the command filter may insert arguments into it
    /// (`RedisModuleCommandDispatcher` passes `c->argv`; the filter API
    /// reallocates the vector it grows; MULTI keeps the vector a command
    /// left, and the server frees whatever the vector holds afterwards). Not
    /// askable: read in the sources, and on only where the test matrix ran
    /// it: Redis 7.0 to 8.2, Valkey 8.0 and 9.1. A call from a script is
    /// another matter on some of them ([`Host::script_argv_owned`]): ask
    /// [`Host::argv_owned`], not this field alone.
    pub argv_in_place: bool,
    /// A command called from a script gets a vector its (script) client owns
    /// too, as every other command. True on Redis 7.0 to 8.2 and Valkey 8.0
    /// (`luaRedisGenericCommand` gives the Lua client its own vector, which
    /// `freeLuaRedisArgv` frees). False on Valkey 9.1, whose Lua engine runs
    /// each `server.call` through `VM_CallArgv` (module.c) with the script's
    /// own vector *lent* to the temporary client (`argv_borrowed`): the
    /// command must not change it (server.c `call()` asserts that under
    /// `enable-debug-assert`), and the filter API cannot grow it more than
    /// once: `VM_CommandFilterArgReplace` first swaps in a copy of exactly
    /// `argc` slots (`backupOriginalClientArgv`), after which
    /// `VM_CommandFilterArgInsert` raises `argv_len` without reallocating
    /// and writes past the copy. That is what corrupted Valkey 9.1.2's heap
    /// (the filter routing `XADD ... IDMPAUTO` in the EVAL of
    /// `test_replication.py`, then reserving three slots; found with
    /// valgrind, which names `VM_CommandFilterArgInsert` writing after a
    /// 56-byte block `VM_CommandFilterArgReplace` allocated).
    pub script_argv_owned: bool,
    /// Optional module APIs the host lacks, by name (informational).
    pub missing_apis: Vec<&'static str>,
}

/// The record before load (and for unit tests): Redis 7.0 with nothing
/// optional, the most conservative choice.
static FALLBACK: Host = Host {
    server: Server::Redis,
    version: (7, 0, 0),
    native_idmp: false,
    native_xidmprecord: false,
    native_xdelex: false,
    native_xackdel: false,
    native_ref_options: false,
    native_claim: false,
    acl_categories: false,
    filter_client_id: false,
    noperm_72_texts: false,
    module_configs: false,
    unblock_deleted: false,
    argv_in_place: false,
    script_argv_owned: false,
    missing_apis: Vec::new(),
};

static HOST: OnceLock<Host> = OnceLock::new();

/// The host's capability record.
pub fn host() -> &'static Host {
    HOST.get().unwrap_or(&FALLBACK)
}

/// The oldest Redis the module serves.
pub const MIN_REDIS: Version = (7, 0, 0);

/// The module-only commands and the names they are registered under when the
/// host already serves them: then the module registers the prefixed name and
/// the command filter routes the standard name to it.
const PREFIXED: &[(&str, &str)] = &[
    ("xcfgset", "idmp.xcfgset"),
    ("xidmprecord", "idmp.xidmprecord"),
    ("xdelex", "idmp.xdelex"),
    ("xackdel", "idmp.xackdel"),
];

impl Host {
    /// Whether the host serves the command `name` (lower case) natively,
    /// among the ones the module also implements under that name.
    pub fn serves(&self, name: &str) -> bool {
        match name {
            "xcfgset" => self.native_idmp,
            "xidmprecord" => self.native_xidmprecord,
            "xdelex" => self.native_xdelex,
            "xackdel" => self.native_xackdel,
            _ => false,
        }
    }

    /// The name the module registers for its command `name`: the name itself,
    /// or `idmp.<name>` where the host already has `name`.
    pub fn command_name(&self, name: &'static str) -> &'static str {
        match PREFIXED.iter().find(|(n, _)| *n == name) {
            Some(&(n, prefixed)) if self.serves(n) => prefixed,
            _ => name,
        }
    }

    /// Whether a command running with the context flags `ctx_flags` holds
    /// its client's own argument vector, to change in place
    /// ([`Host::argv_in_place`]): everywhere the capability is on, except in
    /// a call from a script where scripts lend theirs
    /// ([`Host::script_argv_owned`]).
    pub fn argv_owned(&self, ctx_flags: u32) -> bool {
        self.argv_in_place
            && (self.script_argv_owned || ctx_flags & raw::REDISMODULE_CTX_FLAGS_LUA == 0)
    }

    /// [`Host::argv_owned`] for the command the filter is looking at, which
    /// has no context: the server's own flags, whose `LUA` says a script is
    /// running (every Valkey vector that is lent is a script's: the Lua
    /// engine is `VM_CallArgv`'s only caller, the API table does not export
    /// it). Asked only where scripts lend their vectors.
    pub fn filtered_argv_owned(&self) -> bool {
        self.argv_in_place
            && (self.script_argv_owned
                || api::ctx_flags(std::ptr::null_mut()) & raw::REDISMODULE_CTX_FLAGS_LUA == 0)
    }

    /// Whether the module can serve this host; the reason when it cannot.
    pub fn check(&self) -> Result<(), String> {
        if self.server == Server::Redis && self.version < MIN_REDIS {
            return Err(format!(
                "Redis {} is older than 7.0, the oldest server the module supports",
                version_str(self.version)
            ));
        }
        Ok(())
    }

    /// "Redis" or "Valkey".
    pub fn server_title(&self) -> &'static str {
        match self.server {
            Server::Redis => "Redis",
            Server::Valkey => "Valkey",
        }
    }

    /// The stream features the host serves on its own streams, for routing.
    pub fn stream_features(&self) -> NativeFeatures {
        NativeFeatures {
            xdelex: self.native_xdelex,
            xackdel: self.native_xackdel,
            ref_options: self.native_ref_options,
            claim: self.native_claim,
        }
    }

    /// The native stream features found, comma separated ("none" if none).
    pub fn native_list(&self) -> String {
        let v: Vec<&str> = [
            (self.native_xdelex, "XDELEX"),
            (self.native_xackdel, "XACKDEL"),
            (self.native_ref_options, "KEEPREF/DELREF/ACKED"),
            (self.native_claim, "XREADGROUP CLAIM"),
            (self.native_xidmprecord, "XIDMPRECORD"),
            (self.native_idmp, "IDMP"),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .map(|&(_, n)| n)
        .collect();
        if v.is_empty() {
            "none".to_string()
        } else {
            v.join(",")
        }
    }

    /// The module commands registered under the prefix, comma separated.
    pub fn prefixed_commands(&self) -> String {
        let v: Vec<&str> = PREFIXED
            .iter()
            .filter(|(n, _)| self.serves(n))
            .map(|&(_, p)| p)
            .collect();
        if v.is_empty() {
            "none".to_string()
        } else {
            v.join(",")
        }
    }

    /// One line for the load log.
    pub fn summary(&self) -> String {
        format!(
            "host {} {}; native stream features: {}; registered under the idmp. prefix: {}; ACL categories for module commands: {}; filter client id: {}; module configs: {}; wakes blocked clients on deleted keys: {}; missing optional APIs: {}",
            self.server_title(),
            version_str(self.version),
            self.native_list(),
            self.prefixed_commands(),
            yes_no(self.acl_categories),
            yes_no(self.filter_client_id),
            yes_no(self.module_configs),
            yes_no(self.unblock_deleted),
            if self.missing_apis.is_empty() {
                "none".to_string()
            } else {
                self.missing_apis.join(",")
            }
        )
    }
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// `7.0.15`.
pub fn version_str(v: Version) -> String {
    format!("{}.{}.{}", v.0, v.1, v.2)
}

/// Parses `7.0.15` (missing parts are 0, trailing non-digits ignored).
pub fn parse_version(s: &str) -> Option<Version> {
    let mut parts = s.trim().split('.').map(|p| {
        let digits: String = p.chars().take_while(|c| c.is_ascii_digit()).collect();
        digits.parse::<u32>().ok()
    });
    let major = parts.next().flatten()?;
    let minor = parts.next().flatten().unwrap_or(0);
    let patch = parts.next().flatten().unwrap_or(0);
    Some((major, minor, patch))
}

/// The server family and version from the text of `INFO server`: Valkey names
/// itself in `server_name` and its version in `valkey_version` (its
/// `redis_version` is the Redis-compatible 7.2.4); Redis has only
/// `redis_version` (and no `server_name`, or `redis`). Any other
/// `server_name` is a server the module does not know.
pub fn parse_info_server(text: &str) -> Result<(Server, Version), String> {
    let field = |name: &str| {
        text.lines()
            .filter_map(|l| l.trim_end_matches('\r').split_once(':'))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.trim().to_string())
    };
    let server = match field("server_name").as_deref() {
        None | Some("redis") => Server::Redis,
        Some("valkey") => Server::Valkey,
        Some(other) => return Err(format!("unknown server '{other}' (INFO server_name)")),
    };
    let version_field = match server {
        Server::Redis => "redis_version",
        Server::Valkey => "valkey_version",
    };
    let raw =
        field(version_field).ok_or_else(|| format!("the server's INFO has no {version_field}"))?;
    let version =
        parse_version(&raw).ok_or_else(|| format!("cannot read the server version '{raw}'"))?;
    Ok((server, version))
}

/// Module APIs the module cannot do without.
fn required_apis() -> [(&'static str, bool); 10] {
    // SAFETY: reading (copying) function pointers the server filled at load.
    unsafe {
        [
            (
                "RegisterCommandFilter",
                { raw::RedisModule_RegisterCommandFilter }.is_some(),
            ),
            (
                "ReplyWithCallReply",
                { raw::RedisModule_ReplyWithCallReply }.is_some(),
            ),
            (
                "SignalKeyAsReady",
                { raw::RedisModule_SignalKeyAsReady }.is_some(),
            ),
            ("ReplyWithMap", { raw::RedisModule_ReplyWithMap }.is_some()),
            (
                "SignalModifiedKey",
                { raw::RedisModule_SignalModifiedKey }.is_some(),
            ),
            (
                "SetModuleOptions",
                { raw::RedisModule_SetModuleOptions }.is_some(),
            ),
            (
                "ModuleTypeSetValue",
                { raw::RedisModule_ModuleTypeSetValue }.is_some(),
            ),
            ("Call", { raw::RedisModule_Call }.is_some()),
            (
                "SetCommandInfo",
                { raw::RedisModule_SetCommandInfo }.is_some(),
            ),
            (
                "RegisterNumericConfig",
                { raw::RedisModule_RegisterNumericConfig }.is_some(),
            ),
        ]
    }
}

/// Optional module APIs (see PLATFORM-NOTES): presence, by name.
fn optional_apis() -> [(&'static str, bool); 11] {
    // SAFETY: reading (copying) function pointers the server filled at load.
    unsafe {
        [
            (
                "SetCommandACLCategories",
                { raw::RedisModule_SetCommandACLCategories }.is_some(),
            ),
            (
                "CommandFilterGetClientId",
                { raw::RedisModule_CommandFilterGetClientId }.is_some(),
            ),
            (
                "RegisterNumericConfig",
                { raw::RedisModule_RegisterNumericConfig }.is_some(),
            ),
            (
                "BlockClientOnKeysWithFlags",
                { raw::RedisModule_BlockClientOnKeysWithFlags }.is_some(),
            ),
            ("Microseconds", { raw::RedisModule_Microseconds }.is_some()),
            (
                "AddPostNotificationJob",
                { raw::RedisModule_AddPostNotificationJob }.is_some(),
            ),
            (
                "ReplyWithErrorFormat",
                { raw::RedisModule_ReplyWithErrorFormat }.is_some(),
            ),
            ("RdbLoad", { raw::RedisModule_RdbLoad }.is_some()),
            (
                "ReplicateVerbatim",
                { raw::RedisModule_ReplicateVerbatim }.is_some(),
            ),
            (
                "AddACLCategory",
                { raw::RedisModule_AddACLCategory }.is_some(),
            ),
            (
                "RegisterDefragFunc2",
                { raw::RedisModule_RegisterDefragFunc2 }.is_some(),
            ),
        ]
    }
}

/// The text of `INFO server`.
fn info_server(ctx: *mut raw::RedisModuleCtx) -> Option<String> {
    let mut args = [api::create_string(ctx, b"server")];
    let r = call_v(ctx, "INFO", "", &mut args)?;
    Some(String::from_utf8_lossy(r.elem().bytes()).into_owned())
}

/// Which of `names` the host serves, by `COMMAND INFO` (a null or empty entry
/// for an unknown command).
fn native_commands(ctx: *mut raw::RedisModuleCtx, names: &[&str]) -> Vec<bool> {
    let mut args = vec![api::create_string(ctx, b"INFO")];
    args.extend(names.iter().map(|n| api::create_string(ctx, n.as_bytes())));
    let Some(r) = call_v(ctx, "COMMAND", "", &mut args) else {
        return vec![false; names.len()];
    };
    let e = r.elem();
    (0..names.len())
        .map(|i| e.at(i).is_some_and(|x| !x.is_empty()))
        .collect()
}

/// Whether any string in a reply equals `token` (case-insensitive).
fn reply_has_token(e: Elem<'_>, token: &[u8], depth: usize) -> bool {
    if depth > 16 {
        return false;
    }
    if e.bytes().eq_ignore_ascii_case(token) {
        return true;
    }
    if e.kind() == crate::server::call::REPLY_MAP {
        return e.pairs().into_iter().any(|(k, v)| {
            reply_has_token(k, token, depth + 1) || reply_has_token(v, token, depth + 1)
        });
    }
    (0..e.len())
        .filter_map(|i| e.at(i))
        .any(|x| reply_has_token(x, token, depth + 1))
}

/// Whether the host documents the option `token` for its command `cmd`
/// (`COMMAND DOCS cmd`: an argument with that token).
fn native_option(ctx: *mut raw::RedisModuleCtx, cmd: &str, token: &str) -> bool {
    let mut args = [
        api::create_string(ctx, b"DOCS"),
        api::create_string(ctx, cmd.as_bytes()),
    ];
    call_v(ctx, "COMMAND", "", &mut args)
        .is_some_and(|r| reply_has_token(r.elem(), token.as_bytes(), 0))
}

/// [`Host::argv_in_place`]: where the sources were read and the tests ran
/// (Redis 7.0 to 8.2, Valkey 8.0 and 9.1), with `ReplicateVerbatim`.
fn argv_in_place(server: Server, version: Version, replicate_verbatim: bool) -> bool {
    replicate_verbatim
        && match server {
            Server::Redis => version < (8, 3, 0),
            Server::Valkey => matches!(version, (8, 0, _) | (9, 1, _)),
        }
}

/// [`Host::script_argv_owned`]: every Redis, Valkey before 9 (its Lua
/// engine lends the script's vector from 9.1 on; 9.0 is not read, and off
/// anyway).
fn script_argv_owned(server: Server, version: Version) -> bool {
    match server {
        Server::Redis => true,
        Server::Valkey => version < (9, 0, 0),
    }
}

/// Finds out what the host is and has and stores the record, also for a host
/// with native IDMP (`native_idmp`, for a migration mode to read). `Err` only
/// for a server the module cannot even describe: unknown, older than 7.0, or
/// lacking a required module API.
pub fn detect(ctx: *mut raw::RedisModuleCtx) -> Result<&'static Host, String> {
    // SAFETY: reading (copying) a function pointer the server filled at load.
    if unsafe { raw::RedisModule_Call }.is_none() {
        return Err("the server lacks the module API RedisModule_Call".to_string());
    }
    let text = info_server(ctx).ok_or("the server did not answer INFO server")?;
    let (server, version) = parse_info_server(&text)?;
    // The version first: an old server lacks APIs too, and this says why.
    let floor = Host {
        server,
        version,
        ..FALLBACK.clone()
    };
    floor.check()?; // (nothing native is known yet: only the version floor)
    for (name, present) in required_apis() {
        if !present {
            return Err(format!(
                "{} {} lacks the module API RedisModule_{name}",
                floor.server_title(),
                version_str(version)
            ));
        }
    }
    let natives = native_commands(ctx, &["xcfgset", "xidmprecord", "xdelex", "xackdel"]);
    let native = |i: usize| natives.get(i).copied().unwrap_or(false);
    let optional = optional_apis();
    let has = |name: &str| optional.iter().any(|&(n, p)| n == name && p);
    let record = Host {
        server,
        version,
        native_idmp: native(0),
        native_xidmprecord: native(1),
        native_xdelex: native(2),
        native_xackdel: native(3),
        native_ref_options: native_option(ctx, "xadd", "KEEPREF"),
        native_claim: native_option(ctx, "xreadgroup", "CLAIM"),
        acl_categories: has("SetCommandACLCategories"),
        filter_client_id: has("CommandFilterGetClientId"),
        noperm_72_texts: server == Server::Valkey || version >= (7, 2, 0),
        module_configs: has("RegisterNumericConfig"),
        unblock_deleted: has("BlockClientOnKeysWithFlags"),
        argv_in_place: argv_in_place(server, version, has("ReplicateVerbatim")),
        script_argv_owned: script_argv_owned(server, version),
        missing_apis: optional
            .iter()
            .filter(|(_, p)| !p)
            .map(|&(n, _)| n)
            .collect(),
    };
    Ok(HOST.get_or_init(|| record))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(server: Server, version: Version) -> Host {
        Host {
            server,
            version,
            ..FALLBACK.clone()
        }
    }

    #[test]
    fn info_server_names_the_family_and_version() {
        let redis = "# Server\r\nredis_version:7.0.15\r\nredis_git_sha1:00000000\r\n";
        assert_eq!(parse_info_server(redis), Ok((Server::Redis, (7, 0, 15))));
        let valkey =
            "# Server\r\nredis_version:7.2.4\r\nserver_name:valkey\r\nvalkey_version:9.1.2\r\n";
        assert_eq!(parse_info_server(valkey), Ok((Server::Valkey, (9, 1, 2))));
        let named = "server_name:redis\r\nredis_version:8.2.3\r\n";
        assert_eq!(parse_info_server(named), Ok((Server::Redis, (8, 2, 3))));
        assert!(
            parse_info_server("server_name:keydb\r\nredis_version:6.3.4\r\n")
                .unwrap_err()
                .contains("unknown server 'keydb'")
        );
        assert!(parse_info_server("# Server\r\n").is_err());
        assert!(parse_info_server("redis_version:x\r\n").is_err());
    }

    #[test]
    fn versions_parse_loosely() {
        assert_eq!(parse_version("8.6.3"), Some((8, 6, 3)));
        assert_eq!(parse_version("8.0"), Some((8, 0, 0)));
        assert_eq!(parse_version("255.255.255"), Some((255, 255, 255)));
        assert_eq!(parse_version("7.4.1-rc1"), Some((7, 4, 1)));
        assert_eq!(parse_version(""), None);
    }

    #[test]
    fn old_servers_are_refused_native_idmp_is_not() {
        assert!(record(Server::Redis, (7, 0, 15)).check().is_ok());
        assert!(record(Server::Valkey, (8, 0, 1)).check().is_ok());
        let old = record(Server::Redis, (6, 2, 14)).check().unwrap_err();
        assert!(
            old.contains("6.2.14") && old.contains("older than 7.0"),
            "{old}"
        );
        let mut native = record(Server::Redis, (8, 6, 3));
        native.native_idmp = true;
        // Served, by the migration mode (server::migrate).
        assert!(native.check().is_ok());
    }

    #[test]
    fn argument_vectors_change_in_place_where_owned() {
        let lua = raw::REDISMODULE_CTX_FLAGS_LUA;
        let with = |server, version| {
            let mut h = record(server, version);
            h.argv_in_place = argv_in_place(server, version, true);
            h.script_argv_owned = script_argv_owned(server, version);
            h
        };
        for (server, version) in [
            (Server::Redis, (7, 0, 15)),
            (Server::Redis, (8, 2, 3)),
            (Server::Valkey, (8, 0, 1)),
        ] {
            let h = with(server, version);
            assert!(
                h.argv_owned(0) && h.argv_owned(lua),
                "{server:?} {version:?}"
            );
        }
        // Valkey 9.1: a script lends its vector (VM_CallArgv).
        let v91 = with(Server::Valkey, (9, 1, 2));
        assert!(v91.argv_owned(0) && !v91.argv_owned(lua));
        assert!(v91.argv_owned(raw::REDISMODULE_CTX_FLAGS_MULTI));
        for (server, version) in [
            (Server::Redis, (8, 4, 0)),
            (Server::Redis, (8, 6, 3)),
            (Server::Valkey, (8, 1, 1)),
            (Server::Valkey, (9, 0, 0)),
            (Server::Valkey, (9, 2, 0)),
        ] {
            let h = with(server, version);
            assert!(
                !h.argv_owned(0) && !h.argv_owned(lua),
                "{server:?} {version:?}"
            );
        }
        assert!(!argv_in_place(Server::Redis, (7, 2, 4), false));
        // The record before load changes nothing in place.
        assert!(!FALLBACK.argv_owned(0));
    }

    #[test]
    fn commands_the_host_has_take_the_prefix() {
        let mut h = record(Server::Redis, (8, 2, 3));
        assert_eq!(h.command_name("xdelex"), "xdelex");
        h.native_xdelex = true;
        h.native_xackdel = true;
        assert_eq!(h.command_name("xdelex"), "idmp.xdelex");
        assert_eq!(h.command_name("xackdel"), "idmp.xackdel");
        assert_eq!(h.command_name("xcfgset"), "xcfgset");
        assert_eq!(h.command_name("idmp.xadd"), "idmp.xadd");
        assert_eq!(h.prefixed_commands(), "idmp.xdelex,idmp.xackdel");
        assert!(h.summary().contains("host Redis 8.2.3"));
    }
}
