//! The documentation of the commands Redis 7.x does not have, as Redis 8.2 /
//! 8.6 give it (XCFGSET and XIDMPRECORD as native 8.6.3's `COMMAND DOCS`
//! answers: argument names, `since`).

use super::{condition_arg, ArgKind, CmdDocs, DocArg, MULTIPLE, OPTIONAL};

/// The documentation of `name` (lower case) if it is one of XCFGSET,
/// XIDMPRECORD, XDELEX, XACKDEL.
pub fn docs(name: &str) -> Option<CmdDocs> {
    Some(match name {
        "xcfgset" => CmdDocs {
            summary: Some("Sets the IDMP configuration parameters for a stream.".into()),
            since: Some("8.6.0".into()),
            complexity: Some("O(1)".into()),
            args: vec![
                DocArg::key(),
                DocArg::group(
                    "idmp-duration-block",
                    ArgKind::Block,
                    vec![
                        DocArg::token("idmp-duration-token", "IDMP-DURATION"),
                        DocArg::new("duration", ArgKind::Integer),
                    ],
                )
                .flags(OPTIONAL),
                DocArg::group(
                    "idmp-maxsize-block",
                    ArgKind::Block,
                    vec![
                        DocArg::token("idmp-maxsize-token", "IDMP-MAXSIZE"),
                        DocArg::new("maxsize", ArgKind::Integer),
                    ],
                )
                .flags(OPTIONAL),
            ],
            ..CmdDocs::default()
        },
        "xidmprecord" => CmdDocs {
            summary: Some(
                "An internal command for setting IDMP metadata on an existing stream message."
                    .into(),
            ),
            since: Some("8.6.2".into()),
            complexity: Some("O(1)".into()),
            args: vec![
                DocArg::key(),
                DocArg::new("pid", ArgKind::String),
                DocArg::new("iid", ArgKind::String),
                DocArg::new("stream-id", ArgKind::String),
            ],
            ..CmdDocs::default()
        },
        "xdelex" => CmdDocs {
            summary: Some("Deletes one or multiple entries from the stream.".into()),
            since: Some("8.2.0".into()),
            complexity: Some(
                "O(1) for each single item to delete in the stream, regardless of the stream size."
                    .into(),
            ),
            args: vec![DocArg::key(), condition_arg().since_none(), ids_arg()],
            ..CmdDocs::default()
        },
        "xackdel" => CmdDocs {
            summary: Some(
                "Acknowledges and conditionally deletes one or multiple entries (messages) for a stream consumer group at the specified key."
                    .into(),
            ),
            since: Some("8.2.0".into()),
            complexity: Some("O(1) for each entry ID processed.".into()),
            args: vec![
                DocArg::key(),
                DocArg::new("group", ArgKind::String),
                condition_arg().since_none(),
                ids_arg(),
            ],
            ..CmdDocs::default()
        },
        _ => return None,
    })
}

/// `IDS numids id [id ...]`.
fn ids_arg() -> DocArg {
    DocArg::group(
        "ids",
        ArgKind::Block,
        vec![
            DocArg::new("numids", ArgKind::Integer),
            DocArg::new("id", ArgKind::String).flags(MULTIPLE),
        ],
    )
    .with_token("IDS")
}

impl DocArg {
    /// Clears `since` (an option as old as its command).
    fn since_none(mut self) -> DocArg {
        self.since = None;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_four_commands_and_nothing_else() {
        for name in ["xcfgset", "xidmprecord", "xdelex", "xackdel"] {
            let d = docs(name).unwrap();
            assert!(d.summary.is_some() && d.since.is_some() && d.complexity.is_some());
            assert_eq!(d.args[0], DocArg::key(), "{name}: the key comes first");
        }
        assert!(docs("xadd").is_none());
    }
}
