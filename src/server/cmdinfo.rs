//! Command metadata through `RedisModule_SetCommandInfo` (Redis 7.0+): the
//! native arity and key specs of each routed command, so that ACL key
//! patterns (`%R~`, `%W~`) judge module commands as they judge the native
//! ones and cluster-aware clients find the keys.

use std::ffi::c_int;

use redis_module::raw;

use crate::commands::docs::{additions, module_only, CmdDocs};
use crate::rm;
use crate::server::api::c_string;
use crate::server::cmddocs::{native_docs, RawDocs};

const RO: u64 = raw::REDISMODULE_CMD_KEY_RO as u64;
const RW: u64 = raw::REDISMODULE_CMD_KEY_RW as u64;
const ACCESS: u64 = raw::REDISMODULE_CMD_KEY_ACCESS as u64;
const UPDATE: u64 = raw::REDISMODULE_CMD_KEY_UPDATE as u64;
const DELETE: u64 = raw::REDISMODULE_CMD_KEY_DELETE as u64;

/// (command, arity, key position (0: no key, -n: after the STREAMS keyword
/// searched from argument n), key spec flags), as the native
/// commands declare them in Redis 7.0 (`src/commands/*.json`).
pub const INFO: &[(&str, i32, i32, u64)] = &[
    ("idmp.xadd", -5, 1, RW | UPDATE),
    ("idmp.xrange", -4, 1, RO | ACCESS),
    ("idmp.xrevrange", -4, 1, RO | ACCESS),
    ("idmp.xlen", 2, 1, RO),
    ("idmp.xdel", -3, 1, RW | DELETE),
    ("idmp.xtrim", -4, 1, RW | DELETE),
    ("idmp.xsetid", -3, 1, RW | UPDATE),
    ("idmp.xinfo", -3, 2, RO | ACCESS),
    ("idmp.type", 2, 1, RO),
    ("idmp.idmpcounters", 4, 1, RW | UPDATE),
    ("xcfgset", -2, 1, RW | UPDATE),
    // Exactly 5, as on 8.6.3; the propagated form with the insertion time
    // (7 arguments) goes under the internal name.
    ("xidmprecord", 5, 1, RW | UPDATE),
    ("idmp.xidmprecord", -5, 1, RW | UPDATE),
    ("idmp.configget", -2, 0, 0),
    ("idmp.configset", -3, 0, 0),
    ("idmp.scan", -2, 0, 0),
    // XREAD/XREADGROUP: keys after STREAMS (see KEYWORD_SPECS).
    // XREADGROUP searches from argument 4 as the native spec does, so that a
    // group or consumer named "streams" is not taken for the keyword.
    ("idmp.xread", -4, -1, RO | ACCESS),
    ("idmp.xreadgroup", -7, -4, RO | ACCESS),
    ("idmp.xgroup", -2, 2, RW | UPDATE),
    ("idmp.xack", -4, 1, RW | UPDATE),
    ("xdelex", -5, 1, RW | DELETE),
    // Redis 8.2/8.6 declare RW, UPDATE, DELETE (xackdel.json), but a module
    // key spec may carry only one of INSERT/UPDATE/DELETE (the server refuses
    // the command info otherwise).
    ("xackdel", -6, 1, RW | DELETE),
    ("idmp.xpending", -3, 1, RO | ACCESS),
    ("idmp.xclaim", -6, 1, RW | UPDATE),
    ("idmp.xautoclaim", -6, 1, RW | DELETE),
];

/// A key spec for "the keys after STREAMS, half of the remaining arguments".
fn streams_keyword_spec(
    flags: u64,
    keyword: &std::ffi::CStr,
    startfrom: i32,
) -> raw::RedisModuleCommandKeySpec {
    raw::RedisModuleCommandKeySpec {
        notes: std::ptr::null(),
        flags,
        begin_search_type: raw::RedisModuleKeySpecBeginSearchType_REDISMODULE_KSPEC_BS_KEYWORD,
        bs: raw::RedisModuleCommandKeySpec__bindgen_ty_1 {
            keyword: raw::RedisModuleCommandKeySpec__bindgen_ty_1__bindgen_ty_2 {
                keyword: keyword.as_ptr(),
                startfrom,
            },
        },
        find_keys_type: raw::RedisModuleKeySpecFindKeysType_REDISMODULE_KSPEC_FK_RANGE,
        fk: raw::RedisModuleCommandKeySpec__bindgen_ty_2 {
            range: raw::RedisModuleCommandKeySpec__bindgen_ty_2__bindgen_ty_1 {
                lastkey: -1,
                keystep: 1,
                limit: 2,
            },
        },
    }
}

/// The documentation of the module command `name`, and the notes of its
/// key specs: XCFGSET, XIDMPRECORD, XDELEX and XACKDEL as Redis 8.2/8.6
/// documents them; a routed command as the host documents its native
/// command, plus the options of later versions the module implements.
fn docs_for(ctx: *mut raw::RedisModuleCtx, name: &str) -> (CmdDocs, Vec<Option<String>>) {
    let base = name.strip_prefix("idmp.").unwrap_or(name);
    if let Some(d) = module_only::docs(base) {
        return (d, Vec::new());
    }
    let internal = match base {
        "configget" => "CONFIG GET of the Redis 8.6 names of the module's configs (stream-idmp-*); the module's command filter routes CONFIG GET here.",
        "configset" => "CONFIG SET of the Redis 8.6 names of the module's configs (stream-idmp-*); the module's command filter routes CONFIG SET here.",
        "scan" => "SCAN with TYPE stream, module streams included; the module's command filter routes SCAN ... TYPE stream here.",
        "idmpcounters" => "Internal: restores a stream's IDMP counters (AOF rewrite and replication only).",
        _ => "",
    };
    if internal.is_empty() {
        if let Some((mut d, notes)) = native_docs(ctx, base) {
            additions::extend(base, &mut d);
            return (d, notes);
        }
    }
    let d = CmdDocs {
        summary: Some(internal.to_string()).filter(|s| !s.is_empty()),
        ..CmdDocs::default()
    };
    (d, Vec::new())
}

fn key_spec(pos: i32, flags: u64) -> raw::RedisModuleCommandKeySpec {
    raw::RedisModuleCommandKeySpec {
        notes: std::ptr::null(),
        flags,
        begin_search_type: raw::RedisModuleKeySpecBeginSearchType_REDISMODULE_KSPEC_BS_INDEX,
        bs: raw::RedisModuleCommandKeySpec__bindgen_ty_1 {
            index: raw::RedisModuleCommandKeySpec__bindgen_ty_1__bindgen_ty_1 { pos },
        },
        find_keys_type: raw::RedisModuleKeySpecFindKeysType_REDISMODULE_KSPEC_FK_RANGE,
        fk: raw::RedisModuleCommandKeySpec__bindgen_ty_2 {
            range: raw::RedisModuleCommandKeySpec__bindgen_ty_2__bindgen_ty_1 {
                lastkey: 0,
                keystep: 1,
                limit: 0,
            },
        },
    }
}

fn terminator() -> raw::RedisModuleCommandKeySpec {
    raw::RedisModuleCommandKeySpec {
        notes: std::ptr::null(),
        flags: 0,
        begin_search_type: raw::RedisModuleKeySpecBeginSearchType_REDISMODULE_KSPEC_BS_INVALID,
        bs: raw::RedisModuleCommandKeySpec__bindgen_ty_1 {
            index: raw::RedisModuleCommandKeySpec__bindgen_ty_1__bindgen_ty_1 { pos: 0 },
        },
        find_keys_type: raw::RedisModuleKeySpecFindKeysType_REDISMODULE_KSPEC_FK_OMITTED,
        fk: raw::RedisModuleCommandKeySpec__bindgen_ty_2 {
            range: raw::RedisModuleCommandKeySpec__bindgen_ty_2__bindgen_ty_1 {
                lastkey: 0,
                keystep: 0,
                limit: 0,
            },
        },
    }
}

/// Sets arity and key specs of every command in [`INFO`]. Servers without
/// the API (none of the supported ones) keep the registration's key range.
pub fn init(ctx: *mut raw::RedisModuleCtx) -> bool {
    let version = raw::RedisModuleCommandInfoVersion {
        version: 1,
        sizeof_historyentry: std::mem::size_of::<raw::RedisModuleCommandHistoryEntry>(),
        sizeof_keyspec: std::mem::size_of::<raw::RedisModuleCommandKeySpec>(),
        sizeof_arg: std::mem::size_of::<raw::RedisModuleCommandArg>(),
    };
    let host = crate::server::host::host();
    for &(name, arity, pos, flags) in INFO {
        let name = host.command_name(name);
        let cname = c_string(name);
        let cmd = rm!(RedisModule_GetCommand(ctx, cname.as_ptr())).unwrap_or(std::ptr::null_mut());
        if cmd.is_null() {
            crate::server::api::log(ctx, "warning", &format!("idmp: no command {name}"));
            return false;
        }
        let streams = c_string("STREAMS");
        let (docs, notes) = docs_for(ctx, name);
        let mut raw_docs = RawDocs::new(&docs);
        let note = notes.first().cloned().flatten().map(|n| c_string(&n));
        let mut specs = if pos > 0 {
            vec![key_spec(pos, flags), terminator()]
        } else if pos < 0 {
            vec![streams_keyword_spec(flags, &streams, -pos), terminator()]
        } else {
            vec![terminator()]
        };
        if let (Some(n), Some(first)) = (&note, specs.first_mut()) {
            first.notes = n.as_ptr();
        }
        let [summary, since, complexity, tips] = raw_docs.fields;
        let mut info = raw::RedisModuleCommandInfo {
            version: &version,
            summary,
            complexity,
            since,
            history: raw_docs.history(),
            tips,
            arity: arity as c_int,
            // Every command with keys, XREAD/XREADGROUP included: without
            // their spec the cluster would neither redirect them nor answer
            // CROSSSLOT (the server finds a module command's keys only
            // through its specs).
            key_specs: if pos != 0 {
                specs.as_mut_ptr()
            } else {
                std::ptr::null_mut()
            },
            args: raw_docs.args,
        };
        match rm!(RedisModule_SetCommandInfo(cmd, &mut info)) {
            Some(r) if r == raw::Status::Ok as c_int => {}
            Some(_) => {
                crate::server::api::log(
                    ctx,
                    "warning",
                    &format!("idmp: the server refused the command info of {name}"),
                );
                return false;
            }
            None => return true,
        }
    }
    true
}
