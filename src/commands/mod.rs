//! Commands: argv parsing into typed requests (pure), execution against the
//! model, replies through [`reply::Reply`] and propagation described as effects.
//!
//! The glue calls [`parse`] with the command's argv (argv\[0\] as the client
//! typed it), answers its error if any, opens the key named by
//! [`Request::key`], answers WRONGTYPE for other types, forwards native
//! streams unless [`Request::needs_module_stream`], and otherwise calls
//! [`Request::exec`] with the stream (`None` when the key is missing). Every
//! missing-key reply (XLEN 0, XRANGE `[]`, XSETID `ERR no such key`, XADD
//! NOMKSTREAM null, ...) is given by `exec(None, ..)` itself. For a missing
//! key the glue passes `None` (it does not create the stream itself): XADD
//! then builds the stream, returns it in [`Effects::new_stream`] with
//! [`Effects::create`] set, and propagates its settings (`IDMPCFG`).
//!
//! Internal forms accepted only when [`ExecCtx::trusted`] (AOF loader, master
//! link), all produced by this layer's own propagation:
//! `idmp.xadd key [IDMPCFG duration maxsize] [IDMP pid iid IDMPAT ms]
//! [MAXLEN|MINID = x] id f v ...`, `XIDMPRECORD key pid iid id IDMPAT ms`,
//! `idmp.idmpcounters key added duplicates`.

pub mod cg;
pub mod counters;
pub mod docs;
pub mod glob;
pub mod range;
pub mod recorder;
pub mod reply;
pub mod trim_args;
pub mod trim_refs;
pub mod util;
pub mod xack;
pub mod xadd;
pub mod xautoclaim;
pub mod xcfgset;
pub mod xclaim;
pub mod xdel;
pub mod xdelex;
pub mod xgroup;
pub mod xidmprecord;
pub mod xinfo;
pub mod xinfo_groups;
pub mod xlen;
pub mod xpending;
pub mod xread;
pub mod xreadgroup;
pub mod xsetid;
pub mod xtrim;

#[cfg(test)]
mod groups_exec_tests;
#[cfg(test)]
mod groups_oracle_fixture;
#[cfg(test)]
mod groups_oracle_tests;
#[cfg(test)]
mod groups_prop_tests;
#[cfg(test)]
mod native_diff;
#[cfg(test)]
mod native_features_tests;
#[cfg(test)]
mod oracle_fixture;
#[cfg(test)]
mod oracle_tests;
#[cfg(test)]
mod prop_tests;
#[cfg(test)]
pub(crate) mod testkit;

use std::borrow::Cow;

use crate::stream::idmp::IdmpSettings;
use crate::stream::store::NodeLimits;
use crate::stream::stream::Stream;

use reply::Reply;

/// What a command needs to know about the server at parse and exec time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExecCtx {
    /// The server clock (milliseconds since the epoch), for IDs and IDMP times.
    pub now_ms: u64,
    /// `stream-node-max-bytes` / `stream-node-max-entries`.
    pub limits: NodeLimits,
    /// The command comes from the AOF loader or the master link
    /// (`mustObeyClient`): no LIMIT on trimming, IDMP with explicit IDs and
    /// `IDMPAT` accepted, XIDMPRECORD of deleted entries, internal commands.
    pub trusted: bool,
    /// The IDMP settings of a stream created by this command (module configs).
    pub defaults: IdmpSettings,
}

/// Stream features of later Redis versions that a host may serve natively on
/// its own (native) streams; the module implements them on module streams.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NativeFeatures {
    /// XDELEX (Redis 8.2).
    pub xdelex: bool,
    /// XACKDEL (Redis 8.2).
    pub xackdel: bool,
    /// KEEPREF/DELREF/ACKED on XADD and XTRIM (Redis 8.2).
    pub ref_options: bool,
    /// XREADGROUP CLAIM (Redis 8.4).
    pub claim: bool,
}

/// What a command did besides its reply; the glue carries it out in this
/// order: store `new_stream` (if `create`), replicate, signal, notify.
#[derive(Debug, Default)]
pub struct Effects<'a> {
    /// Commands to propagate (replicas and AOF), in order: argument vectors
    /// with \[0\] the command name, or a group read's XCLAIMs as values.
    /// Empty for reads and for writes that changed nothing. An argument
    /// borrowed from the command's own argv lets the glue pass the server's
    /// string on instead of copying it.
    pub replicate: Vec<Propagation<'a>>,
    /// Keyspace events to fire on the key (native names: `xadd`, `xtrim`, ...).
    pub events: Vec<&'static str>,
    /// Blocked readers of the key must be woken (`signalKeyAsReady`).
    pub signal_ready: bool,
    /// The key was missing and a stream was created for it (XADD only): the
    /// glue must store `new_stream` under the key.
    pub create: bool,
    /// The stream created by XADD when `exec` got `None` (set with `create`).
    pub new_stream: Option<Box<Stream>>,
    /// XREAD/XREADGROUP with BLOCK found nothing to serve and wrote no
    /// reply: the glue blocks the client (or answers a null array where it
    /// may not block). See [`xread`].
    pub block: Option<xread::BlockSpec>,
}

/// One propagated command: `argv[0]` is the name.
pub type ReplArgv<'a> = Vec<Cow<'a, [u8]>>;

/// One command to propagate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Propagation<'a> {
    /// An argument vector, `[0]` the name.
    Argv(ReplArgv<'a>),
    /// `idmp.xclaim ...`, one per entry a group read or claim delivers,
    /// kept as its values so that the glue sends it without building an
    /// argument vector ([`cg::XclaimEffect::argv`] is its bytes).
    Xclaim(cg::XclaimEffect<'a>),
}

impl<'a> Propagation<'a> {
    /// The command as an argument vector.
    pub fn argv(&self) -> ReplArgv<'a> {
        match self {
            Propagation::Argv(a) => a.clone(),
            Propagation::Xclaim(x) => x.argv(),
        }
    }

    /// The same command owning every argument.
    pub fn into_owned(self) -> Propagation<'static> {
        let owned = match self {
            Propagation::Argv(a) => a,
            Propagation::Xclaim(x) => x.argv(),
        };
        Propagation::Argv(
            owned
                .into_iter()
                .map(|x| Cow::Owned(x.into_owned()))
                .collect(),
        )
    }
}

impl<'a> Effects<'a> {
    /// Queues one command for propagation.
    pub fn propagate<I, A>(&mut self, argv: I)
    where
        I: IntoIterator<Item = A>,
        A: Into<Vec<u8>>,
    {
        self.push_argv(argv.into_iter().map(|a| Cow::Owned(a.into())).collect());
    }

    /// Queues one command given as an argument vector.
    pub fn push_argv(&mut self, argv: ReplArgv<'a>) {
        self.replicate.push(Propagation::Argv(argv));
    }

    /// The same effects owning every argument.
    pub fn into_owned(self) -> Effects<'static> {
        Effects {
            replicate: self
                .replicate
                .into_iter()
                .map(Propagation::into_owned)
                .collect(),
            events: self.events,
            signal_ready: self.signal_ready,
            create: self.create,
            new_stream: self.new_stream,
            block: self.block,
        }
    }

    /// The propagated commands as owned byte vectors.
    pub fn owned_argvs(&self) -> Vec<Vec<Vec<u8>>> {
        self.replicate
            .iter()
            .map(|p| p.argv().iter().map(|x| x.to_vec()).collect())
            .collect()
    }

    /// Queues one command given as owned arguments.
    pub fn push_owned(&mut self, argv: Vec<Vec<u8>>) {
        self.propagate(argv);
    }
}

/// A full error reply text, e.g. `ERR syntax error`.
pub type CmdError = String;

/// A parsed command, borrowing its arguments from argv.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request<'a> {
    /// XADD.
    Xadd(xadd::XaddRequest<'a>),
    /// XRANGE / XREVRANGE.
    Range(range::RangeRequest<'a>),
    /// XLEN.
    Xlen(xlen::XlenRequest<'a>),
    /// XDEL.
    Xdel(xdel::XdelRequest<'a>),
    /// XTRIM.
    Xtrim(xtrim::XtrimRequest<'a>),
    /// XSETID.
    Xsetid(xsetid::XsetidRequest<'a>),
    /// XINFO (STREAM, GROUPS, CONSUMERS, HELP).
    Xinfo(xinfo::XinfoRequest<'a>),
    /// XCFGSET.
    Xcfgset(xcfgset::XcfgsetRequest<'a>),
    /// XIDMPRECORD.
    Xidmprecord(xidmprecord::XidmprecordRequest<'a>),
    /// The internal `idmp.idmpcounters`.
    Counters(counters::CountersRequest<'a>),

    /// XGROUP.
    Xgroup(xgroup::XgroupRequest<'a>),
    /// XREAD / XREADGROUP (several keys: see [`xread::XreadRequest::exec_multi`]).
    Xread(xread::XreadRequest<'a>),
    /// XACK.
    Xack(xack::XackRequest<'a>),
    /// XPENDING.
    Xpending(xpending::XpendingRequest<'a>),
    /// XCLAIM.
    Xclaim(xclaim::XclaimRequest<'a>),
    /// XAUTOCLAIM.
    Xautoclaim(xautoclaim::XautoclaimRequest<'a>),
    /// XDELEX / XACKDEL (Redis 8.2).
    Xdelex(xdelex::XdelexRequest<'a>),
}

/// The command names [`parse`] serves (after `idmp.`), lower case.
const PARSED: &[&str] = &[
    "xadd",
    "xrange",
    "xrevrange",
    "xlen",
    "xdel",
    "xtrim",
    "xsetid",
    "xinfo",
    "xcfgset",
    "xidmprecord",
    "idmpcounters",
    "xgroup",
    "xread",
    "xreadgroup",
    "xack",
    "xpending",
    "xclaim",
    "xautoclaim",
    "xdelex",
    "xackdel",
];

/// Parses a routed command. argv\[0\] is the name as typed (`XADD`, `xadd`,
/// or the module's `idmp.xadd`); errors name the native command in lowercase
/// (`'xadd'`, also for `idmp.xadd`: clients only know the native names).
pub fn parse<'a>(argv: &[&'a [u8]], ctx: &ExecCtx) -> Result<Request<'a>, CmdError> {
    let name0 = argv.first().copied().unwrap_or_default();
    // The command name without allocating: `idmp.` stripped, matched
    // case-insensitively against the names served (the hot path of every
    // routed command).
    let c = util::cstr(name0);
    let stripped = match c.get(..5) {
        Some(p) if c.len() > 5 && p.eq_ignore_ascii_case(b"idmp.") => c.get(5..).unwrap_or(c),
        _ => c,
    };
    let base: &str = PARSED
        .iter()
        .find(|n| stripped.eq_ignore_ascii_case(n.as_bytes()))
        .copied()
        .unwrap_or("");
    Ok(match base {
        "xadd" => Request::Xadd(xadd::XaddRequest::parse(argv, ctx, base)?),
        "xrange" => Request::Range(range::RangeRequest::parse(argv, false, base)?),
        "xrevrange" => Request::Range(range::RangeRequest::parse(argv, true, base)?),
        "xlen" => Request::Xlen(xlen::XlenRequest::parse(argv, base)?),
        "xdel" => Request::Xdel(xdel::XdelRequest::parse(argv, base)?),
        "xtrim" => Request::Xtrim(xtrim::XtrimRequest::parse(argv, ctx, base)?),
        "xsetid" => Request::Xsetid(xsetid::XsetidRequest::parse_ctx(argv, base, ctx.trusted)?),
        "xinfo" => Request::Xinfo(xinfo::XinfoRequest::parse(argv, base)?),
        "xcfgset" => Request::Xcfgset(xcfgset::XcfgsetRequest::parse(argv, base)?),
        "xidmprecord" => {
            Request::Xidmprecord(xidmprecord::XidmprecordRequest::parse(argv, ctx, base)?)
        }
        "idmpcounters" => Request::Counters(counters::CountersRequest::parse(
            argv,
            ctx,
            &util::lower_name(name0),
        )?),
        "xgroup" => Request::Xgroup(xgroup::XgroupRequest::parse_ctx(argv, base, ctx.trusted)?),
        "xread" => Request::Xread(xread::XreadRequest::parse(argv, false, base)?),
        "xreadgroup" => Request::Xread(xread::XreadRequest::parse(argv, true, base)?),
        "xack" => Request::Xack(xack::XackRequest::parse(argv, base)?),
        "xpending" => Request::Xpending(xpending::XpendingRequest::parse(argv, base)?),
        "xclaim" => Request::Xclaim(xclaim::XclaimRequest::parse(argv, base)?),
        "xautoclaim" => Request::Xautoclaim(xautoclaim::XautoclaimRequest::parse(argv, base)?),
        "xdelex" => Request::Xdelex(xdelex::XdelexRequest::parse(argv, false, base)?),
        "xackdel" => Request::Xdelex(xdelex::XdelexRequest::parse(argv, true, base)?),
        _ => {
            return Err(format!(
                "ERR unknown command '{}'",
                util::show(name0).chars().take(128).collect::<String>()
            ))
        }
    })
}

impl<'a> Request<'a> {
    /// The key the command works on (`None` for XINFO HELP).
    pub fn key(&self) -> Option<&'a [u8]> {
        match self {
            Request::Xadd(r) => Some(r.key),
            Request::Range(r) => Some(r.key),
            Request::Xlen(r) => Some(r.key),
            Request::Xdel(r) => Some(r.key),
            Request::Xtrim(r) => Some(r.key),
            Request::Xsetid(r) => Some(r.key),
            Request::Xinfo(r) => r.key(),
            Request::Xcfgset(r) => Some(r.key),
            Request::Xidmprecord(r) => Some(r.key),
            Request::Counters(r) => Some(r.key),
            Request::Xgroup(r) => r.key(),
            Request::Xread(r) => r.keys.first().copied(),
            Request::Xack(r) => Some(r.key),
            Request::Xpending(r) => Some(r.key),
            Request::Xclaim(r) => Some(r.key),
            Request::Xautoclaim(r) => Some(r.key),
            Request::Xdelex(r) => Some(r.key),
        }
    }

    /// True when a native stream under the key must be converted to a module
    /// stream before [`Request::exec`] (features Redis 7.0 does not have).
    pub fn needs_module_stream(&self) -> bool {
        match self {
            Request::Xadd(r) => r.needs_module_stream(),
            Request::Xtrim(r) => r.needs_module_stream(),
            Request::Xread(r) => r.needs_module_stream(),
            Request::Xcfgset(_)
            | Request::Xidmprecord(_)
            | Request::Counters(_)
            | Request::Xdelex(_) => true,
            _ => false,
        }
    }

    /// [`Request::needs_module_stream`] on a host that serves some of those
    /// features natively on its own streams: a native stream then stays
    /// native (the host answers), and only the module-only features (IDMP,
    /// stream IDMP settings, and whatever the host lacks) convert it.
    pub fn needs_module_stream_on(&self, native: NativeFeatures) -> bool {
        match self {
            Request::Xadd(r) => {
                r.args.idmp.is_some()
                    || r.args.create_settings.is_some()
                    || (r.args.delete_strategy.is_some() && !native.ref_options)
            }
            Request::Xtrim(r) => r.delete_strategy.is_some() && !native.ref_options,
            Request::Xread(r) => r.claim.is_some() && !native.claim,
            Request::Xdelex(r) if r.group.is_some() => !native.xackdel,
            Request::Xdelex(_) => !native.xdelex,
            _ => self.needs_module_stream(),
        }
    }

    /// True when a missing key is created (XADD without NOMKSTREAM).
    pub fn creates_key(&self) -> bool {
        match self {
            Request::Xadd(r) => r.creates_key(),
            Request::Xgroup(r) => r.creates_key(),
            _ => false,
        }
    }

    /// True for commands that may modify the key (opened for writing).
    pub fn is_write(&self) -> bool {
        match self {
            Request::Xread(r) => r.is_write(),
            _ => !matches!(
                self,
                Request::Range(_) | Request::Xlen(_) | Request::Xinfo(_) | Request::Xpending(_)
            ),
        }
    }

    /// Runs the command on the stream under the key (`None`: key missing),
    /// writing the reply to `reply`.
    pub fn exec(
        &self,
        stream: Option<&mut Stream>,
        ctx: &ExecCtx,
        reply: &mut dyn Reply,
    ) -> Effects<'_> {
        match self {
            Request::Xadd(r) => r.exec(stream, ctx, reply),
            Request::Range(r) => r.exec(stream.map(|s| &*s), reply),
            Request::Xlen(r) => r.exec(stream.map(|s| &*s), reply),
            Request::Xdel(r) => r.exec(stream, ctx, reply),
            Request::Xtrim(r) => r.exec(stream, ctx, reply),
            Request::Xsetid(r) => r.exec(stream, ctx, reply),
            Request::Xinfo(r) => r.exec(stream, ctx, reply),
            Request::Xcfgset(r) => r.exec(stream, ctx, reply),
            Request::Xidmprecord(r) => r.exec(stream, ctx, reply),
            Request::Counters(r) => r.exec(stream, ctx, reply),
            Request::Xgroup(r) => r.exec(stream, ctx, reply),
            Request::Xread(r) => {
                // One stream for every key naming it; another key answers
                // an internal error: the glue uses exec_multi for those.
                let mut lookup = xread::SingleKey {
                    key: r.keys.first().copied().unwrap_or_default(),
                    stream,
                };
                let (outcome, per_key) = r.exec_multi(&mut lookup, ctx, reply, None);
                let mut fx = Effects::default();
                for (_, k) in per_key {
                    fx.replicate.extend(k.replicate);
                    fx.events.extend(k.events);
                }
                if let xread::XreadOutcome::Block(spec) = outcome {
                    fx.block = Some(spec);
                }
                fx
            }
            Request::Xack(r) => r.exec(stream, reply),
            Request::Xpending(r) => r.exec(stream.map(|s| &*s), ctx, reply),
            Request::Xclaim(r) => r.exec(stream, ctx, reply),
            Request::Xautoclaim(r) => r.exec(stream, ctx, reply),
            Request::Xdelex(r) => r.exec(stream, reply),
        }
    }
}
