//! XADD, with the Redis 8.6 IDMP/IDMPAUTO options (SPEC sections 1-3) on top
//! of a port of Redis 7.0's `xaddCommand`.

use super::reply::Reply;
use super::trim_args::{exact_trim_argv, parse_add_or_trim, AddTrimArgs, IdmpOpt};
use super::util::{arity_error, check_arity};
use super::{CmdError, Effects, ExecCtx};
use crate::stream::digest::idmpauto_iid;
use crate::stream::stream::{IdRequest, Stream};
use crate::stream::StreamId;

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

    /// IDMP, IDMPAUTO and the 8.2 options exist only on module streams.
    pub fn needs_module_stream(&self) -> bool {
        self.args.idmp.is_some() || self.args.delete_strategy.is_some()
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
    /// is created and returned in [`Effects::new_stream`].
    pub fn exec(
        &self,
        stream: Option<&mut Stream>,
        ctx: &ExecCtx,
        reply: &mut dyn Reply,
    ) -> Effects {
        let mut fx = Effects::default();
        match stream {
            Some(s) => {
                self.run(s, ctx, reply, &mut fx);
            }
            None if self.args.nomkstream => reply.null(),
            None => {
                let mut s = Stream::new(ctx.defaults);
                if self.run(&mut s, ctx, reply, &mut fx) {
                    fx.create = true;
                    fx.new_stream = Some(Box::new(s));
                }
            }
        }
        fx
    }

    /// Returns true when an entry was appended.
    fn run(&self, s: &mut Stream, ctx: &ExecCtx, reply: &mut dyn Reply, fx: &mut Effects) -> bool {
        let auto_iid;
        let idmp: Option<(&[u8], &[u8])> = match self.args.idmp {
            Some(IdmpOpt::Explicit { pid, iid }) => Some((pid, iid)),
            Some(IdmpOpt::Auto { pid }) => {
                auto_iid = idmpauto_iid(&self.fields);
                Some((pid, &auto_iid[..]))
            }
            None => None,
        };
        match self.args.idmp_at {
            Some(t) => s.idmp.expire(t),
            None => s.idmp.expire(ctx.now_ms),
        }
        if let (Some((pid, iid)), None) = (idmp, self.args.idmp_at) {
            if let Some(id) = s.idmp.lookup(pid, iid, ctx.now_ms) {
                s.idmp.iids_duplicates = s.idmp.iids_duplicates.saturating_add(1);
                reply.stream_id(id);
                fx.propagate([
                    b"idmp.idmpcounters".to_vec(),
                    self.key.to_vec(),
                    s.idmp.iids_added.to_string().into_bytes(),
                    s.idmp.iids_duplicates.to_string().into_bytes(),
                ]);
                return false;
            }
        }

        let id = match s.resolve_id(self.args.id, ctx.now_ms) {
            Ok(id) => id,
            Err(e) => {
                reply.error(e.message());
                return false;
            }
        };
        s.append(id, &self.fields, ctx.limits);
        let recorded_at = idmp.map(|(pid, iid)| {
            let t = match self.args.idmp_at {
                Some(t) => {
                    s.idmp.record_at(pid, iid, id, t);
                    t
                }
                None => s.idmp.record(pid, iid, id, ctx.now_ms),
            };
            s.idmp.iids_added = s.idmp.iids_added.saturating_add(1);
            t
        });
        reply.stream_id(id);
        fx.events.push("xadd");

        let mut trim_argv = None;
        if let Some(trim) = &self.args.trim {
            if s.trim(trim) > 0 {
                fx.events.push("xtrim");
            }
            trim_argv = Some(exact_trim_argv(&trim.strategy, s.len(), s.store.first_id()));
        }

        let mut argv: Vec<Vec<u8>> = Vec::with_capacity(self.fields.len() + 11);
        argv.push(b"idmp.xadd".to_vec());
        argv.push(self.key.to_vec());
        if let (Some((pid, iid)), Some(t)) = (idmp, recorded_at) {
            argv.push(b"IDMP".to_vec());
            argv.push(pid.to_vec());
            argv.push(iid.to_vec());
            argv.push(b"IDMPAT".to_vec());
            argv.push(t.to_string().into_bytes());
        }
        if let Some(t) = trim_argv {
            argv.extend(t);
        }
        argv.push(id.to_bytes());
        argv.extend(self.fields.iter().map(|f| f.to_vec()));
        fx.replicate.push(argv);
        fx.signal_ready = true;
        true
    }
}
