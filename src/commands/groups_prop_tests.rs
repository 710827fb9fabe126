//! Property tests of the group commands: random argv never panics, and a
//! replica that replays what the master propagates (trusted context, same
//! clock) ends with the master's groups: last IDs, read counters, PELs with
//! owners, delivery times and counts, consumers and their PELs.

use std::collections::HashMap;

use proptest::prelude::*;

use super::testkit::{ctx, Resp};
use super::xread::KeyLookup;
use super::{parse, CmdError, ExecCtx, Request};
use crate::stream::groups::Groups;
use crate::stream::stream::Stream;
use crate::stream::StreamId;

const WORDS: &[&str] = &[
    "XGROUP",
    "XREADGROUP",
    "XREAD",
    "XACK",
    "XPENDING",
    "XCLAIM",
    "XAUTOCLAIM",
    "XINFO",
    "XADD",
    "XDEL",
    "XTRIM",
    "CREATE",
    "SETID",
    "DESTROY",
    "CREATECONSUMER",
    "DELCONSUMER",
    "HELP",
    "MKSTREAM",
    "ENTRIESREAD",
    "GROUP",
    "STREAMS",
    "COUNT",
    "BLOCK",
    "NOACK",
    "IDLE",
    "TIME",
    "RETRYCOUNT",
    "FORCE",
    "JUSTID",
    "LASTID",
    "GROUPS",
    "CONSUMERS",
    "STREAM",
    "FULL",
    "MAXLEN",
    "s",
    "t",
    "g",
    "h",
    "c",
    "d",
    "$",
    ">",
    "+",
    "-",
    "(",
    "(1-1",
    "0",
    "1",
    "2",
    "-1",
    "100",
    "1-1",
    "2-1",
    "3-1",
    "18446744073709551615",
    "18446744073709551615-18446744073709551615",
    "",
    "f",
    "v",
];

fn token() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        8 => proptest::sample::select(WORDS).prop_map(|w| w.as_bytes().to_vec()),
        1 => proptest::collection::vec(any::<u8>(), 0..6),
    ]
}

struct Db<'a>(&'a mut HashMap<Vec<u8>, Stream>);

impl KeyLookup for Db<'_> {
    fn stream(&mut self, key: &[u8]) -> Result<Option<&mut Stream>, CmdError> {
        Ok(self.0.get_mut(key))
    }
}

/// Runs argv like the glue; returns the propagated commands.
fn run(db: &mut HashMap<Vec<u8>, Stream>, args: &[Vec<u8>], c: &ExecCtx) -> Vec<Vec<Vec<u8>>> {
    let argv: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
    let mut r = Resp::new(false);
    let Ok(req) = parse(&argv, c) else {
        return Vec::new();
    };
    if let Request::Xread(x) = &req {
        let (_, per_key) = x.exec_multi(&mut Db(db), c, &mut r, None);
        return per_key
            .into_iter()
            .flat_map(|(_, fx)| fx.owned_argvs())
            .collect();
    }
    let key = req.key().map(|k| k.to_vec());
    let slot = key.as_ref().and_then(|k| db.get_mut(k));
    let mut fx = req.exec(slot, c, &mut r);
    if fx.create {
        if let (Some(s), Some(k)) = (fx.new_stream.take(), key) {
            db.insert(k, *s);
        }
    }
    fx.owned_argvs()
}

/// The replicated state of the groups (seen/active times are the
/// replica's own, as on native replicas).
type GroupState = Vec<(
    Vec<u8>,
    StreamId,
    i64,
    Vec<(StreamId, Vec<u8>, u64, u64)>,
    Vec<(Vec<u8>, Vec<StreamId>)>,
)>;

fn state(g: &Groups) -> GroupState {
    g.iter()
        .map(|(name, cg)| {
            (
                name.to_vec(),
                cg.last_id,
                cg.entries_read,
                cg.pel()
                    .map(|(id, n)| (id, n.consumer().to_vec(), n.delivery_time, n.delivery_count))
                    .collect(),
                cg.consumers()
                    .map(|c| (c.name().to_vec(), c.pel().collect()))
                    .collect(),
            )
        })
        .collect()
}

fn op() -> impl Strategy<Value = String> {
    let id = (1u64..12).prop_map(|n| format!("{n}-1"));
    let g = proptest::sample::select(vec!["g", "h"]);
    let c = proptest::sample::select(vec!["c", "d", "e"]);
    prop_oneof![
        4 => Just("XADD s * f v".to_string()),
        1 => id.clone().prop_map(|i| format!("XDEL s {i}")),
        1 => (g.clone(), proptest::sample::select(vec!["0", "$", "3-1"]))
            .prop_map(|(g, i)| format!("XGROUP CREATE s {g} {i} MKSTREAM")),
        1 => (g.clone(), id.clone()).prop_map(|(g, i)| format!("XGROUP SETID s {g} {i}")),
        1 => (g.clone(), c.clone()).prop_map(|(g, c)| format!("XGROUP CREATECONSUMER s {g} {c}")),
        1 => (g.clone(), c.clone()).prop_map(|(g, c)| format!("XGROUP DELCONSUMER s {g} {c}")),
        1 => g.clone().prop_map(|g| format!("XGROUP DESTROY s {g}")),
        6 => (g.clone(), c.clone(), 0u8..4, any::<bool>(), proptest::sample::select(vec![">", "0", "2-1"]))
            .prop_map(|(g, c, n, noack, i)| format!(
                "XREADGROUP GROUP {g} {c} COUNT {n}{} STREAMS s {i}",
                if noack { " NOACK" } else { "" })),
        3 => (g.clone(), id.clone(), id.clone()).prop_map(|(g, a, b)| format!("XACK s {g} {a} {b}")),
        3 => (g.clone(), c.clone(), 0u8..30, id.clone(), id.clone(), proptest::sample::select(vec![
                "", " FORCE", " JUSTID", " RETRYCOUNT 5", " IDLE 3", " TIME 500", " LASTID 9-1", " FORCE JUSTID"]))
            .prop_map(|(g, c, idle, a, b, o)| format!("XCLAIM s {g} {c} {idle} {a} {b}{o}")),
        3 => (g.clone(), c.clone(), 0u8..30, id.clone(), 1u8..4, any::<bool>())
            .prop_map(|(g, c, idle, a, n, j)| format!(
                "XAUTOCLAIM s {g} {c} {idle} {a} COUNT {n}{}", if j { " JUSTID" } else { "" })),
        2 => (0u8..6, proptest::sample::select(vec!["", " KEEPREF", " DELREF", " ACKED"]))
            .prop_map(|(n, p)| format!("XTRIM s MAXLEN {n}{p}")),
        1 => (id.clone(), proptest::sample::select(vec![" DELREF", " ACKED"]))
            .prop_map(|(i, p)| format!("XTRIM s MINID {i}{p}")),
        1 => (0u8..6, proptest::sample::select(vec!["", " DELREF", " ACKED"]))
            .prop_map(|(n, p)| format!("XADD s{p} MAXLEN {n} * f v")),
        2 => (proptest::sample::select(vec!["", " KEEPREF", " DELREF", " ACKED"]), id.clone(), id.clone())
            .prop_map(|(p, a, b)| format!("XDELEX s{p} IDS 2 {a} {b}")),
        2 => (g.clone(), proptest::sample::select(vec!["", " KEEPREF", " DELREF", " ACKED"]), id.clone())
            .prop_map(|(g, p, a)| format!("XACKDEL s {g}{p} IDS 1 {a}")),
        2 => (g.clone(), c.clone(), 0u8..3, 0u8..30, any::<bool>())
            .prop_map(|(g, c, n, idle, noack)| format!(
                "XREADGROUP GROUP {g} {c} COUNT {n} CLAIM {idle}{} STREAMS s >",
                if noack { " NOACK" } else { "" })),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_argv_never_panics(args in proptest::collection::vec(
        proptest::collection::vec(token(), 1..10), 1..12)) {
        let c = ctx(1000);
        let mut db = HashMap::new();
        for line in [
            "XADD s 1-1 f v", "XADD s 2-1 f v", "XADD s 3-1 f v",
            "XGROUP CREATE s g 0", "XREADGROUP GROUP g c COUNT 2 STREAMS s >",
        ] {
            run(&mut db, &super::testkit::words(line), &c);
        }
        for a in &args {
            run(&mut db, a, &c);
        }
    }

    #[test]
    fn replica_replay_reaches_the_master_state(ops in proptest::collection::vec(op(), 1..60)) {
        let mut master = HashMap::new();
        let mut replica = HashMap::new();
        let mut now = 1000;
        for line in &ops {
            now += 7;
            let c = ctx(now);
            let mut rc = ctx(now);
            rc.trusted = true;
            let line = line.replace('*', &format!("{now}-0"));
            let prop = run(&mut master, &super::testkit::words(&line), &c);
            for argv in &prop {
                run(&mut replica, argv, &rc);
            }
            let m = master.get(&b"s"[..]).map(|s: &Stream| state(&s.groups));
            let r = replica.get(&b"s"[..]).map(|s: &Stream| state(&s.groups));
            prop_assert_eq!(m, r, "after {}", line);
        }
    }
}
