//! Command documentation (`COMMAND DOCS`) of the module's commands: the
//! native documentation of a routed command, read from the host server at
//! load, plus the options later Redis versions added and the module accepts
//! (see [`additions`]); and the documentation of the commands Redis 7.x lacks
//! (see [`module_only`]), taken from the Redis 8.2 / 8.6 command reference.

pub mod additions;
pub mod module_only;

/// The type of a documented argument (`COMMAND DOCS` `type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgKind {
    /// `string`
    String,
    /// `integer`
    Integer,
    /// `double`
    Double,
    /// `key`
    Key,
    /// `pattern`
    Pattern,
    /// `unix-time`
    UnixTime,
    /// `pure-token`
    PureToken,
    /// `oneof`
    OneOf,
    /// `block`
    Block,
}

impl ArgKind {
    /// Parses the `type` field of a `COMMAND DOCS` argument.
    pub fn parse(s: &[u8]) -> Option<ArgKind> {
        Some(match s {
            b"string" => ArgKind::String,
            b"integer" => ArgKind::Integer,
            b"double" => ArgKind::Double,
            b"key" => ArgKind::Key,
            b"pattern" => ArgKind::Pattern,
            b"unix-time" => ArgKind::UnixTime,
            b"pure-token" => ArgKind::PureToken,
            b"oneof" => ArgKind::OneOf,
            b"block" => ArgKind::Block,
            _ => return None,
        })
    }
}

/// Argument flag `optional`.
pub const OPTIONAL: u32 = 1;
/// Argument flag `multiple`.
pub const MULTIPLE: u32 = 2;
/// Argument flag `multiple_token`.
pub const MULTIPLE_TOKEN: u32 = 4;

/// Parses one entry of an argument's `flags` list.
pub fn parse_flag(s: &[u8]) -> Option<u32> {
    match s {
        b"optional" => Some(OPTIONAL),
        b"multiple" => Some(MULTIPLE),
        b"multiple_token" => Some(MULTIPLE_TOKEN),
        _ => None,
    }
}

/// One documented argument, with its sub-arguments for `oneof` and `block`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocArg {
    /// `name`
    pub name: String,
    /// `type`
    pub kind: ArgKind,
    /// `key_spec_index`, -1 when absent.
    pub key_spec_index: i32,
    /// `token`
    pub token: Option<String>,
    /// `summary`
    pub summary: Option<String>,
    /// `since`
    pub since: Option<String>,
    /// `deprecated_since`
    pub deprecated_since: Option<String>,
    /// `display_text` (Redis 7.2+)
    pub display_text: Option<String>,
    /// [`OPTIONAL`] | [`MULTIPLE`] | [`MULTIPLE_TOKEN`]
    pub flags: u32,
    /// Sub-arguments (`oneof`, `block`).
    pub args: Vec<DocArg>,
}

impl DocArg {
    /// An argument of `kind` named `name`, without token or flags; a value
    /// argument shows its name as `display_text`, as Redis' command tables do
    /// (servers before 7.2 do not report it).
    pub fn new(name: &str, kind: ArgKind) -> DocArg {
        let value = !matches!(kind, ArgKind::PureToken | ArgKind::OneOf | ArgKind::Block);
        DocArg {
            name: name.to_string(),
            kind,
            key_spec_index: -1,
            token: None,
            summary: None,
            since: None,
            deprecated_since: None,
            display_text: value.then(|| name.to_string()),
            flags: 0,
            args: Vec::new(),
        }
    }

    /// The key argument of key spec 0.
    pub fn key() -> DocArg {
        DocArg {
            key_spec_index: 0,
            ..DocArg::new("key", ArgKind::Key)
        }
    }

    /// A `pure-token` argument.
    pub fn token(name: &str, token: &str) -> DocArg {
        DocArg::new(name, ArgKind::PureToken).with_token(token)
    }

    /// A `oneof` or `block` with sub-arguments.
    pub fn group(name: &str, kind: ArgKind, args: Vec<DocArg>) -> DocArg {
        DocArg {
            args,
            ..DocArg::new(name, kind)
        }
    }

    /// Sets the token.
    pub fn with_token(mut self, token: &str) -> DocArg {
        self.token = Some(token.to_string());
        self
    }

    /// Sets `since`.
    pub fn since(mut self, since: &str) -> DocArg {
        self.since = Some(since.to_string());
        self
    }

    /// Adds flags.
    pub fn flags(mut self, flags: u32) -> DocArg {
        self.flags |= flags;
        self
    }
}

/// The documentation of one command.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CmdDocs {
    /// `summary`
    pub summary: Option<String>,
    /// `since`
    pub since: Option<String>,
    /// `complexity`
    pub complexity: Option<String>,
    /// `history`: (version, change).
    pub history: Vec<(String, String)>,
    /// The command tips of `COMMAND INFO`, space-separated.
    pub tips: Option<String>,
    /// `arguments`
    pub args: Vec<DocArg>,
}

/// The `KEEPREF | DELREF | ACKED` option of Redis 8.2.
pub fn condition_arg() -> DocArg {
    DocArg::group(
        "condition",
        ArgKind::OneOf,
        vec![
            DocArg::token("keepref", "KEEPREF"),
            DocArg::token("delref", "DELREF"),
            DocArg::token("acked", "ACKED"),
        ],
    )
    .since("8.2.0")
    .flags(OPTIONAL)
}
