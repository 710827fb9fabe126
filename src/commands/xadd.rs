//! XADD, with the Redis 8.6 IDMP/IDMPAUTO options (SPEC sections 1-3) on top
//! of a port of Redis 7.0's `xaddCommand`.

use std::borrow::Cow;

use super::reply::Reply;
use super::trim_args::{exact_trim_argv, parse_add_or_trim, AddTrimArgs, IdmpOpt};
use super::util::{arity_error, check_arity};
use super::{CmdError, Effects, ExecCtx, ReplArgv};
use crate::stream::digest::idmpauto_iid;
use crate::stream::stream::{IdRequest, Stream};
use crate::stream::StreamId;

/// Largest total size of an entry's fields and values (7.0's
/// `STREAM_LISTPACK_MAX_SIZE`).
pub const ELEMENTS_MAX_SIZE: u64 = 1 << 30;

/// A parsed XADD.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XaddRequest<'a> {
    /// The key.
    pub key: &'a [u8],
    /// The options and the ID.
    pub args: AddTrimArgs<'a>,
    /// `f, v, f, v, ...` (an even, non-zero count).
    pub fields: Vec<&'a [u8]>,
}

impl<'a> XaddRequest<'a> {
    /// Parses XADD: options (SPEC 1 errors included), then the field/value
    /// count, then the `0-0` check, all before the key is looked up.
    pub fn parse(argv: &[&'a [u8]], ctx: &ExecCtx, name: &str) -> Result<Self, CmdError> {
        check_arity(argv, -5, name)?;
        let args = parse_add_or_trim(argv, true, ctx.trusted, ctx.limits.max_entries)?;
        let field_pos = args.id_pos + 1;
        let nfields = argv.len() as i64 - field_pos as i64;
        if nfields < 2 || nfields % 2 == 1 {
            return Err(arity_error(name));
        }
        if args.id == IdRequest::Explicit(StreamId::MIN) {
            return Err("ERR The ID specified in XADD must be greater than 0-0".into());
        }
        Ok(XaddRequest {
            key: argv.get(1).copied().unwrap_or_default(),
            args,
            fields: argv.get(field_pos..).unwrap_or_default().to_vec(),
        })
    }

    /// IDMP, IDMPAUTO and the 8.2 options exist only on module streams; a
    /// propagated creation (`IDMPCFG`) made a module stream on the master, so
    /// it makes one on the replica whatever its capture setting.
    pub fn needs_module_stream(&self) -> bool {
        self.args.idmp.is_some()
            || self.args.delete_strategy.is_some()
            || self.args.create_settings.is_some()
    }

    /// A missing key is created unless NOMKSTREAM was given.
    pub fn creates_key(&self) -> bool {
        !self.args.nomkstream
    }

    /// True when NOMKSTREAM was given: on a missing key the reply is a null
    /// (RESP2 `$-1`) and nothing is created.
    pub fn nomkstream(&self) -> bool {
        self.args.nomkstream
    }

    /// Runs XADD. With `None` and no NOMKSTREAM, a stream with `ctx.defaults`
    /// (or the trusted `IDMPCFG` settings) is created and returned in
    /// [`Effects::new_stream`]; its propagation then carries
    /// `IDMPCFG <duration> <maxsize>` so that replicas create it alike.
    pub fn exec(
        &self,
        stream: Option<&mut Stream>,
        ctx: &ExecCtx,
        reply: &mut dyn Reply,
    ) -> Effects<'a> {
        let mut fx = Effects::default();
        match stream {
            Some(s) => {
                self.run(s, false, ctx, reply, &mut fx);
            }
            None if self.args.nomkstream => reply.null(),
            None => {
                let mut s = Stream::new(self.args.create_settings.unwrap_or(ctx.defaults));
                if self.run(&mut s, true, ctx, reply, &mut fx) {
                    fx.create = true;
                    fx.new_stream = Some(Box::new(s));
                }
            }
        }
        fx
    }

    /// Returns true when an entry was appended. `created`: `s` is new.
    fn run(
        &self,
        s: &mut Stream,
        created: bool,
        ctx: &ExecCtx,
        reply: &mut dyn Reply,
        fx: &mut Effects<'a>,
    ) -> bool {
        let auto_iid;
        let idmp: Option<(&[u8], &[u8])> = match self.args.idmp {
            Some(IdmpOpt::Explicit { pid, iid }) => Some((pid, iid)),
            Some(IdmpOpt::Auto { pid }) => {
                auto_iid = idmpauto_iid(&self.fields);
                Some((pid, &auto_iid[..]))
            }
            None => None,
        };
        let (id, recorded_at) = match (idmp, self.args.idmp_at) {
            (Some((pid, iid)), None) => {
                match idmp_add(s, pid, iid, self.args.id, &self.fields, ctx) {
                    IdmpAdd::Added { id, at } => (id, Some(at)),
                    IdmpAdd::Duplicate(id) => {
                        reply.stream_id(id);
                        fx.push_argv(counters_argv(self.key, s));
                        return false;
                    }
                    IdmpAdd::Failed(e) => {
                        reply.error(e);
                        return false;
                    }
                }
            }
            (idmp, idmp_at) => {
                s.idmp.expire(idmp_at.unwrap_or(ctx.now_ms));
                let id = match append_entry(s, self.args.id, &self.fields, ctx) {
                    Ok(id) => id,
                    Err(e) => {
                        reply.error(e);
                        return false;
                    }
                };
                let recorded_at = idmp.map(|(pid, iid)| {
                    let t = match idmp_at {
                        Some(t) => {
                            s.idmp.record_at(pid, iid, id, t);
                            t
                        }
                        None => s.idmp.record(pid, iid, id, ctx.now_ms),
                    };
                    s.idmp.iids_added = s.idmp.iids_added.saturating_add(1);
                    t
                });
                (id, recorded_at)
            }
        };
        reply.stream_id(id);
        fx.events.push("xadd");

        let mut trim_argv = None;
        let mut acks = Effects::default();
        if let Some(trim) = &self.args.trim {
            let (removed, ran) = super::trim_refs::trim_with_policy(
                s,
                self.key,
                trim,
                self.args.delete_strategy,
                &mut acks,
            );
            if removed > 0 {
                fx.events.push("xtrim");
            }
            if let super::trim_refs::TrimDone::Ran(ran) = ran {
                trim_argv = Some(exact_trim_argv(&ran, s.len(), s.store.first_id_any()));
            }
        }

        // The key, pid, iid (IDMP) and fields are the client's own strings.
        let mut argv: ReplArgv<'a> = Vec::with_capacity(self.fields.len() + 11);
        argv.push(Cow::Borrowed(b"idmp.xadd"));
        argv.push(Cow::Borrowed(self.key));
        if created {
            let cfg = s.idmp.settings();
            argv.push(Cow::Borrowed(b"IDMPCFG"));
            argv.push(Cow::Owned(cfg.duration_secs.to_string().into_bytes()));
            argv.push(Cow::Owned(cfg.maxsize.to_string().into_bytes()));
        }
        if let (Some((pid, iid)), Some(t)) = (idmp, recorded_at) {
            argv.push(Cow::Borrowed(b"IDMP"));
            match self.args.idmp {
                Some(IdmpOpt::Explicit { pid, iid }) => {
                    argv.push(Cow::Borrowed(pid));
                    argv.push(Cow::Borrowed(iid));
                }
                _ => {
                    argv.push(Cow::Owned(pid.to_vec()));
                    argv.push(Cow::Owned(iid.to_vec()));
                }
            }
            argv.push(Cow::Borrowed(b"IDMPAT"));
            argv.push(Cow::Owned(t.to_string().into_bytes()));
        }
        if let Some(t) = trim_argv {
            argv.extend(t.into_iter().map(Cow::Owned));
        }
        argv.push(Cow::Owned(id.to_bytes()));
        argv.extend(self.fields.iter().map(|f| Cow::Borrowed(*f)));
        fx.push_argv(argv);
        fx.replicate.extend(acks.replicate);
        fx.signal_ready = true;
        true
    }
}

/// Appends `fields` as one entry with the ID `id` resolves to, as 7.0's
/// `streamAppendItem` does; the error reply text when the ID is not
/// greater than the stream's last one (or the stream is exhausted) or the
/// entry is too large, with nothing changed.
pub fn append_entry(
    s: &mut Stream,
    id: IdRequest,
    fields: &[&[u8]],
    ctx: &ExecCtx,
) -> Result<StreamId, &'static str> {
    let id = s.resolve_id(id, ctx.now_ms).map_err(|e| e.message())?;
    // streamAppendItem's ERANGE: a listpack cannot hold more.
    let total: u64 = fields.iter().map(|f| f.len() as u64).sum();
    if total > ELEMENTS_MAX_SIZE {
        return Err("ERR Elements are too large to be stored");
    }
    s.append(id, fields, ctx.limits);
    Ok(id)
}

/// What an IDMP add did ([`idmp_add`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdmpAdd {
    /// A fresh iid: the entry `id` was appended and the iid recorded at `at`.
    Added {
        /// The entry's ID.
        id: StreamId,
        /// The iid's insertion time (milliseconds), propagated as `IDMPAT`.
        at: u64,
    },
    /// The iid is tracked: nothing appended, the duplicate counted.
    Duplicate(StreamId),
    /// The append failed with this error reply; nothing changed but expiry.
    Failed(&'static str),
}

/// `XADD key IDMP pid iid <id> fields...` (or IDMPAUTO, `iid` its digest) on
/// a stream, as a client sends it (no `IDMPAT`): expires, then answers a
/// tracked iid as a duplicate (counted), or appends the entry and records
/// the iid (counted).
pub fn idmp_add(
    s: &mut Stream,
    pid: &[u8],
    iid: &[u8],
    id: IdRequest,
    fields: &[&[u8]],
    ctx: &ExecCtx,
) -> IdmpAdd {
    s.idmp.expire(ctx.now_ms);
    // The lookup's hashes and places are reused to record a fresh pair.
    let probe = s.idmp.probe(pid, iid, ctx.now_ms);
    if let Some(id) = probe.found() {
        s.idmp.iids_duplicates = s.idmp.iids_duplicates.saturating_add(1);
        return IdmpAdd::Duplicate(id);
    }
    let id = match append_entry(s, id, fields, ctx) {
        Ok(id) => id,
        Err(e) => return IdmpAdd::Failed(e),
    };
    let at = s.idmp.record_probed(probe, id, ctx.now_ms);
    s.idmp.iids_added = s.idmp.iids_added.saturating_add(1);
    IdmpAdd::Added { id, at }
}

/// What a duplicate propagates: `idmp.idmpcounters key <added> <duplicates>`
/// (the lifetime counters, so that a replica's stay equal); the key is
/// borrowed (the glue passes the client's own string on).
pub fn counters_argv<'a>(key: &'a [u8], s: &Stream) -> ReplArgv<'a> {
    counters_argv_of(key, s.idmp.iids_added, s.idmp.iids_duplicates)
}

/// [`counters_argv`] of the counters `added` and `duplicates`.
pub fn counters_argv_of(key: &[u8], added: u64, duplicates: u64) -> ReplArgv<'_> {
    vec![
        Cow::Borrowed(b"idmp.idmpcounters"),
        Cow::Borrowed(key),
        Cow::Owned(added.to_string().into_bytes()),
        Cow::Owned(duplicates.to_string().into_bytes()),
    ]
}

/// The ID argument of a plain `XADD key <id> field value ...` (no option):
/// `*`, `ms`, `ms-seq` or `ms-*`. `None` for anything else, an option
/// keyword or `0-0` included: the general parser answers those.
pub fn plain_id(arg: &[u8]) -> Option<IdRequest> {
    if arg == b"*" {
        return Some(IdRequest::Auto);
    }
    let parsed = crate::stream::id::parse_id(arg, 0, true, true)?;
    if !parsed.seq_given {
        return Some(IdRequest::AutoSeq(parsed.id.ms));
    }
    (parsed.id != StreamId::MIN).then_some(IdRequest::Explicit(parsed.id))
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{bulk, ctx, parse_err, perr, repl, run, run_args, words};
    use super::super::trim_args::*;
    use super::super::{parse, ExecCtx, Request};
    use crate::stream::stream::{IdRequest, Stream};
    use crate::stream::StreamId;

    fn args(parts: &[&[u8]]) -> Vec<Vec<u8>> {
        parts.iter().map(|p| p.to_vec()).collect()
    }

    fn trusted(now: u64) -> ExecCtx {
        ExecCtx {
            trusted: true,
            ..ctx(now)
        }
    }

    fn xadd<'a>(argv: &'a [&'a [u8]], c: &ExecCtx) -> super::XaddRequest<'a> {
        match parse(argv, c) {
            Ok(Request::Xadd(r)) => r,
            other => panic!("{other:?}"),
        }
    }

    /// The strings as native Redis 8.6.3 answers them (compared with the real
    /// server in tests/test_idmp_vs86.py), and 8.6.3's order of checks.
    #[test]
    fn idmp_errors_as_redis_863() {
        let e = |s: &str| Some(s.to_string());
        assert_eq!(
            ERR_IDMP_TWICE,
            "ERR syntax error, IDMP/IDMPAUTO specified multiple times"
        );
        assert_eq!(
            ERR_IDMP_EMPTY_PID,
            "ERR syntax error, IDMP requires a non-empty producer ID"
        );
        assert_eq!(
            ERR_IDMP_EMPTY_IID,
            "ERR syntax error, IDMP requires a non-empty idempotent ID"
        );
        assert_eq!(
            ERR_IDMPAUTO_EMPTY_PID,
            "ERR syntax error, IDMPAUTO requires a non-empty producer ID"
        );
        assert_eq!(
            ERR_IDMP_EXPLICIT_ID,
            "ERR syntax error, IDMP/IDMPAUTO can be used only with auto-generated IDs"
        );
        // The explicit-ID check runs as soon as the ID parses: before the
        // LIMIT checks that follow the option loop, after the arguments
        // before the ID.
        assert_eq!(
            perr("XADD s IDMP p i LIMIT 5 1-1 f v"),
            e(ERR_IDMP_EXPLICIT_ID)
        );
        assert_eq!(
            perr("XADD s IDMP p i MAXLEN 1 LIMIT 5 1-1 f v"),
            e(ERR_IDMP_EXPLICIT_ID)
        );
        assert_eq!(
            perr("XADD s LIMIT 5 IDMP p i * f v"),
            e("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy")
        );
        assert_eq!(
            perr("XADD s IDMP p i MAXLEN x 1-1 f v"),
            e("ERR value is not an integer or out of range")
        );
        assert_eq!(perr("XADD s IDMP p i 1-1 f"), e(ERR_IDMP_EXPLICIT_ID));
        assert_eq!(perr("XADD s IDMP p i 0-0 f v"), e(ERR_IDMP_EXPLICIT_ID));
    }

    #[test]
    fn spec_errors_exact() {
        let e = |s: &str| Some(s.to_string());
        assert_eq!(
            perr("XADD s IDMP p1 i1 IDMP p2 i2 * f v"),
            e(ERR_IDMP_TWICE)
        );
        assert_eq!(perr("XADD s IDMPAUTO p IDMP a b * f v"), e(ERR_IDMP_TWICE));
        assert_eq!(perr("XADD s IDMP a b IDMPAUTO p * f v"), e(ERR_IDMP_TWICE));
        assert_eq!(
            perr("XADD s IDMPAUTO a idmpauto b * f v"),
            e(ERR_IDMP_TWICE)
        );
        let c = ctx(1000);
        assert_eq!(
            parse_err(
                &args(&[b"XADD", b"s", b"IDMP", b"", b"i", b"*", b"f", b"v"]),
                &c
            ),
            e(ERR_IDMP_EMPTY_PID)
        );
        assert_eq!(
            parse_err(
                &args(&[b"XADD", b"s", b"IDMP", b"", b"", b"*", b"f", b"v"]),
                &c
            ),
            e(ERR_IDMP_EMPTY_PID)
        );
        assert_eq!(
            parse_err(
                &args(&[b"XADD", b"s", b"IDMP", b"p", b"", b"*", b"f", b"v"]),
                &c
            ),
            e(ERR_IDMP_EMPTY_IID)
        );
        assert_eq!(
            parse_err(
                &args(&[b"XADD", b"s", b"IDMPAUTO", b"", b"*", b"f", b"v"]),
                &c
            ),
            e(ERR_IDMPAUTO_EMPTY_PID)
        );
        for id in ["1-1", "5", "123-*"] {
            assert_eq!(
                perr(&format!("XADD s IDMP p i {id} f v")),
                e(ERR_IDMP_EXPLICIT_ID),
                "{id}"
            );
            assert_eq!(
                perr(&format!("XADD s IDMPAUTO p {id} f v")),
                e(ERR_IDMP_EXPLICIT_ID),
                "{id}"
            );
        }
        let invalid = "ERR Invalid stream ID specified as stream command argument";
        assert_eq!(perr("XADD s IDMP p1 * f v"), e(invalid));
        assert_eq!(perr("XADD s IDMP p i bad f v"), e(invalid));
        let arity = "ERR wrong number of arguments for 'xadd' command";
        assert_eq!(perr("XADD s"), e(arity));
        assert_eq!(perr("XADD s *"), e(arity));
        assert_eq!(perr("XADD s * f"), e(arity));
        assert_eq!(perr("XADD s IDMP p i * f"), e(arity));
        assert_eq!(perr("XADD s IDMP p i *"), e(arity));
    }

    #[test]
    fn order_of_checks() {
        let e = |s: &str| Some(s.to_string());
        // Option errors win over the field count.
        let c = ctx(1000);
        assert_eq!(
            parse_err(&args(&[b"XADD", b"s", b"IDMP", b"", b"x", b"*", b"f"]), &c),
            e(ERR_IDMP_EMPTY_PID)
        );
        assert_eq!(perr("XADD s IDMP p i 1-1 f"), e(ERR_IDMP_EXPLICIT_ID));
        assert_eq!(perr("XADD s IDMP a b IDMP c d 1-1 f"), e(ERR_IDMP_TWICE));
        // The second IDMP is reported when it is reached, before a later bad MAXLEN.
        assert_eq!(
            perr("XADD s IDMP a b IDMP c d MAXLEN x * f v"),
            e(ERR_IDMP_TWICE)
        );
        assert_eq!(
            perr("XADD s MAXLEN x IDMP a b IDMP c d * f v"),
            e("ERR value is not an integer or out of range")
        );
        // The ID is parsed before the IDMP check.
        assert_eq!(
            perr("XADD s IDMP p i 1-x f v"),
            e("ERR Invalid stream ID specified as stream command argument")
        );
        // IDMP with 0-0: the IDMP check (an option error) comes first.
        assert_eq!(perr("XADD s IDMP p i 0-0 f v"), e(ERR_IDMP_EXPLICIT_ID));
    }

    #[test]
    fn option_forms() {
        let c = ctx(1000);
        let a = words("XADD s maxlen ~ 5 limit 7 NoMkStream idmp P I KEEPREF * f v");
        let argv: Vec<&[u8]> = a.iter().map(|x| x.as_slice()).collect();
        let r = xadd(&argv, &c);
        assert_eq!(r.key, b"s");
        assert!(r.args.nomkstream && !r.creates_key() && r.needs_module_stream());
        assert_eq!(
            r.args.idmp,
            Some(IdmpOpt::Explicit {
                pid: b"P",
                iid: b"I"
            })
        );
        assert_eq!(r.args.delete_strategy, Some(DeleteStrategy::KeepRef));
        let t = r.args.trim.expect("trim");
        assert_eq!((t.approx, t.limit), (true, 7));
        assert_eq!(r.fields, vec![b"f".as_slice(), b"v"]);

        // iid and pid are positional and uninterpreted.
        let a = words("XADD s IDMP * * * f v");
        let argv: Vec<&[u8]> = a.iter().map(|x| x.as_slice()).collect();
        let r = xadd(&argv, &c);
        assert_eq!(
            r.args.idmp,
            Some(IdmpOpt::Explicit {
                pid: b"*",
                iid: b"*"
            })
        );
        assert_eq!(r.args.id, IdRequest::Auto);
        let a = words("XADD s IdmpAuto IDMP * f v");
        let argv: Vec<&[u8]> = a.iter().map(|x| x.as_slice()).collect();
        let r = xadd(&argv, &c);
        assert_eq!(r.args.idmp, Some(IdmpOpt::Auto { pid: b"IDMP" }));
        assert!(r.creates_key());

        // Default limit of '~' trimming: 100 * node entries, clamped.
        for (entries, limit) in [
            (100usize, 10_000u64),
            (0, 10_000),
            (20_000, 1_000_000),
            (3, 300),
        ] {
            let mut c2 = ctx(1);
            c2.limits.max_entries = entries;
            let a = words("XADD s MAXLEN ~ 5 * f v");
            let argv: Vec<&[u8]> = a.iter().map(|x| x.as_slice()).collect();
            assert_eq!(xadd(&argv, &c2).args.trim.expect("trim").limit, limit);
        }
        let a = words("XADD s MINID = 5 5-* f v");
        let argv: Vec<&[u8]> = a.iter().map(|x| x.as_slice()).collect();
        let r = xadd(&argv, &c);
        assert_eq!(r.args.id, IdRequest::AutoSeq(5));
        let t = r.args.trim.expect("trim");
        assert_eq!((t.approx, t.limit), (false, 0));
        assert!(!r.needs_module_stream());

        // 8.2 options: one of them only; XADD takes a second one for the
        // ID, XTRIM answers a syntax error (8.6.3).
        assert_eq!(
            perr("XADD s KEEPREF DELREF * f v"),
            Some("ERR Invalid stream ID specified as stream command argument".into())
        );
        assert_eq!(
            perr("XADD s ACKED acked * f v"),
            Some("ERR Invalid stream ID specified as stream command argument".into())
        );
        assert_eq!(
            perr("XTRIM s MAXLEN 1 DELREF KEEPREF"),
            Some("ERR syntax error".into())
        );
        assert_eq!(perr("XTRIM s MAXLEN 1 ACKED"), None);
    }

    #[test]
    fn trusted_forms() {
        let t = trusted(1000);
        assert_eq!(
            parse_err(&words("XADD s IDMP p i IDMPAT 5 1-1 f v"), &t),
            None
        );
        assert_eq!(parse_err(&words("XADD s IDMPAUTO p 5-* f v"), &t), None);
        // LIMIT is dropped, and accepted without '~'.
        let a = words("XADD s MAXLEN 1 LIMIT 5 * f v");
        let argv: Vec<&[u8]> = a.iter().map(|x| x.as_slice()).collect();
        assert_eq!(xadd(&argv, &t).args.trim.expect("trim").limit, 0);
        let a = words("XADD s MAXLEN ~ 1 * f v");
        let argv: Vec<&[u8]> = a.iter().map(|x| x.as_slice()).collect();
        assert_eq!(xadd(&argv, &t).args.trim.expect("trim").limit, 0);
        // IDMPAT is internal: for a client it is the (invalid) ID.
        assert_eq!(
            perr("XADD s IDMP p i IDMPAT 5 * f v"),
            Some("ERR Invalid stream ID specified as stream command argument".into())
        );
        assert_eq!(
            parse_err(&words("XADD s IDMPAT 5 * f v"), &t),
            Some("ERR syntax error".into())
        );
        assert_eq!(
            parse_err(&words("XADD s IDMP p i IDMPAT x * f v"), &t),
            Some("ERR value is not an integer or out of range".into())
        );
    }

    #[test]
    fn fresh_then_duplicate() {
        let c = ctx(5000);
        let mut slot = None;
        let (out, fx) = run(&mut slot, "XADD s IDMP p i * f v", &c);
        assert_eq!(out, bulk("5000-0"));
        assert!(fx.create && fx.signal_ready);
        assert_eq!(fx.events, vec!["xadd"]);
        assert_eq!(
            repl(&fx),
            vec!["idmp.xadd s IDMPCFG 100 100 IDMP p i IDMPAT 5000 5000-0 f v"]
        );
        let s = slot.as_ref().expect("created");
        assert_eq!(
            (s.idmp.iids_added, s.idmp.iids_duplicates, s.len()),
            (1, 0, 1)
        );

        let c2 = ctx(6000);
        let (out, fx) = run(&mut slot, "XADD s MAXLEN 0 IDMP p i * g w", &c2);
        assert_eq!(out, bulk("5000-0"));
        assert!(!fx.create && !fx.signal_ready && fx.events.is_empty());
        assert_eq!(repl(&fx), vec!["idmp.idmpcounters s 1 1"]);
        let s = slot.as_ref().expect("stream");
        assert_eq!(
            (s.idmp.iids_added, s.idmp.iids_duplicates, s.len()),
            (1, 1, 1)
        );
        assert_eq!(s.last_id, StreamId::new(5000, 0));

        // Same iid, other pid: fresh.
        let (out, _) = run(&mut slot, "XADD s IDMP q i * f v", &c2);
        assert_eq!(out, bulk("6000-0"));
        // The recorded ID is answered even after the entry is gone.
        let (out, _) = run(&mut slot, "XDEL s 5000-0", &c2);
        assert_eq!(out, ":1\r\n");
        let (out, _) = run(&mut slot, "XADD s IDMP p i * f v", &c2);
        assert_eq!(out, bulk("5000-0"));
        // Expired after the duration (100 s): fresh again.
        let (out, fx) = run(&mut slot, "XADD s IDMP p i * f v", &ctx(105_000));
        assert_eq!(out, bulk("105000-0"));
        assert_eq!(
            repl(&fx),
            vec!["idmp.xadd s IDMP p i IDMPAT 105000 105000-0 f v"]
        );
        let s = slot.as_ref().expect("stream");
        assert_eq!((s.idmp.iids_added, s.idmp.iids_duplicates), (3, 2));
    }

    #[test]
    fn idmpauto_uses_the_digest() {
        let c = ctx(7000);
        let mut slot = None;
        run(&mut slot, "XADD s 1-1 a 1", &c);
        let (out, fx) = run(&mut slot, "XADD s IDMPAUTO p * a 1 b 2", &c);
        assert_eq!(out, bulk("7000-0"));
        let iid = crate::stream::digest::idmpauto_iid(&[b"a", b"1", b"b", b"2"]);
        let argv = &fx.owned_argvs()[0];
        assert_eq!(argv[2], b"IDMP");
        assert_eq!(argv[3], b"p");
        assert_eq!(argv[4], iid.to_vec());
        assert_eq!(
            argv[5..],
            [
                b"IDMPAT".to_vec(),
                b"7000".to_vec(),
                b"7000-0".to_vec(),
                b"a".to_vec(),
                b"1".to_vec(),
                b"b".to_vec(),
                b"2".to_vec()
            ]
        );
        // Pair order does not matter; IDMP with the digest is the same message.
        let (out, _) = run(&mut slot, "XADD s IDMPAUTO p * b 2 a 1", &c);
        assert_eq!(out, bulk("7000-0"));
        let mut a = words("XADD s IDMP p x * z z");
        a[4] = iid.to_vec();
        let (out, _) = run_args(&mut slot, &a, &c, false);
        assert_eq!(out, bulk("7000-0"));
        let (out, _) = run(&mut slot, "XADD s IDMPAUTO p * a 1 b 3", &c);
        assert_eq!(out, bulk("7000-1"));
    }

    #[test]
    fn trimming_is_propagated_exactly() {
        let c = ctx(1);
        let mut slot = None;
        for i in 1..=5 {
            run(&mut slot, &format!("XADD s {i}-0 f v"), &c);
        }
        let (out, fx) = run(&mut slot, "XADD s MAXLEN 3 6-0 f v", &c);
        assert_eq!(out, bulk("6-0"));
        assert_eq!(fx.events, vec!["xadd", "xtrim"]);
        assert_eq!(repl(&fx), vec!["idmp.xadd s MAXLEN = 3 6-0 f v"]);
        let (_, fx) = run(&mut slot, "XADD s MINID ~ 5 LIMIT 10 7-* f v", &c);
        assert_eq!(fx.events, vec!["xadd"]);
        assert_eq!(repl(&fx), vec!["idmp.xadd s MINID = 1-0 7-0 f v"]);
        let (_, fx) = run(&mut slot, "XADD s IDMP p i MINID 6 * f v", &c);
        assert_eq!(fx.events, vec!["xadd", "xtrim"]);
        assert_eq!(
            repl(&fx),
            vec!["idmp.xadd s IDMP p i IDMPAT 1 MINID = 6-0 7-1 f v"]
        );
        let (_, fx) = run(&mut slot, "XADD s MAXLEN 0 8-0 f v", &c);
        assert_eq!(repl(&fx), vec!["idmp.xadd s MAXLEN = 0 8-0 f v"]);
        let (_, fx) = run(&mut slot, "XADD s MINID 10 9-0 f v", &c);
        assert_eq!(repl(&fx), vec!["idmp.xadd s MINID = 10-0 9-0 f v"]);
        // Approximate trims that empty the stream (whole last node removed).
        let (_, fx) = run(&mut slot, "XADD s MINID ~ 100 10-0 f v", &c);
        assert_eq!(
            repl(&fx),
            vec!["idmp.xadd s MINID = 18446744073709551615-18446744073709551615 10-0 f v"]
        );
        let (_, fx) = run(&mut slot, "XADD s MAXLEN ~ 0 11-0 f v", &c);
        assert_eq!(repl(&fx), vec!["idmp.xadd s MAXLEN = 0 11-0 f v"]);
        assert_eq!(slot.as_ref().map(|s| s.len()), Some(0));
    }

    #[test]
    fn nomkstream_and_rejections_leave_nothing() {
        let c = ctx(1);
        let mut slot: Option<Stream> = None;
        let (out, fx) = run(&mut slot, "XADD s NOMKSTREAM IDMP p i * f v", &c);
        assert_eq!(out, "$-1\r\n");
        assert!(!fx.create && fx.replicate.is_empty() && slot.is_none());
        let (out, _) = run_args(&mut slot, &words("XADD s NOMKSTREAM * f v"), &c, true);
        assert_eq!(out, "_\r\n");

        run(
            &mut slot,
            "XADD s 18446744073709551615-18446744073709551615 f v",
            &c,
        );
        let (out, fx) = run(&mut slot, "XADD s IDMP p i * f v", &c);
        assert_eq!(
            out,
            "-ERR The stream has exhausted the last possible ID, unable to add more items\r\n"
        );
        assert!(fx.replicate.is_empty() && fx.events.is_empty());
        let s = slot.as_ref().expect("stream");
        assert_eq!((s.idmp.iids_added, s.idmp.pids_tracked()), (0, 0));

        let mut slot = None;
        run(&mut slot, "XADD s 5-0 f v", &c);
        let (out, _) = run_args(
            &mut slot,
            &words("XADD s IDMP p i 3-0 f v"),
            &trusted(1),
            false,
        );
        assert_eq!(
            out,
            "-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n"
        );
        let s = slot.as_ref().expect("stream");
        assert_eq!((s.idmp.iids_added, s.idmp.pids_tracked()), (0, 0));
    }

    #[test]
    fn new_stream_takes_the_defaults() {
        let mut c = ctx(1);
        c.defaults.duration_secs = 7;
        c.defaults.maxsize = 9;
        let mut slot = None;
        run(&mut slot, "XADD s * f v", &c);
        let s = slot.expect("created");
        assert_eq!(
            (s.idmp.settings().duration_secs, s.idmp.settings().maxsize),
            (7, 9)
        );
    }

    #[test]
    fn replica_replay_reaches_the_same_state() {
        let c = ctx(10_000);
        let mut master = None;
        let mut replica = None;
        let lines = [
            "XADD s IDMP p a * f v",
            "XADD s IDMPAUTO p * x 1",
            "XADD s IDMP p a * f v",
            "XADD s MAXLEN ~ 1 IDMP q a * f v",
            "XADD s MAXLEN 1 * g w",
            "XDEL s 10000-3 1-1",
            "XTRIM s MAXLEN 0",
            "XSETID s 20000-0 ENTRIESADDED 50",
            "XCFGSET s IDMP-MAXSIZE 5",
            "XADD s IDMP r b * f v",
        ];
        let t = trusted(99_999);
        for line in lines {
            let (_, fx) = run(&mut master, line, &c);
            for argv in fx.owned_argvs() {
                let (out, _) = run_args(&mut replica, &argv, &t, false);
                assert!(!out.starts_with('-'), "{line}: {out}");
            }
        }
        let (m, r) = (master.expect("m"), replica.expect("r"));
        assert_eq!(
            (
                m.len(),
                m.last_id,
                m.max_deleted_id,
                m.entries_added,
                m.first_id
            ),
            (
                r.len(),
                r.last_id,
                r.max_deleted_id,
                r.entries_added,
                r.first_id
            )
        );
        assert_eq!(
            (m.idmp.iids_added, m.idmp.iids_duplicates),
            (r.idmp.iids_added, r.idmp.iids_duplicates)
        );
        assert_eq!(m.idmp.settings(), r.idmp.settings());
        let dump = |s: &Stream| -> Vec<(Vec<u8>, Vec<u8>, StreamId, u64)> {
            s.idmp
                .producers()
                .flat_map(|(p, it)| it.map(move |(i, id, t)| (p.to_vec(), i.to_vec(), id, t)))
                .collect()
        };
        assert_eq!(dump(&m), dump(&r));
        assert_eq!(dump(&m).len(), 1);
    }
}

#[cfg(test)]
mod create_tests {
    use super::super::testkit::{ctx, parse_err, perr, repl, run, run_args, words};
    use super::super::ExecCtx;

    #[test]
    fn a_created_stream_propagates_its_settings() {
        let mut c = ctx(1);
        c.defaults.duration_secs = 7;
        c.defaults.maxsize = 9;
        let mut master = None;
        let (_, fx) = run(&mut master, "XADD s 1-1 f v", &c);
        assert_eq!(repl(&fx), vec!["idmp.xadd s IDMPCFG 7 9 1-1 f v"]);
        let (_, fx) = run(&mut master, "XADD s 1-2 f v", &c);
        assert_eq!(repl(&fx), vec!["idmp.xadd s 1-2 f v"]);
        // The replica has other defaults but creates the stream alike.
        let t = ExecCtx {
            trusted: true,
            ..ctx(1)
        };
        let mut replica = None;
        let (out, _) = run_args(
            &mut replica,
            &words("idmp.xadd s IDMPCFG 7 9 1-1 f v"),
            &t,
            false,
        );
        assert_eq!(out, "$3\r\n1-1\r\n");
        let r = replica.as_ref().expect("created");
        assert_eq!(
            (r.idmp.settings().duration_secs, r.idmp.settings().maxsize),
            (7, 9)
        );
        // On an existing stream it changes nothing.
        let (_, _) = run_args(
            &mut replica,
            &words("idmp.xadd s IDMPCFG 5 5 1-2 f v"),
            &t,
            false,
        );
        assert_eq!(replica.expect("r").idmp.settings().maxsize, 9);
        // Internal only, and checked.
        assert_eq!(
            perr("XADD s IDMPCFG 7 9 * f v"),
            Some("ERR Invalid stream ID specified as stream command argument".into())
        );
        assert_eq!(
            parse_err(&words("XADD s IDMPCFG 0 9 * f v"), &t),
            Some("ERR IDMP-DURATION must be between 1 and 86400 seconds".into())
        );
        assert_eq!(
            parse_err(&words("XADD s IDMPCFG 1 10001 * f v"), &t),
            Some("ERR IDMP-MAXSIZE must be between 1 and 10000 entries".into())
        );
    }
}
