//! XGROUP CREATE / SETID / DESTROY / CREATECONSUMER / DELCONSUMER / HELP, a
//! port of Redis 7.0's `xgroupCommand` (same checks in the same order:
//! subcommand arity, options, key type, missing key, missing group, then
//! the subcommand's own argument count and ID).
//!
//! One Redis 8 change: ENTRIESREAD larger than the stream's entries-added
//! is capped to it ([`capped_entries_read`]), except from trusted callers:
//! a master propagates its group's exact counter, which reads may have
//! carried past entries-added (Redis 7.0's increment is not capped).
//!
//! Propagation: the exact effect as `idmp.xgroup` with resolved arguments
//! (`$` replaced by the ID it stood for, the read counter always explicit).

use super::cg::{nogroup_for_key, num, subcommand_syntax_error};
use super::reply::Reply;
use super::util::{arity_error, check_arity, is_char, is_kw, parse_ll, show};
use super::{CmdError, Effects, ExecCtx};
use crate::stream::groups::INVALID_ENTRIES_READ;
use crate::stream::id::{parse_id, parse_strict_id, string2ll, ERR_INVALID_ID};
use crate::stream::stream::Stream;
use crate::stream::StreamId;

/// `ERR The XGROUP subcommand requires the key to exist. ...`
pub const ERR_KEY_MUST_EXIST: &str = "ERR The XGROUP subcommand requires the key to exist. \
Note that for CREATE you may want to use the MKSTREAM option to create an empty stream \
automatically.";

/// ENTRIESREAD above the stream's `entries_added` is capped to it (Redis
/// 8; 7.0 stores it as given and then reports a negative lag).
pub fn capped_entries_read(entries_read: i64, entries_added: u64) -> i64 {
    match u64::try_from(entries_read) {
        Ok(v) if v > entries_added => i64::try_from(entries_added).unwrap_or(i64::MAX),
        _ => entries_read,
    }
}

/// The subcommand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XgroupSub {
    /// CREATE.
    Create,
    /// SETID.
    Setid,
    /// DESTROY.
    Destroy,
    /// CREATECONSUMER.
    CreateConsumer,
    /// DELCONSUMER.
    DelConsumer,
    /// HELP.
    Help,
    /// The internal `SETCONSUMERTIME key group consumer seen-ms active-ms`
    /// (trusted callers: the AOF rewrite restores consumers' times with it).
    SetConsumerTime,
}

/// A parsed XGROUP (arity and options checked; IDs are checked at exec
/// time, after the key, as 7.0 does).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XgroupRequest<'a> {
    /// The subcommand.
    pub sub: XgroupSub,
    /// argv\[1\] as typed.
    pub sub_name: &'a [u8],
    /// The whole argv.
    pub argv: Vec<&'a [u8]>,
    /// MKSTREAM.
    pub mkstream: bool,
    /// ENTRIESREAD (-1 when not given).
    pub entries_read: i64,
}

const HELP: [&str; 14] = [
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
];

impl<'a> XgroupRequest<'a> {
    /// Parses XGROUP: container arity, subcommand and its arity, options.
    pub fn parse(argv: &[&'a [u8]], name: &str) -> Result<Self, CmdError> {
        Self::parse_ctx(argv, name, false)
    }

    /// [`XgroupRequest::parse`]; `trusted` (AOF loader, master link) also
    /// accepts the internal SETCONSUMERTIME.
    pub fn parse_ctx(argv: &[&'a [u8]], name: &str, trusted: bool) -> Result<Self, CmdError> {
        check_arity(argv, -2, name)?;
        let sub_name = argv.get(1).copied().unwrap_or_default();
        let (sub, sname, arity) = match sub_name.to_ascii_lowercase().as_slice() {
            b"create" => (XgroupSub::Create, "create", -5),
            b"setid" => (XgroupSub::Setid, "setid", -5),
            b"destroy" => (XgroupSub::Destroy, "destroy", 4),
            b"createconsumer" => (XgroupSub::CreateConsumer, "createconsumer", 5),
            b"delconsumer" => (XgroupSub::DelConsumer, "delconsumer", 5),
            b"help" => (XgroupSub::Help, "help", 2),
            b"setconsumertime" if trusted => (XgroupSub::SetConsumerTime, "setconsumertime", 7),
            _ => {
                return Err(format!(
                    "ERR unknown subcommand '{}'. Try XGROUP HELP.",
                    show(sub_name).chars().take(128).collect::<String>()
                ))
            }
        };
        if check_arity(argv, arity, "").is_err() {
            return Err(arity_error(&format!("{name}|{sname}")));
        }
        let mut mkstream = false;
        let mut entries_read = INVALID_ENTRIES_READ;
        if argv.len() >= 4 && sub != XgroupSub::SetConsumerTime {
            let mut i = 5;
            while i < argv.len() {
                let a = argv.get(i).copied().unwrap_or_default();
                let create = sub == XgroupSub::Create;
                let setid = sub == XgroupSub::Setid;
                if create && is_kw(a, "MKSTREAM") {
                    mkstream = true;
                    i += 1;
                } else if (create || setid) && is_kw(a, "ENTRIESREAD") && i + 1 < argv.len() {
                    entries_read = parse_ll(argv.get(i + 1).copied().unwrap_or_default())?;
                    if entries_read < 0 && entries_read != INVALID_ENTRIES_READ {
                        return Err("ERR value for ENTRIESREAD must be positive or -1".into());
                    }
                    i += 2;
                } else {
                    return Err(subcommand_syntax_error(sub_name, "XGROUP"));
                }
            }
        }
        Ok(XgroupRequest {
            sub,
            sub_name,
            argv: argv.to_vec(),
            mkstream,
            entries_read,
        })
    }

    fn arg(&self, i: usize) -> &'a [u8] {
        self.argv.get(i).copied().unwrap_or_default()
    }

    /// The key (`None` for HELP).
    pub fn key(&self) -> Option<&'a [u8]> {
        (self.sub != XgroupSub::Help).then(|| self.arg(2))
    }

    /// True when a missing key may be created (CREATE ... MKSTREAM).
    pub fn creates_key(&self) -> bool {
        self.sub == XgroupSub::Create && self.mkstream
    }

    /// Runs the subcommand.
    pub fn exec(
        &self,
        stream: Option<&mut Stream>,
        ctx: &ExecCtx,
        reply: &mut dyn Reply,
    ) -> Effects<'_> {
        let mut fx = Effects::default();
        let argc = self.argv.len();
        if self.sub == XgroupSub::Help {
            reply.array(HELP.len() + 3);
            reply.simple("XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
            for l in HELP {
                reply.simple(l);
            }
            reply.simple("HELP");
            reply.simple("    Print this help.");
            return fx;
        }
        let key = self.arg(2);
        let group = self.arg(3);
        if stream.is_none() && !self.mkstream {
            reply.error(ERR_KEY_MUST_EXIST);
            return fx;
        }
        if let Some(s) = stream.as_deref() {
            let needs_group = matches!(
                self.sub,
                XgroupSub::Setid
                    | XgroupSub::CreateConsumer
                    | XgroupSub::DelConsumer
                    | XgroupSub::SetConsumerTime
            );
            if needs_group && !self.mkstream && s.groups.get(group).is_none() {
                reply.error(&nogroup_for_key(key, group));
                return fx;
            }
        }
        match self.sub {
            XgroupSub::Create if (5..=8).contains(&argc) => {
                self.create(stream, ctx, reply, &mut fx)
            }
            XgroupSub::Setid if argc == 5 || argc == 7 => {
                // Reached only with an existing stream and group.
                if let Some(s) = stream {
                    self.setid(s, ctx.trusted, reply, &mut fx);
                }
            }
            XgroupSub::Destroy => {
                let destroyed = stream.is_some_and(|s| s.groups.destroy(group));
                if destroyed {
                    fx.events.push("xgroup-destroy");
                    fx.signal_ready = true;
                    fx.propagate([&b"idmp.xgroup"[..], b"DESTROY", key, group]);
                }
                reply.int(i64::from(destroyed));
            }
            XgroupSub::CreateConsumer => {
                let consumer = self.arg(4);
                let created = stream
                    .and_then(|s| s.groups.get_mut(group))
                    .is_some_and(|g| g.create_consumer(consumer, ctx.now_ms));
                if created {
                    fx.events.push("xgroup-createconsumer");
                    fx.propagate([&b"idmp.xgroup"[..], b"CREATECONSUMER", key, group, consumer]);
                }
                reply.int(i64::from(created));
            }
            XgroupSub::DelConsumer => {
                let consumer = self.arg(4);
                let pending = stream
                    .and_then(|s| s.groups.get_mut(group))
                    .and_then(|g| g.delete_consumer(consumer));
                if pending.is_some() {
                    fx.events.push("xgroup-delconsumer");
                    fx.propagate([&b"idmp.xgroup"[..], b"DELCONSUMER", key, group, consumer]);
                }
                reply.int(i64::try_from(pending.unwrap_or(0)).unwrap_or(i64::MAX));
            }
            XgroupSub::SetConsumerTime => {
                let times = (string2ll(self.arg(5)), string2ll(self.arg(6)));
                let (Some(seen), Some(active)) = times else {
                    reply.error(super::util::ERR_NOT_INT);
                    return fx;
                };
                let c = stream
                    .and_then(|s| s.groups.get_mut(group))
                    .and_then(|g| g.consumer_mut(self.arg(4)));
                match c {
                    Some(c) => {
                        c.seen_time = u64::try_from(seen).unwrap_or(0);
                        c.active_time = active;
                        reply.simple("OK");
                    }
                    None => reply.error("ERR no such consumer"),
                }
            }
            _ => reply.error(&subcommand_syntax_error(self.sub_name, "XGROUP")),
        }
        fx
    }

    fn create(
        &self,
        stream: Option<&mut Stream>,
        ctx: &ExecCtx,
        reply: &mut dyn Reply,
        fx: &mut Effects<'_>,
    ) {
        let key = self.arg(2);
        let group = self.arg(3);
        let idarg = self.arg(4);
        let id = if is_char(idarg, b'$') {
            stream.as_deref().map_or(StreamId::MIN, |s| s.last_id)
        } else {
            match parse_strict_id(idarg) {
                Some(id) => id,
                None => {
                    reply.error(ERR_INVALID_ID);
                    return;
                }
            }
        };
        let mut created_key: Option<Box<Stream>> = None;
        let s: &mut Stream = match stream {
            Some(s) => s,
            None => created_key.insert(Box::new(Stream::new(ctx.defaults))),
        };
        let entries_read = self.read_counter(s, ctx.trusted);
        let created = s.groups.create(group, id, entries_read).is_some();
        let settings = s.idmp.settings();
        let made_key = created_key.is_some();
        if made_key {
            fx.create = true;
            fx.new_stream = created_key;
        }
        if created {
            reply.simple("OK");
            fx.events.push("xgroup-create");
            let mut argv: Vec<Vec<u8>> = vec![
                b"idmp.xgroup".to_vec(),
                b"CREATE".to_vec(),
                key.to_vec(),
                group.to_vec(),
                id.to_bytes(),
            ];
            if made_key {
                argv.push(b"MKSTREAM".to_vec());
            }
            argv.push(b"ENTRIESREAD".to_vec());
            argv.push(num(entries_read));
            fx.push_owned(argv);
            if made_key {
                // The stream took this server's IDMP defaults; a replica
                // (or the AOF loader) may have others, as for XADD's IDMPCFG.
                fx.push_owned(super::xcfgset::settings_argv(key, settings));
            }
        } else {
            reply.error("BUSYGROUP Consumer Group name already exists");
        }
    }

    /// ENTRIESREAD as applied: capped for clients, exact for trusted callers.
    fn read_counter(&self, s: &Stream, trusted: bool) -> i64 {
        if trusted {
            self.entries_read
        } else {
            capped_entries_read(self.entries_read, s.entries_added)
        }
    }

    fn setid(&self, s: &mut Stream, trusted: bool, reply: &mut dyn Reply, fx: &mut Effects<'a>) {
        let key = self.arg(2);
        let group = self.arg(3);
        let idarg = self.arg(4);
        let id = if is_char(idarg, b'$') {
            s.last_id
        } else {
            match parse_id(idarg, 0, false, false) {
                Some(p) => p.id,
                None => {
                    reply.error(ERR_INVALID_ID);
                    return;
                }
            }
        };
        let entries_read = self.read_counter(s, trusted);
        let Some(g) = s.groups.get_mut(group) else {
            reply.error(&nogroup_for_key(key, group));
            return;
        };
        g.last_id = id;
        g.entries_read = entries_read;
        reply.simple("OK");
        fx.events.push("xgroup-setid");
        super::cg::propagate_group_id(fx, key, group, id, entries_read);
    }
}
