//! Command documentation for `COMMAND DOCS`: the host's native documentation
//! of a routed command (`COMMAND DOCS`, and the tips and key-spec notes of
//! `COMMAND INFO`) read at load, and the conversion of a [`CmdDocs`] into the
//! `RedisModuleCommandInfo` fields (the server copies them).

use std::ffi::{c_int, CString};

use redis_module::raw;

use crate::commands::docs::{parse_flag, ArgKind, CmdDocs, DocArg};
use crate::server::api::{c_string, create_string};
use crate::server::call::{call_v, Elem, REPLY_ARRAY};

fn text(e: Elem<'_>) -> String {
    String::from_utf8_lossy(e.bytes()).into_owned()
}

/// The host's documentation of the native command `name` (tips included)
/// and its key specs' notes, `None` when the server has no such command.
pub fn native_docs(
    ctx: *mut raw::RedisModuleCtx,
    name: &str,
) -> Option<(CmdDocs, Vec<Option<String>>)> {
    let mut args = [
        create_string(ctx, b"DOCS"),
        create_string(ctx, name.as_bytes()),
    ];
    let reply = call_v(ctx, "COMMAND", "", &mut args)?;
    // [name, docs] (RESP2: a flat array; the docs a flat key/value array).
    let (_, body) = reply.elem().pairs().into_iter().next()?;
    let mut docs = CmdDocs::default();
    for (k, v) in body.pairs() {
        match k.bytes() {
            b"summary" => docs.summary = Some(text(v)),
            b"since" => docs.since = Some(text(v)),
            b"complexity" => docs.complexity = Some(text(v)),
            b"history" => {
                docs.history = (0..v.len())
                    .filter_map(|i| {
                        let h = v.at(i)?;
                        Some((text(h.at(0)?), text(h.at(1)?)))
                    })
                    .collect()
            }
            b"arguments" => docs.args = parse_args(v, 0),
            _ => {}
        }
    }
    let (tips, notes) = native_info(ctx, name);
    docs.tips = tips;
    Some((docs, notes))
}

/// The command tips (space-separated) and the key specs' notes of the
/// native command `name`, from `COMMAND INFO`.
fn native_info(ctx: *mut raw::RedisModuleCtx, name: &str) -> (Option<String>, Vec<Option<String>>) {
    let mut args = [
        create_string(ctx, b"INFO"),
        create_string(ctx, name.as_bytes()),
    ];
    let Some(reply) = call_v(ctx, "COMMAND", "", &mut args) else {
        return (None, Vec::new());
    };
    let Some(info) = reply.elem().at(0).filter(|e| e.kind() == REPLY_ARRAY) else {
        return (None, Vec::new());
    };
    // [name, arity, flags, first, last, step, categories, tips, key specs, subcommands]
    let tips = info.at(7).map(|t| {
        (0..t.len())
            .filter_map(|i| t.at(i).map(text))
            .collect::<Vec<_>>()
            .join(" ")
    });
    let notes = info
        .at(8)
        .map(|specs| {
            (0..specs.len())
                .map(|i| {
                    specs.at(i).and_then(|s| {
                        s.pairs()
                            .into_iter()
                            .find(|(k, _)| k.bytes() == b"notes")
                            .map(|(_, v)| text(v))
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    (tips.filter(|t| !t.is_empty()), notes)
}

/// Arguments nest a few levels in the real tables; deeper is not followed.
const MAX_DEPTH: usize = 8;

fn parse_args(list: Elem<'_>, depth: usize) -> Vec<DocArg> {
    if depth > MAX_DEPTH {
        return Vec::new();
    }
    (0..list.len())
        .filter_map(|i| parse_arg(list.at(i)?, depth))
        .collect()
}

fn parse_arg(e: Elem<'_>, depth: usize) -> Option<DocArg> {
    let mut arg = DocArg::new("", ArgKind::String);
    arg.display_text = None;
    let mut kind = None;
    for (k, v) in e.pairs() {
        match k.bytes() {
            b"name" => arg.name = text(v),
            b"type" => kind = ArgKind::parse(v.bytes()),
            b"key_spec_index" => arg.key_spec_index = i32::try_from(v.integer()).unwrap_or(-1),
            b"token" => arg.token = Some(text(v)),
            b"summary" => arg.summary = Some(text(v)),
            b"since" => arg.since = Some(text(v)),
            b"deprecated_since" => arg.deprecated_since = Some(text(v)),
            b"display_text" => arg.display_text = Some(text(v)),
            b"flags" => {
                arg.flags = (0..v.len())
                    .filter_map(|i| parse_flag(v.at(i)?.bytes()))
                    .fold(0, |a, f| a | f)
            }
            b"arguments" => arg.args = parse_args(v, depth + 1),
            _ => {}
        }
    }
    arg.kind = kind?;
    Some(arg)
}

/// A [`CmdDocs`] laid out as the C structures `RedisModule_SetCommandInfo`
/// reads; the pointers stay valid while this value lives.
#[derive(Default)]
pub struct RawDocs {
    strings: Vec<CString>,
    arg_arrays: Vec<Box<[raw::RedisModuleCommandArg]>>,
    history: Vec<raw::RedisModuleCommandHistoryEntry>,
    /// `summary`, `since`, `complexity`, `tips` (null when absent).
    pub fields: [*const std::ffi::c_char; 4],
    /// The argument array (null-terminated), null when there are none.
    pub args: *mut raw::RedisModuleCommandArg,
}

impl RawDocs {
    /// Lays `docs` out.
    pub fn new(docs: &CmdDocs) -> RawDocs {
        let mut r = RawDocs {
            fields: [std::ptr::null(); 4],
            args: std::ptr::null_mut(),
            ..RawDocs::default()
        };
        r.fields = [
            r.opt(docs.summary.as_deref()),
            r.opt(docs.since.as_deref()),
            r.opt(docs.complexity.as_deref()),
            r.opt(docs.tips.as_deref()),
        ];
        for (since, change) in &docs.history {
            let entry = raw::RedisModuleCommandHistoryEntry {
                since: r.s(since),
                changes: r.s(change),
            };
            r.history.push(entry);
        }
        if !docs.history.is_empty() {
            r.history.push(raw::RedisModuleCommandHistoryEntry {
                since: std::ptr::null(),
                changes: std::ptr::null(),
            });
        }
        if !docs.args.is_empty() {
            r.args = r.arg_array(&docs.args);
        }
        r
    }

    /// The history array (null-terminated), null when there is none.
    pub fn history(&mut self) -> *mut raw::RedisModuleCommandHistoryEntry {
        if self.history.is_empty() {
            std::ptr::null_mut()
        } else {
            self.history.as_mut_ptr()
        }
    }

    fn s(&mut self, s: &str) -> *const std::ffi::c_char {
        let c = c_string(s);
        // The CString's heap buffer does not move when the CString does.
        let p = c.as_ptr();
        self.strings.push(c);
        p
    }

    fn opt(&mut self, s: Option<&str>) -> *const std::ffi::c_char {
        s.map_or(std::ptr::null(), |s| self.s(s))
    }

    fn arg_array(&mut self, args: &[DocArg]) -> *mut raw::RedisModuleCommandArg {
        let mut out: Vec<raw::RedisModuleCommandArg> = Vec::with_capacity(args.len() + 1);
        for a in args {
            let subargs = if a.args.is_empty() {
                std::ptr::null_mut()
            } else {
                self.arg_array(&a.args)
            };
            out.push(raw::RedisModuleCommandArg {
                name: self.s(&a.name),
                type_: arg_type(a.kind),
                key_spec_index: a.key_spec_index as c_int,
                token: self.opt(a.token.as_deref()),
                summary: self.opt(a.summary.as_deref()),
                since: self.opt(a.since.as_deref()),
                flags: a.flags as c_int,
                deprecated_since: self.opt(a.deprecated_since.as_deref()),
                subargs,
                display_text: self.opt(a.display_text.as_deref()),
            });
        }
        out.push(raw::RedisModuleCommandArg {
            name: std::ptr::null(),
            type_: 0,
            key_spec_index: 0,
            token: std::ptr::null(),
            summary: std::ptr::null(),
            since: std::ptr::null(),
            flags: 0,
            deprecated_since: std::ptr::null(),
            subargs: std::ptr::null_mut(),
            display_text: std::ptr::null(),
        });
        let mut boxed = out.into_boxed_slice();
        // A boxed slice's elements do not move when the box does.
        let p = boxed.as_mut_ptr();
        self.arg_arrays.push(boxed);
        p
    }
}

fn arg_type(k: ArgKind) -> raw::RedisModuleCommandArgType {
    match k {
        ArgKind::String => raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_STRING,
        ArgKind::Integer => raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_INTEGER,
        ArgKind::Double => raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_DOUBLE,
        ArgKind::Key => raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_KEY,
        ArgKind::Pattern => raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_PATTERN,
        ArgKind::UnixTime => raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_UNIX_TIME,
        ArgKind::PureToken => raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_PURE_TOKEN,
        ArgKind::OneOf => raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_ONEOF,
        ArgKind::Block => raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_BLOCK,
    }
}
