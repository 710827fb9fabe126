//! XINFO on module streams: STREAM \[FULL \[COUNT n\]\] as Redis 7.0's
//! `xinfoReplyWithStreamInfo` with the six IDMP fields of Redis 8.6 right
//! after `recorded-first-entry-id` (SPEC 6); GROUPS, CONSUMERS and the FULL
//! groups from `xinfo_groups`; HELP (the native text).
//!
//! `radix-tree-keys` is the store's node count. `radix-tree-nodes` has no
//! exact analogue (the store is no radix tree); it is the figure a native
//! stream shows for as many nodes with sequential IDs: 1 for no node, 2 for
//! one, `2 * keys + 2` beyond (measured on Redis 7.0.15: 2, 6, 8, ..., 202
//! for 100 nodes, 2006 for 1000).

use super::range::{reply_entries, reply_entry};
use super::reply::Reply;
use super::util::{arity_error, check_arity, is_kw, parse_ll, show, ERR_NO_SUCH_KEY};
use super::{CmdError, Effects, ExecCtx};
use crate::stream::idmp::IdmpSettings;
use crate::stream::store::Entry;
use crate::stream::stream::Stream;
use crate::stream::StreamId;

/// The XINFO subcommand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum XinfoSub<'a> {
    /// `XINFO STREAM key [opts]`: the options are checked after the key, as 7.0 does.
    Stream {
        /// The key.
        key: &'a [u8],
        /// The options after the key.
        opts: Vec<&'a [u8]>,
    },
    /// `XINFO GROUPS key`.
    Groups {
        /// The key.
        key: &'a [u8],
    },
    /// `XINFO CONSUMERS key group`.
    Consumers {
        /// The key.
        key: &'a [u8],
        /// The group name.
        group: &'a [u8],
    },
    /// `XINFO HELP`.
    Help,
}

/// A parsed XINFO.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XinfoRequest<'a> {
    /// argv\[0\] as typed (the help and syntax errors print it uppercased).
    pub cmd: &'a [u8],
    /// argv\[1\] as typed (subcommand syntax errors quote it).
    pub sub_name: &'a [u8],
    /// The subcommand.
    pub sub: XinfoSub<'a>,
}

impl<'a> XinfoRequest<'a> {
    /// Parses XINFO: container arity, subcommand lookup, subcommand arity
    /// (`'xinfo|stream'` ...), as the server does before calling the command.
    pub fn parse(argv: &[&'a [u8]], name: &str) -> Result<Self, CmdError> {
        check_arity(argv, -2, name)?;
        let cmd = argv.first().copied().unwrap_or_default();
        let sub_name = argv.get(1).copied().unwrap_or_default();
        let (sub, arity) = match sub_name.to_ascii_lowercase().as_slice() {
            b"stream" => ("stream", -3),
            b"groups" => ("groups", 3),
            b"consumers" => ("consumers", 4),
            b"help" => ("help", 2),
            _ => {
                let shown: String = show(sub_name).chars().take(128).collect();
                return Err(format!(
                    "ERR unknown subcommand '{shown}'. Try {} HELP.",
                    name.to_ascii_uppercase()
                ));
            }
        };
        if check_arity(argv, arity, "").is_err() {
            return Err(arity_error(&format!("{name}|{sub}")));
        }
        let key = argv.get(2).copied().unwrap_or_default();
        let sub = match sub {
            "stream" => XinfoSub::Stream {
                key,
                opts: argv.get(3..).unwrap_or_default().to_vec(),
            },
            "groups" => XinfoSub::Groups { key },
            "consumers" => XinfoSub::Consumers {
                key,
                group: argv.get(3).copied().unwrap_or_default(),
            },
            _ => XinfoSub::Help,
        };
        Ok(XinfoRequest { cmd, sub_name, sub })
    }

    /// The key (`None` for HELP).
    pub fn key(&self) -> Option<&'a [u8]> {
        match self.sub {
            XinfoSub::Stream { key, .. }
            | XinfoSub::Groups { key }
            | XinfoSub::Consumers { key, .. } => Some(key),
            XinfoSub::Help => None,
        }
    }

    fn syntax_error(&self) -> String {
        format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
            show(self.sub_name).chars().take(128).collect::<String>(),
            native_name(self.cmd)
        )
    }

    /// Replies; `ERR no such key` for a missing key (except HELP).
    pub fn exec(
        &self,
        stream: Option<&mut Stream>,
        ctx: &ExecCtx,
        reply: &mut dyn Reply,
    ) -> Effects<'_> {
        let fx = Effects::default();
        if self.sub == XinfoSub::Help {
            self.help(reply);
            return fx;
        }
        let Some(s) = stream else {
            reply.error(ERR_NO_SUCH_KEY);
            return fx;
        };
        match &self.sub {
            XinfoSub::Stream { opts, .. } => match self.stream_opts(opts) {
                Ok(full) => {
                    s.idmp.expire(ctx.now_ms);
                    stream_info(s, full, reply);
                }
                Err(e) => reply.error(&e),
            },
            XinfoSub::Groups { .. } => super::xinfo_groups::groups_info(s, reply),
            XinfoSub::Consumers { key, group } => {
                super::xinfo_groups::consumers_info(s, key, group, ctx.now_ms, reply)
            }
            XinfoSub::Help => {}
        }
        fx
    }

    /// `None` for the plain form, `Some(count)` for FULL (0 = every entry).
    fn stream_opts(&self, opts: &[&[u8]]) -> Result<Option<u64>, CmdError> {
        if opts.is_empty() {
            return Ok(None);
        }
        if opts.len() != 1 && opts.len() != 3 {
            return Err(self.syntax_error());
        }
        if !is_kw(opts.first().copied().unwrap_or_default(), "full") {
            return Err(self.syntax_error());
        }
        let mut count: i64 = 10;
        if opts.len() == 3 {
            if !is_kw(opts.get(1).copied().unwrap_or_default(), "count") {
                return Err(self.syntax_error());
            }
            count = parse_ll(opts.get(2).copied().unwrap_or_default())?;
            if count < 0 {
                count = 10;
            }
        }
        Ok(Some(count as u64))
    }

    fn help(&self, reply: &mut dyn Reply) {
        const LINES: [&str; 6] = [
            "CONSUMERS <key> <groupname>",
            "    Show consumers of <groupname>.",
            "GROUPS <key>",
            "    Show the stream consumer groups.",
            "STREAM <key> [FULL [COUNT <count>]",
            "    Show information about the stream.",
        ];
        reply.array(LINES.len() + 3);
        reply.simple(&format!(
            "{} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            native_name(self.cmd)
        ));
        for l in LINES {
            reply.simple(l);
        }
        reply.simple("HELP");
        reply.simple("    Print this help.");
    }
}

/// argv\[0\] uppercased as the server prints it in help texts, without the
/// module's `idmp.` prefix.
fn native_name(cmd: &[u8]) -> String {
    let up = show(cmd).to_ascii_uppercase();
    up.strip_prefix("IDMP.").map(str::to_string).unwrap_or(up)
}

/// The `radix-tree-nodes` figure for a store of `keys` nodes (see module docs).
pub fn radix_tree_nodes(keys: usize) -> usize {
    match keys {
        0 => 1,
        1 => 2,
        k => k.saturating_mul(2).saturating_add(2),
    }
}

fn int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The six IDMP fields of XINFO STREAM (SPEC 6), as map entries: the
/// settings, then `[pids-tracked, iids-tracked, iids-added, iids-duplicates]`.
/// Usable by the glue for a native stream (defaults and zeros).
pub fn reply_idmp_fields(reply: &mut dyn Reply, settings: IdmpSettings, counts: [u64; 4]) {
    reply.bulk(b"idmp-duration");
    reply.int(i64::from(settings.duration_secs));
    reply.bulk(b"idmp-maxsize");
    reply.int(i64::from(settings.maxsize));
    let [pids, iids, added, duplicates] = counts;
    for (name, v) in [
        (&b"pids-tracked"[..], pids),
        (b"iids-tracked", iids),
        (b"iids-added", added),
        (b"iids-duplicates", duplicates),
    ] {
        reply.bulk(name);
        reply.int(int(v));
    }
}

/// XINFO STREAM's reply; `full` is `Some(count)` for the FULL form.
/// Call `s.idmp.expire(now)` first so that the IDMP counts are exact.
pub fn stream_info(s: &Stream, full: Option<u64>, reply: &mut dyn Reply) {
    reply.map(if full.is_some() { 15 } else { 16 });
    reply.bulk(b"length");
    reply.int(int(s.len()));
    reply.bulk(b"radix-tree-keys");
    reply.int(int(s.store.node_count() as u64));
    reply.bulk(b"radix-tree-nodes");
    reply.int(int(radix_tree_nodes(s.store.node_count()) as u64));
    reply.bulk(b"last-generated-id");
    reply.stream_id(s.last_id);
    reply.bulk(b"max-deleted-entry-id");
    reply.stream_id(s.max_deleted_id);
    reply.bulk(b"entries-added");
    reply.int(int(s.entries_added));
    reply.bulk(b"recorded-first-entry-id");
    reply.stream_id(s.first_id);
    reply_idmp_fields(
        reply,
        s.idmp.settings(),
        [
            s.idmp.pids_tracked(),
            s.idmp.iids_tracked(),
            s.idmp.iids_added,
            s.idmp.iids_duplicates,
        ],
    );
    match full {
        None => {
            reply.bulk(b"groups");
            reply.int(i64::try_from(s.groups.len()).unwrap_or(i64::MAX));
            reply.bulk(b"first-entry");
            match s.store.range(StreamId::MIN, StreamId::MAX).next() {
                Some(e) => reply_entry(reply, &e),
                None => reply.null(),
            }
            reply.bulk(b"last-entry");
            match s.store.rev_range(StreamId::MIN, StreamId::MAX).next() {
                Some(e) => reply_entry(reply, &e),
                None => reply.null(),
            }
        }
        Some(count) => {
            reply.bulk(b"entries");
            let limit = if count == 0 {
                usize::MAX
            } else {
                usize::try_from(count).unwrap_or(usize::MAX)
            };
            let entries: Vec<Entry<'_>> = s
                .store
                .range(StreamId::MIN, StreamId::MAX)
                .take(limit)
                .collect();
            reply_entries(reply, &entries);
            reply.bulk(b"groups");
            super::xinfo_groups::full_groups(s, count, reply);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{bulk, ctx, perr, run, run_args, words};
    use super::*;

    fn field(name: &str, v: i64) -> String {
        format!("{}:{v}\r\n", bulk(name))
    }

    #[test]
    fn idmp_fields_follow_recorded_first_entry_id() {
        let c = ctx(1000);
        let mut slot = None;
        run(&mut slot, "XADD s IDMP p a * f v", &c);
        run(&mut slot, "XADD s IDMP p a * f v", &c);
        run(&mut slot, "XADD s IDMP q b * f v", &ctx(50_000));
        run(
            &mut slot,
            "XCFGSET s IDMP-DURATION 100 IDMP-MAXSIZE 100",
            &c,
        );
        let expect_idmp = |pids: i64, iids: i64| {
            [
                field("idmp-duration", 100),
                field("idmp-maxsize", 100),
                field("pids-tracked", pids),
                field("iids-tracked", iids),
                field("iids-added", 2),
                field("iids-duplicates", 1),
            ]
            .concat()
        };
        let head = format!("{}{}", bulk("recorded-first-entry-id"), bulk("1000-0"));
        for (resp3, line) in [
            (false, "XINFO STREAM s"),
            (true, "XINFO STREAM s"),
            (false, "XINFO STREAM s FULL"),
        ] {
            let (out, fx) = run_args(&mut slot, &words(line), &ctx(60_000), resp3);
            assert!(fx.replicate.is_empty());
            let want = format!("{head}{}", expect_idmp(2, 2));
            assert!(out.contains(&want), "{out}");
            let next = if line.ends_with("FULL") {
                "entries"
            } else {
                "groups"
            };
            assert!(out.contains(&format!("{want}{}", bulk(next))), "{out}");
        }
        let (out, _) = run(&mut slot, "XINFO STREAM s", &ctx(60_000));
        assert!(out.starts_with("*32\r\n"));
        let (out, _) = run_args(&mut slot, &words("XINFO STREAM s"), &ctx(1), true);
        assert!(out.starts_with("%16\r\n"));
        let (out, _) = run_args(&mut slot, &words("XINFO STREAM s FULL"), &ctx(1), true);
        assert!(out.starts_with("%15\r\n"));
        // Expiry is exact as seen by XINFO: p's iid was recorded at 1000.
        let (out, _) = run(&mut slot, "XINFO STREAM s", &ctx(101_000));
        assert!(out.contains(&expect_idmp(1, 1)), "{out}");
        let (out, _) = run(&mut slot, "XINFO STREAM s", &ctx(150_000));
        assert!(out.contains(&expect_idmp(0, 0)), "{out}");
    }

    #[test]
    fn subcommands() {
        let c = ctx(1);
        let mut slot = None;
        let (out, _) = run(&mut slot, "XINFO GROUPS s", &c);
        assert_eq!(out, "-ERR no such key\r\n");
        let (out, _) = run(&mut slot, "XINFO HELP", &c);
        assert!(out.starts_with("*9\r\n+XINFO <subcommand>"));
        run(&mut slot, "XADD s 1-1 f v", &c);
        let (out, _) = run(&mut slot, "xinfo groups s", &c);
        assert_eq!(out, "*0\r\n");
        let (out, _) = run(&mut slot, "XINFO CONSUMERS s g", &c);
        assert_eq!(
            out,
            "-NOGROUP No such consumer group 'g' for key name 's'\r\n"
        );
        let (out, _) = run(&mut slot, "Xinfo Stream s full x", &c);
        assert_eq!(out, "-ERR unknown subcommand or wrong number of arguments for 'Stream'. Try XINFO HELP.\r\n");
        assert_eq!(
            perr("xinfo bogus s"),
            Some("ERR unknown subcommand 'bogus'. Try XINFO HELP.".into())
        );
        assert_eq!(
            perr("XINFO STREAM"),
            Some("ERR wrong number of arguments for 'xinfo|stream' command".into())
        );
        assert_eq!(radix_tree_nodes(0), 1);
        assert_eq!(radix_tree_nodes(3), 8);
    }
}

#[cfg(test)]
mod name_tests {
    use super::super::testkit::{ctx, perr, run};

    #[test]
    fn module_names_print_as_native_ones() {
        assert_eq!(
            perr("idmp.xinfo bogus s"),
            Some("ERR unknown subcommand 'bogus'. Try XINFO HELP.".into())
        );
        assert_eq!(
            perr("IDMP.XINFO STREAM"),
            Some("ERR wrong number of arguments for 'xinfo|stream' command".into())
        );
        assert_eq!(
            perr("idmp.xadd s"),
            Some("ERR wrong number of arguments for 'xadd' command".into())
        );
        let mut slot = None;
        let (out, _) = run(&mut slot, "idmp.xinfo help", &ctx(1));
        assert!(out.starts_with("*9\r\n+XINFO <subcommand>"), "{out}");
    }
}
