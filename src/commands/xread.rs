//! XREAD and XREADGROUP, a port of Redis 7.0's `xreadCommand` without the
//! blocking itself, which is the glue's: [`XreadRequest::exec_multi`]
//! answers synchronously when it can and otherwise returns
//! [`XreadOutcome::Block`] with everything the glue must keep (the start
//! IDs resolved at call time, `$` included). When a key the client waits on
//! is signalled, the glue calls `exec_multi` again with that spec
//! (`resume`): as Redis 7.2+ re-runs the command, a deleted key or
//! destroyed group then answers the NOGROUP error, a still-empty read
//! blocks again, and entries are served with COUNT (or 1000, as 7.0's
//! `XREAD_BLOCKED_DEFAULT_COUNT`).
//!
//! The glue opens keys through [`KeyLookup`] (one key at a time, in
//! argument order; a key may be named twice), and receives the effects of
//! each key (XREADGROUP's PEL changes, propagated as 7.0 does as
//! `idmp.xclaim` / `idmp.xgroup SETID` / `idmp.xgroup CREATECONSUMER`).
//!
//! Newer than 7.0: XREAD's `+` ID (Redis 7.4) reads the last entry of the
//! stream whatever COUNT says; on an empty or missing stream it waits like
//! `$`. XREADGROUP answers an error for it. XREADGROUP's `CLAIM
//! min-idle-time` (Redis 8.4): see [`super::xreadgroup`].

use super::cg::propagate_consumer_creation;
use super::range::reply_entry;
use super::recorder::Recorder;
use super::reply::Reply;
use super::util::{check_arity, is_char, is_kw, parse_ll, plain_decimal, show, ERR_SYNTAX};
use super::xreadgroup::{claimable, serve_group, ServeOpts};
use super::{CmdError, Effects, ExecCtx};
use crate::stream::id::{parse_strict_id, string2ll, ERR_INVALID_ID};
use crate::stream::stream::Stream;
use crate::stream::StreamId;

/// `XREAD_BLOCKED_DEFAULT_COUNT`.
pub const BLOCKED_DEFAULT_COUNT: u64 = 1000;

/// How the glue opens the keys of an XREAD.
pub trait KeyLookup {
    /// The stream under `key`: `Ok(None)` when missing, `Err(reply)` for a
    /// key of another type (the WRONGTYPE text).
    fn stream(&mut self, key: &[u8]) -> Result<Option<&mut Stream>, CmdError>;
}

/// Where reading starts on one key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadStart {
    /// Entries (or, with a group, own pending entries) after this ID.
    After(StreamId),
    /// `>`: entries never delivered to the group.
    New,
    /// `+` (XREAD, Redis 7.4): the last entry; when the stream has none,
    /// like `$` with the ID given here.
    Last(StreamId),
}

/// What the glue keeps while a client is blocked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockSpec {
    /// BLOCK's timeout in ms; 0 waits forever.
    pub timeout_ms: u64,
    /// The start of each key, in argument order (`$` resolved).
    pub starts: Vec<ReadStart>,
    /// The COUNT used when served after blocking.
    pub count: u64,
    /// XREADGROUP CLAIM: when (ms since the epoch) a pending entry of one of
    /// the keys becomes claimable, so the blocked read must run again even
    /// without a write (Redis 8.4's stream_claim_pending_keys): the oldest
    /// delivery time of the keys' PELs plus min-idle-time, or now plus
    /// min-idle-time when the PELs are empty.
    pub claim_wake_ms: Option<u64>,
}

/// The result of [`XreadRequest::exec_multi`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum XreadOutcome {
    /// A reply was written.
    Replied,
    /// Nothing to serve and BLOCK was given: nothing was written. The glue
    /// blocks the client on every key, or, when it may not block (MULTI,
    /// scripts with `CLIENT_DENY_BLOCKING`), answers a null array.
    Block(BlockSpec),
}

/// A parsed XREAD / XREADGROUP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XreadRequest<'a> {
    /// The command name as typed (for the script error).
    pub name: String,
    /// XREADGROUP.
    pub xreadgroup: bool,
    /// BLOCK timeout in ms (0 = forever), `None` without BLOCK.
    pub block: Option<u64>,
    /// COUNT (0 = no limit).
    pub count: u64,
    /// GROUP group consumer.
    pub group: Option<(&'a [u8], &'a [u8])>,
    /// NOACK.
    pub noack: bool,
    /// CLAIM min-idle-time (Redis 8.4, XREADGROUP only).
    pub claim: Option<u64>,
    /// The keys.
    pub keys: Vec<&'a [u8]>,
    /// The ID arguments, one per key.
    pub ids: Vec<&'a [u8]>,
}

impl<'a> XreadRequest<'a> {
    /// Parses XREAD (`xreadgroup` false) or XREADGROUP outside scripts.
    pub fn parse(argv: &[&'a [u8]], xreadgroup: bool, name: &str) -> Result<Self, CmdError> {
        Self::parse_in(argv, xreadgroup, name, false)
    }

    /// Parses; `in_script`: BLOCK answers 7.0's script error where it is met.
    pub fn parse_in(
        argv: &[&'a [u8]],
        xreadgroup: bool,
        name: &str,
        in_script: bool,
    ) -> Result<Self, CmdError> {
        check_arity(argv, if xreadgroup { -7 } else { -4 }, name)?;
        let arg = |i: usize| argv.get(i).copied().unwrap_or_default();
        let argc = argv.len();
        let mut r = XreadRequest {
            name: name.to_string(),
            xreadgroup,
            block: None,
            count: 0,
            group: None,
            noack: false,
            claim: None,
            keys: Vec::new(),
            ids: Vec::new(),
        };
        let mut streams_arg = 0;
        let mut i = 1;
        while i < argc {
            let more = argc - i - 1;
            let o = arg(i);
            if is_kw(o, "BLOCK") && more > 0 {
                if in_script {
                    return Err(format!(
                        "ERR {name} command is not allowed with BLOCK option from scripts"
                    ));
                }
                i += 1;
                let t = string2ll(arg(i)).ok_or("ERR timeout is not an integer or out of range")?;
                if t < 0 {
                    return Err("ERR timeout is negative".into());
                }
                r.block = Some(t as u64);
            } else if is_kw(o, "COUNT") && more > 0 {
                i += 1;
                r.count = parse_ll(arg(i))?.max(0) as u64;
            } else if is_kw(o, "STREAMS") && more > 0 {
                streams_arg = i + 1;
                let n = argc - streams_arg;
                if !n.is_multiple_of(2) {
                    // Redis 7.4+ names the command and the IDs it takes.
                    let (cmd, symbol) = if xreadgroup {
                        ("xreadgroup", "ID or '>'")
                    } else {
                        ("xread", "ID, '+', or '$'")
                    };
                    return Err(format!(
                        "ERR Unbalanced '{cmd}' list of streams: for each stream key an \
                         {symbol} must be specified."
                    ));
                }
                let half = n / 2;
                r.keys = argv
                    .get(streams_arg..streams_arg + half)
                    .unwrap_or_default()
                    .to_vec();
                r.ids = argv.get(streams_arg + half..).unwrap_or_default().to_vec();
                break;
            } else if is_kw(o, "GROUP") && more >= 2 {
                if !xreadgroup {
                    return Err("ERR The GROUP option is only supported by XREADGROUP. You \
                                called XREAD instead."
                        .into());
                }
                r.group = Some((arg(i + 1), arg(i + 2)));
                i += 2;
            } else if is_kw(o, "CLAIM") && more > 0 {
                if !xreadgroup {
                    return Err("ERR The CLAIM option is only supported by XREADGROUP. You \
                                called XREAD instead."
                        .into());
                }
                i += 1;
                let v = string2ll(arg(i))
                    .ok_or("ERR min-idle-time is not an integer or out of range")?;
                if v < 0 {
                    return Err("ERR min-idle-time must be a positive integer".into());
                }
                r.claim = Some(v as u64);
            } else if is_kw(o, "NOACK") {
                if !xreadgroup {
                    return Err("ERR The NOACK option is only supported by XREADGROUP. You \
                                called XREAD instead."
                        .into());
                }
                r.noack = true;
            } else {
                return Err(ERR_SYNTAX.into());
            }
            i += 1;
        }
        if streams_arg == 0 {
            return Err(ERR_SYNTAX.into());
        }
        if xreadgroup && r.group.is_none() {
            return Err("ERR Missing GROUP option for XREADGROUP".into());
        }
        Ok(r)
    }

    /// The common forms, `XREAD [COUNT n] STREAMS key... id...` and
    /// `XREADGROUP GROUP g c [COUNT n] [NOACK] STREAMS key... id...` (`n` a
    /// plain decimal, options in this order and spelling, any case), as
    /// `(first key, number of keys)`, without the parse's allocations:
    /// [`XreadRequest::parse`] accepts each of them with no BLOCK or CLAIM
    /// and these keys and IDs. `None` says nothing: the caller then parses.
    /// The command filter asks this of every XREAD it may leave to the host.
    pub fn quick_split(argv: &[&[u8]], xreadgroup: bool) -> Option<(usize, usize)> {
        let kw = |i: usize, k: &[u8]| argv.get(i).is_some_and(|a| a.eq_ignore_ascii_case(k));
        let mut i = 1;
        if xreadgroup {
            if !kw(1, b"group") || argv.len() < 4 {
                return None;
            }
            i = 4;
        }
        if kw(i, b"count") && argv.get(i + 1).is_some_and(|n| plain_decimal(n, 18)) {
            i += 2;
        }
        if xreadgroup && kw(i, b"noack") {
            i += 1;
        }
        let n = argv.len().checked_sub(i + 1)?;
        (kw(i, b"streams") && n >= 2 && n % 2 == 0).then_some((i + 1, n / 2))
    }

    /// True when native streams among the keys must be converted first:
    /// features Redis 7.0 lacks (CLAIM, the `+` ID).
    ///
    /// Only CLAIM (Redis 8.4) does: the `+` ID (7.4) is served on module
    /// streams, while a native stream keeps answering natively (SPEC 9: a
    /// native stream is forwarded unchanged until a command needs IDMP or a
    /// Redis 8.x option).
    pub fn needs_module_stream(&self) -> bool {
        self.claim.is_some()
    }

    /// True for XREADGROUP (a write: it changes the group).
    pub fn is_write(&self) -> bool {
        self.xreadgroup
    }

    /// Resolves each key's start and checks the groups, in argument order
    /// (the first problem is the reply).
    fn resolve(
        &self,
        lookup: &mut dyn KeyLookup,
        resume: Option<&BlockSpec>,
    ) -> Result<Vec<ReadStart>, CmdError> {
        let mut starts = Vec::with_capacity(self.keys.len());
        for (i, key) in self.keys.iter().enumerate() {
            // Resumed after blocking, a key of another type is as good as
            // missing: XREAD keeps waiting, XREADGROUP answers NOGROUP (Redis
            // 7.2+ unblocks group readers whose key was deleted or overwritten).
            let s = match lookup.stream(key) {
                Ok(s) => s,
                Err(_) if resume.is_some() => None,
                Err(e) => return Err(e),
            };
            if let Some((group, _)) = self.group {
                if s.as_deref().and_then(|s| s.groups.get(group)).is_none() {
                    return Err(format!(
                        "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
                        show(key),
                        show(group)
                    ));
                }
            }
            if let Some(r) = resume {
                starts.push(r.starts.get(i).copied().unwrap_or(ReadStart::New));
                continue;
            }
            let a = self.ids.get(i).copied().unwrap_or_default();
            if is_char(a, b'$') {
                if self.xreadgroup {
                    return Err(
                        "ERR The $ ID is meaningless in the context of XREADGROUP: you \
                                want to read the history of this consumer by specifying a proper \
                                ID, or use the > ID to get new messages. The $ ID would just \
                                return an empty result set."
                            .into(),
                    );
                }
                starts.push(ReadStart::After(
                    s.as_deref().map_or(StreamId::MIN, |s| s.last_id),
                ));
            } else if is_char(a, b'+') {
                if self.xreadgroup {
                    return Err(
                        "ERR The + ID is meaningless in the context of XREADGROUP: you \
                                want to read the history of this consumer by specifying a proper \
                                ID, or use the > ID to get new messages. The + ID would just \
                                return an empty result set."
                            .into(),
                    );
                }
                starts.push(ReadStart::Last(
                    s.as_deref().map_or(StreamId::MIN, |s| s.last_id),
                ));
            } else if is_char(a, b'>') {
                if !self.xreadgroup {
                    return Err(
                        "ERR The > ID can be specified only when calling XREADGROUP \
                                using the GROUP <group> <consumer> option."
                            .into(),
                    );
                }
                starts.push(ReadStart::New);
            } else {
                let id = parse_strict_id(a).ok_or(ERR_INVALID_ID)?;
                // 7.0 marks `>` with the largest ID: given explicitly to
                // XREADGROUP, it reads new entries too.
                if self.xreadgroup && id == StreamId::MAX {
                    starts.push(ReadStart::New);
                } else {
                    starts.push(ReadStart::After(id));
                }
            }
        }
        Ok(starts)
    }

    /// Whether key `i` is served now (`serve_synchronously`): from which
    /// ID (exclusive), whether from the consumer's history, and a COUNT
    /// that overrides the command's (`+` serves one entry).
    fn decide(
        &self,
        s: &Stream,
        start: ReadStart,
        now: u64,
    ) -> Option<(StreamId, bool, Option<u64>)> {
        let maxid = s.store.last_id();
        match (self.group, start) {
            (Some(_), ReadStart::After(id)) => Some((id, true, None)),
            (Some((group, _)), ReadStart::New) => {
                let g = s.groups.get(group)?;
                let last = g.last_id;
                let claimable = self
                    .claim
                    .is_some_and(|min| claimable(s, g, now, min).next().is_some());
                (claimable || maxid? > last).then_some((last, false, None))
            }
            (None, ReadStart::After(id)) => (maxid? > id).then_some((id, false, None)),
            (None, ReadStart::Last(_)) => Some((maxid?.decr()?, false, Some(1))),
            (None, ReadStart::New) | (Some(_), ReadStart::Last(_)) => None,
        }
    }

    /// Runs the command over the keys (see the module docs); returns the
    /// outcome and the effects of each key that changed, in order.
    pub fn exec_multi(
        &self,
        lookup: &mut dyn KeyLookup,
        ctx: &ExecCtx,
        reply: &mut dyn Reply,
        resume: Option<&BlockSpec>,
    ) -> (XreadOutcome, Vec<(&'a [u8], Effects<'a>)>) {
        let mut effects = Vec::new();
        let starts = match self.resolve(lookup, resume) {
            Ok(s) => s,
            Err(e) => {
                reply.error(&e);
                return (XreadOutcome::Replied, effects);
            }
        };
        // Redis 7.2+: XREADGROUP looks its consumer up (seen-time) or creates
        // it on every key whose group exists, whether or not it is served.
        if let Some((group, consumer)) = self.group {
            for key in &self.keys {
                if let Ok(Some(s)) = lookup.stream(key) {
                    if let Some(g) = s.groups.get_mut(group) {
                        if g.ensure_consumer(consumer, ctx.now_ms) {
                            let mut fx = Effects::default();
                            fx.events.push("xgroup-createconsumer");
                            propagate_consumer_creation(&mut fx, key, group, consumer);
                            effects.push((*key, fx));
                        }
                    }
                }
            }
        }
        let count = match resume {
            Some(r) => r.count,
            None => self.count,
        };
        let unique = self
            .keys
            .iter()
            .enumerate()
            .all(|(i, k)| !self.keys.iter().take(i).any(|p| p == k));
        let resp3 = reply.is_resp3();
        let mut served = 0usize;
        let mut rec = Recorder::new(resp3);
        if unique {
            // Decisions are independent: count first, then write directly.
            for (key, start) in self.keys.iter().zip(&starts) {
                if let Ok(Some(s)) = lookup.stream(key) {
                    if self.decide(s, *start, ctx.now_ms).is_some() {
                        served += 1;
                    }
                }
            }
            if served > 0 {
                header(reply, served);
                self.serve_all(lookup, ctx, reply, &starts, count, &mut effects);
            }
        } else {
            served = self.serve_all(lookup, ctx, &mut rec, &starts, count, &mut effects);
            if served > 0 {
                header(reply, served);
                rec.replay(reply);
            }
        }
        if served > 0 {
            return (XreadOutcome::Replied, effects);
        }
        match self.block {
            Some(timeout_ms) => (
                XreadOutcome::Block(BlockSpec {
                    claim_wake_ms: self.claim_wake(lookup, ctx.now_ms),
                    timeout_ms,
                    starts: starts
                        .into_iter()
                        .map(|st| match st {
                            ReadStart::Last(id) => ReadStart::After(id),
                            other => other,
                        })
                        .collect(),
                    count: if self.count == 0 {
                        BLOCKED_DEFAULT_COUNT
                    } else {
                        self.count
                    },
                }),
                effects,
            ),
            None => {
                reply.null_array();
                (XreadOutcome::Replied, effects)
            }
        }
    }

    /// See [`BlockSpec::claim_wake_ms`]: the oldest delivery time among the
    /// keys' group PELs (entries still in the stream) plus min-idle-time.
    fn claim_wake(&self, lookup: &mut dyn KeyLookup, now: u64) -> Option<u64> {
        let min_idle = self.claim?;
        let (group, _) = self.group?;
        let mut oldest: Option<u64> = None;
        for key in &self.keys {
            let Ok(Some(s)) = lookup.stream(key) else {
                continue;
            };
            let Some(g) = s.groups.get(group) else {
                continue;
            };
            for (id, n) in g.pel() {
                if s.store.get(id).is_some() {
                    oldest = Some(oldest.map_or(n.delivery_time, |o| o.min(n.delivery_time)));
                }
            }
        }
        Some(oldest.unwrap_or(now).saturating_add(min_idle))
    }

    /// Decides and serves each key in turn; returns how many were served.
    fn serve_all(
        &self,
        lookup: &mut dyn KeyLookup,
        ctx: &ExecCtx,
        reply: &mut dyn Reply,
        starts: &[ReadStart],
        count: u64,
        effects: &mut Vec<(&'a [u8], Effects<'a>)>,
    ) -> usize {
        let mut served = 0;
        for (key, start) in self.keys.iter().zip(starts) {
            let Ok(Some(s)) = lookup.stream(key) else {
                continue;
            };
            let Some((gt, history, only)) = self.decide(s, *start, ctx.now_ms) else {
                continue;
            };
            let count = only.unwrap_or(count);
            served += 1;
            if !reply.is_resp3() {
                reply.array(2);
            }
            reply.bulk(key);
            // streamIncrID of the largest ID wraps to 0-0.
            let from = gt.incr().unwrap_or(StreamId::MIN);
            match self.group {
                Some((group, consumer)) => {
                    let opts = ServeOpts {
                        from,
                        count,
                        noack: self.noack,
                        history,
                        claim: self.claim,
                    };
                    let fx = serve_group(s, key, group, consumer, &opts, ctx, reply);
                    effects.push((*key, fx));
                }
                None => {
                    let limit = if count == 0 {
                        usize::MAX
                    } else {
                        usize::try_from(count).unwrap_or(usize::MAX)
                    };
                    let entries: Vec<_> = s.store.range(from, StreamId::MAX).take(limit).collect();
                    reply.array(entries.len());
                    for e in &entries {
                        reply_entry(reply, e);
                    }
                }
            }
        }
        served
    }
}

/// The top-level header: a map of key -> entries (RESP3) or an array of
/// `[key, entries]` pairs (RESP2).
fn header(reply: &mut dyn Reply, n: usize) {
    if reply.is_resp3() {
        reply.map(n);
    } else {
        reply.array(n);
    }
}

/// A [`KeyLookup`] over one stream: every key equal to `key` is that
/// stream; any other key is an error (the single-key path of
/// `Request::exec`).
pub struct SingleKey<'s, 'k> {
    /// The key.
    pub key: &'k [u8],
    /// Its stream.
    pub stream: Option<&'s mut Stream>,
}

impl KeyLookup for SingleKey<'_, '_> {
    fn stream(&mut self, key: &[u8]) -> Result<Option<&mut Stream>, CmdError> {
        if key != self.key {
            return Err("ERR internal error: a multi-key XREAD needs exec_multi".into());
        }
        Ok(self.stream.as_deref_mut())
    }
}
