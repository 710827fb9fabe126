//! Property tests: no input panics, and replaying what a master propagates on
//! a replica (a trusted context) gives the replica the master's exact state.

use std::collections::HashMap;

use proptest::prelude::*;

use super::testkit::{ctx, Resp};
use super::xread::XreadRequest;
use super::{parse, ExecCtx};
use crate::stream::stream::Stream;
use crate::stream::StreamId;

const WORDS: &[&str] = &[
    "XADD",
    "XRANGE",
    "XREVRANGE",
    "XLEN",
    "XDEL",
    "XTRIM",
    "XSETID",
    "XINFO",
    "XCFGSET",
    "XIDMPRECORD",
    "idmp.idmpcounters",
    "s",
    "t",
    "STREAM",
    "FULL",
    "COUNT",
    "GROUPS",
    "CONSUMERS",
    "HELP",
    "MAXLEN",
    "MINID",
    "LIMIT",
    "~",
    "=",
    "*",
    "-",
    "+",
    "(",
    "NOMKSTREAM",
    "IDMP",
    "IDMPAUTO",
    "IDMPAT",
    "KEEPREF",
    "DELREF",
    "ACKED",
    "ENTRIESADDED",
    "MAXDELETEDID",
    "IDMP-DURATION",
    "IDMP-MAXSIZE",
    "0",
    "1",
    "2",
    "5",
    "-1",
    "100",
    "18446744073709551615",
    "1-1",
    "2-*",
    "5-0",
    "(5",
    "(0-0",
    "0-0",
    "18446744073709551615-18446744073709551615",
    "",
    "f",
    "v",
    "p",
    "i",
];

fn token() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        8 => proptest::sample::select(WORDS).prop_map(|w| w.as_bytes().to_vec()),
        1 => proptest::collection::vec(any::<u8>(), 0..6),
    ]
}

fn command() -> impl Strategy<Value = Vec<Vec<u8>>> {
    let head = proptest::sample::select(&WORDS[..11]).prop_map(|w| w.as_bytes().to_vec());
    (head, proptest::collection::vec(token(), 0..10)).prop_map(|(h, mut rest)| {
        rest.insert(0, h);
        rest
    })
}

/// Commands that succeed often, to build state.
fn useful() -> impl Strategy<Value = Vec<Vec<u8>>> {
    let pid = proptest::sample::select(vec!["p", "q"]);
    let iid = proptest::sample::select(vec!["a", "b", "c"]);
    prop_oneof![
        (pid.clone(), iid.clone()).prop_map(|(p, i)| format!("XADD s IDMP {p} {i} * f v")),
        pid.clone()
            .prop_map(|p| format!("XADD s IDMPAUTO {p} * f v")),
        (0u8..4).prop_map(|n| format!("XADD s MAXLEN ~ {n} * f v")),
        Just("XADD s * f v".to_string()),
        Just("XADD s * f v".to_string()),
        (0u8..4).prop_map(|n| format!("XADD s MAXLEN {n} IDMP p x{n} * f v")),
        Just("XADD s * f v".to_string()),
        (0u8..4).prop_map(|n| format!("XTRIM s MAXLEN {n}")),
        Just("XDEL s 1-0 1000-0 1000-1".to_string()),
        (0u8..30).prop_map(|n| format!("XDEL s {}-0", 1000 + u64::from(n) * 7000)),
        (0u8..30).prop_map(|n| format!("XTRIM s MINID ~ {}", 1000 + u64::from(n) * 7000)),
        (0u8..30).prop_map(|n| format!("XADD s MINID {} * f v", 1000 + u64::from(n) * 7000)),
        (0u8..6).prop_map(|n| format!("XTRIM s MAXLEN ~ {n} LIMIT 2")),
        (1u8..4).prop_map(|n| format!("XCFGSET s IDMP-MAXSIZE {n}")),
        (pid, iid).prop_map(|(p, i)| format!("XIDMPRECORD s {p} {i} 1000-0")),
        Just("XSETID s 999999-0".to_string()),
    ]
    .prop_map(|l| l.split(' ').map(|w| w.as_bytes().to_vec()).collect())
}

fn exec(
    db: &mut HashMap<Vec<u8>, Stream>,
    args: &[Vec<u8>],
    c: &ExecCtx,
) -> (String, Vec<Vec<Vec<u8>>>) {
    let argv: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
    let mut r = Resp::new(false);
    match parse(&argv, c) {
        Err(e) => {
            assert!(e.starts_with("ERR ") || e.starts_with("WRONGTYPE"), "{e}");
            r.out = format!("-{e}");
            (r.out, Vec::new())
        }
        Ok(req) => {
            let key = req.key().map(|k| k.to_vec());
            let slot = key.as_ref().and_then(|k| db.get_mut(k));
            let mut fx = req.exec(slot, c, &mut r);
            assert_eq!(fx.create, fx.new_stream.is_some());
            if let (Some(s), Some(k)) = (fx.new_stream.take(), key) {
                db.insert(k, *s);
            }
            (r.out, fx.owned_argvs())
        }
    }
}

type Snapshot = (
    u64,
    StreamId,
    StreamId,
    u64,
    StreamId,
    Vec<(StreamId, Vec<Vec<u8>>)>,
    Vec<(Vec<u8>, Vec<u8>, StreamId, u64)>,
    [u64; 2],
    (u32, u32),
);

fn snapshot(s: &Stream) -> Snapshot {
    (
        s.len(),
        s.last_id,
        s.max_deleted_id,
        s.entries_added,
        s.first_id,
        s.store
            .range(StreamId::MIN, StreamId::MAX)
            .map(|e| {
                (
                    e.id(),
                    e.fields()
                        .flat_map(|(f, v)| [f.to_vec(), v.to_vec()])
                        .collect(),
                )
            })
            .collect(),
        s.idmp
            .producers()
            .flat_map(|(p, it)| it.map(move |(i, id, t)| (p.to_vec(), i.to_vec(), id, t)))
            .collect(),
        [s.idmp.iids_added, s.idmp.iids_duplicates],
        (s.idmp.settings().duration_secs, s.idmp.settings().maxsize),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn never_panics_and_replicas_converge(
        cmds in proptest::collection::vec(prop_oneof![2 => useful(), 3 => command()], 1..40),
        trusted_master in any::<bool>(),
        node_entries in 0usize..5,
    ) {
        let mut master = HashMap::new();
        let mut replica = HashMap::new();
        let mut now = 1000u64;
        for args in &cmds {
            now += 7_000;
            let mut c = ExecCtx { trusted: trusted_master, ..ctx(now) };
            c.limits.max_entries = node_entries;
            let (_, repl) = exec(&mut master, args, &c);
            let mut rc = ExecCtx { trusted: true, ..ctx(now) };
            rc.limits.max_entries = node_entries;
            // Other module configs on the replica: created streams carry theirs.
            rc.defaults.duration_secs = 33;
            rc.defaults.maxsize = 2;
            for argv in repl {
                let (out, _) = exec(&mut replica, &argv, &rc);
                prop_assert!(!out.starts_with('-'), "replica refused {:?}: {}", argv, out);
            }
        }
        prop_assert_eq!(master.len(), replica.len());
        // Expiry is driven by the clock: bring both to the same time.
        for s in master.values_mut().chain(replica.values_mut()) {
            s.idmp.expire(now);
        }
        for (k, m) in &master {
            let r = replica.get(k).expect("replica key");
            prop_assert_eq!(snapshot(m), snapshot(r));
        }
    }
}

/// Arguments near the quick XREAD forms: the keywords, counts, IDs and
/// near misses.
fn xread_arg() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::sample::select(vec![
            "STREAMS", "streams", "COUNT", "count", "GROUP", "NOACK", "BLOCK", "CLAIM", "0", "5",
            "$", ">", "+", "-1", "01", "k", "g", "c",
        ])
        .prop_map(|w| w.as_bytes().to_vec()),
        "[0-9]{1,20}".prop_map(String::into_bytes),
        proptest::collection::vec(any::<u8>(), 0..4),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]
    /// `quick_split` accepts only what the parse accepts, with no BLOCK or
    /// CLAIM and the same keys and IDs.
    #[test]
    fn xread_quick_split_agrees_with_parse(
        args in proptest::collection::vec(xread_arg(), 0..9),
        group in any::<bool>(),
    ) {
        let mut argv: Vec<&[u8]> = vec![if group { b"xreadgroup" } else { b"xread" }];
        argv.extend(args.iter().map(Vec::as_slice));
        if let Some((first, n)) = XreadRequest::quick_split(&argv, group) {
            let r = XreadRequest::parse(&argv, group, "xread");
            prop_assert!(r.is_ok(), "{:?}", argv);
            let r = r.unwrap();
            prop_assert!(r.block.is_none() && r.claim.is_none());
            prop_assert_eq!(&r.keys[..], &argv[first..first + n]);
            prop_assert_eq!(&r.ids[..], &argv[first + n..]);
        }
    }
}

#[test]
fn xread_quick_split_takes_the_common_forms() {
    fn w(s: &str) -> Vec<&[u8]> {
        s.split(' ').map(str::as_bytes).collect()
    }
    assert_eq!(
        XreadRequest::quick_split(&w("XREAD COUNT 10 STREAMS s 0"), false),
        Some((4, 1))
    );
    assert_eq!(
        XreadRequest::quick_split(&w("xread streams a b 0 $"), false),
        Some((2, 2))
    );
    assert_eq!(
        XreadRequest::quick_split(&w("XREADGROUP GROUP g c COUNT 10 NOACK STREAMS s >"), true),
        Some((8, 1))
    );
    for no in [
        "XREAD BLOCK 0 STREAMS s 0",
        "XREAD COUNT 10 STREAMS s",
        "XREAD STREAMS",
        "XREAD COUNT -1 STREAMS s 0",
        "XREADGROUP GROUP g STREAMS s >",
    ] {
        assert_eq!(
            XreadRequest::quick_split(&w(no), no.starts_with("XREADGROUP")),
            None,
            "{no}"
        );
    }
}
