//! A key space that runs commands as the glue does: parse, look the key up,
//! exec, store a created stream; XREAD/XREADGROUP over several keys through
//! `exec_multi`. Checks the invariants the glue relies on.

use std::collections::BTreeMap;

use redis_idmp::commands::xread::{BlockSpec, KeyLookup, XreadOutcome};
use redis_idmp::commands::{parse, CmdError, ExecCtx, Request};
use redis_idmp::stream::Stream;

use crate::sink::Sink;

/// Streams by key.
#[derive(Clone, Debug, Default)]
pub struct Db {
    /// The keys.
    pub keys: BTreeMap<Vec<u8>, Stream>,
}

struct Lookup<'a>(&'a mut BTreeMap<Vec<u8>, Stream>);

impl KeyLookup for Lookup<'_> {
    fn stream(&mut self, key: &[u8]) -> Result<Option<&mut Stream>, CmdError> {
        Ok(self.0.get_mut(key))
    }
}

/// What one command did.
#[derive(Debug, Default)]
pub struct Ran {
    /// The argv parsed.
    pub parsed: bool,
    /// Commands propagated to replicas.
    pub replicate: Vec<Vec<Vec<u8>>>,
    /// The command blocked (XREAD/XREADGROUP BLOCK with nothing to serve).
    pub block: Option<BlockSpec>,
}

impl Db {
    /// Runs one command; `resume` re-runs a blocked XREAD as the glue does
    /// when its keys are signalled. Panics when an invariant breaks.
    pub fn run(
        &mut self,
        argv: &[&[u8]],
        ctx: &ExecCtx,
        sink: &mut Sink,
        resume: Option<&BlockSpec>,
    ) -> Ran {
        let req = match parse(argv, ctx) {
            Ok(r) => r,
            Err(e) => {
                redis_idmp::commands::reply::Reply::error(sink, &e);
                sink.finish(false);
                return Ran::default();
            }
        };
        let mut ran = Ran {
            parsed: true,
            ..Ran::default()
        };
        if let Request::Xread(x) = &req {
            let (outcome, per_key) = x.exec_multi(&mut Lookup(&mut self.keys), ctx, sink, resume);
            for (_, fx) in per_key {
                assert!(!fx.create && fx.new_stream.is_none(), "XREAD created a key");
                ran.replicate.extend(fx.owned_argvs());
            }
            if let XreadOutcome::Block(spec) = outcome {
                ran.block = Some(spec);
            }
        } else {
            let key = req.key().map(<[u8]>::to_vec);
            let slot = key.as_ref().and_then(|k| self.keys.get_mut(k));
            let existed = slot.is_some();
            let mut fx = req.exec(slot, ctx, sink);
            assert_eq!(
                fx.create,
                fx.new_stream.is_some(),
                "create without a stream"
            );
            assert!(fx.block.is_none(), "only XREAD blocks");
            if let Some(s) = fx.new_stream.take() {
                assert!(!existed, "created an existing key");
                assert!(
                    req.creates_key(),
                    "created by a command that does not create"
                );
                let k = key.expect("a created stream has a key");
                self.keys.insert(k, *s);
            }
            ran.replicate = fx.owned_argvs();
        }
        assert!(
            req.is_write() || ran.replicate.is_empty(),
            "a read-only command propagated {:?}",
            ran.replicate
        );
        sink.finish(ran.block.is_some());
        ran
    }

    /// Brings every stream's IDMP state to `now_ms` (expiry is clock-driven).
    pub fn expire(&mut self, now_ms: u64) {
        for s in self.keys.values_mut() {
            s.idmp.expire(now_ms);
        }
    }
}
