//! What later Redis versions added to the documentation of commands the
//! host server has natively, and the module accepts on module streams.

use super::{condition_arg, ArgKind, CmdDocs, DocArg, OPTIONAL};

/// Adds to `docs` (the host's native documentation of `name`, lower case)
/// the options and history entries of Redis 7.4 to 8.6 that the module
/// implements; other commands are left as they are. Idempotent: an option
/// the host already documents (a newer server) is not added twice.
pub fn extend(name: &str, docs: &mut CmdDocs) {
    match name {
        "xadd" => {
            let at = position_after(&docs.args, "nomkstream");
            let mut add = Vec::new();
            if !has_arg(&docs.args, "condition") {
                add.push(condition_arg());
            }
            if !has_arg(&docs.args, "idmp") {
                add.push(idmp_arg());
            }
            insert_all(&mut docs.args, at, add);
            push_history(
                docs,
                "8.2.0",
                "Added the `KEEPREF`, `DELREF` and `ACKED` options.",
            );
            push_history(docs, "8.6.0", "Added the `IDMPAUTO` and `IDMP` options.");
        }
        "xtrim" => {
            if !has_arg(&docs.args, "condition") {
                let at = position_after(&docs.args, "trim");
                insert_all(&mut docs.args, at, vec![condition_arg()]);
            }
            push_history(
                docs,
                "8.2.0",
                "Added the `KEEPREF`, `DELREF` and `ACKED` options.",
            );
        }
        "xreadgroup" => {
            if !has_arg(&docs.args, "min-idle-time") {
                let at = position_after(&docs.args, "noack");
                let claim = DocArg::new("min-idle-time", ArgKind::Integer)
                    .with_token("CLAIM")
                    .since("8.4.0")
                    .flags(OPTIONAL);
                insert_all(&mut docs.args, at, vec![claim]);
            }
            push_history(
                docs,
                "8.4.0",
                "Added the `CLAIM` option to read pending entries idle for at least min-idle-time milliseconds first.",
            );
        }
        "xread" => push_history(docs, "7.4.0", "Added support for the `+` (last entry) ID."),
        _ => {}
    }
}

/// `[IDMPAUTO pid | IDMP pid iid]` of Redis 8.6.
fn idmp_arg() -> DocArg {
    DocArg::group(
        "idmp",
        ArgKind::OneOf,
        vec![
            DocArg::group(
                "idmpauto-with-pid",
                ArgKind::Block,
                vec![
                    DocArg::token("idmpauto-token", "IDMPAUTO"),
                    DocArg::new("pid", ArgKind::String),
                ],
            ),
            DocArg::group(
                "idmp-with-pid-iid",
                ArgKind::Block,
                vec![
                    DocArg::token("idmp-token", "IDMP"),
                    DocArg::new("pid", ArgKind::String),
                    DocArg::new("iid", ArgKind::String),
                ],
            ),
        ],
    )
    .since("8.6.0")
    .flags(OPTIONAL)
}

fn has_arg(args: &[DocArg], name: &str) -> bool {
    args.iter().any(|a| a.name == name)
}

/// The index just after the argument `name`, or after the first argument
/// (the key) when the host does not document it.
fn position_after(args: &[DocArg], name: &str) -> usize {
    args.iter()
        .position(|a| a.name == name)
        .map_or(args.len().min(1), |i| i + 1)
}

fn insert_all(args: &mut Vec<DocArg>, at: usize, add: Vec<DocArg>) {
    let at = at.min(args.len());
    args.splice(at..at, add);
}

fn push_history(docs: &mut CmdDocs, since: &str, change: &str) {
    if !docs.history.iter().any(|(v, _)| v == since) {
        docs.history.push((since.to_string(), change.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn native_xadd() -> CmdDocs {
        CmdDocs {
            summary: Some("Appends a new entry to a stream".into()),
            args: vec![
                DocArg::key(),
                DocArg::token("nomkstream", "NOMKSTREAM").flags(OPTIONAL),
                DocArg::new("trim", ArgKind::Block).flags(OPTIONAL),
                DocArg::new("id-selector", ArgKind::OneOf),
                DocArg::new("data", ArgKind::Block),
            ],
            history: vec![("6.2.0".into(), "x".into()), ("7.0.0".into(), "y".into())],
            ..CmdDocs::default()
        }
    }

    #[test]
    fn xadd_gains_the_82_and_86_options_in_syntax_order() {
        let mut d = native_xadd();
        extend("xadd", &mut d);
        let names: Vec<&str> = d.args.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "key",
                "nomkstream",
                "condition",
                "idmp",
                "trim",
                "id-selector",
                "data"
            ]
        );
        let versions: Vec<&str> = d.history.iter().map(|(v, _)| v.as_str()).collect();
        assert_eq!(versions, ["6.2.0", "7.0.0", "8.2.0", "8.6.0"]);
        let once = d.clone();
        extend("xadd", &mut d);
        assert_eq!(d, once, "extending twice changes nothing");
    }

    #[test]
    fn other_commands_are_untouched() {
        let mut d = native_xadd();
        extend("xlen", &mut d);
        assert_eq!(d, native_xadd());
    }

    #[test]
    fn xtrim_and_xreadgroup_options() {
        let mut t = CmdDocs {
            args: vec![DocArg::key(), DocArg::new("trim", ArgKind::Block)],
            ..CmdDocs::default()
        };
        extend("xtrim", &mut t);
        assert_eq!(t.args[2].name, "condition");
        let mut g = CmdDocs {
            args: vec![
                DocArg::new("group_consumer", ArgKind::Block),
                DocArg::token("noack", "NOACK"),
                DocArg::new("streams", ArgKind::Block),
            ],
            ..CmdDocs::default()
        };
        extend("xreadgroup", &mut g);
        assert_eq!(g.args[2].token.as_deref(), Some("CLAIM"));
    }
}
