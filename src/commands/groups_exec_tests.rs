//! Exec transcripts of the group commands: propagation argv, keyspace
//! events, the blocking outcome of XREAD/XREADGROUP and its resumption.

use std::collections::HashMap;

use super::testkit::{ctx, repl, run, words, Resp};
use super::xread::{BlockSpec, KeyLookup, ReadStart, XreadOutcome};
use super::{parse, CmdError, Request};
use crate::stream::stream::Stream;
use crate::stream::StreamId;

struct Db<'a>(&'a mut HashMap<Vec<u8>, Stream>);

impl KeyLookup for Db<'_> {
    fn stream(&mut self, key: &[u8]) -> Result<Option<&mut Stream>, CmdError> {
        if key == b"str" {
            return Err("WRONGTYPE Operation against a key holding the wrong kind of value".into());
        }
        Ok(self.0.get_mut(key))
    }
}

fn xread(
    db: &mut HashMap<Vec<u8>, Stream>,
    line: &str,
    now: u64,
    resume: Option<&BlockSpec>,
) -> (String, XreadOutcome, Vec<String>) {
    let args = words(line);
    let argv: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
    let Ok(Request::Xread(x)) = parse(&argv, &ctx(now)) else {
        panic!("not an xread: {line}");
    };
    let mut r = Resp::new(false);
    let (o, per_key) = x.exec_multi(&mut Db(db), &ctx(now), &mut r, resume);
    let mut prop = Vec::new();
    for (_, fx) in per_key {
        prop.extend(repl(&fx));
    }
    (r.out, o, prop)
}

fn setup() -> Option<Stream> {
    let mut s = None;
    let c = ctx(1000);
    for l in ["XADD s 1-1 a 1", "XADD s 2-1 b 2", "XGROUP CREATE s g 0"] {
        run(&mut s, l, &c);
    }
    s
}

#[test]
fn xgroup_propagates_resolved_arguments() {
    let c = ctx(1000);
    let mut s = None;
    let (out, fx) = run(&mut s, "XGROUP CREATE s g $ MKSTREAM", &c);
    assert_eq!(out, "+OK\r\n");
    assert!(fx.create);
    assert_eq!(fx.events, vec!["xgroup-create"]);
    assert_eq!(
        repl(&fx),
        vec![
            "idmp.xgroup CREATE s g 0-0 MKSTREAM ENTRIESREAD -1",
            "XCFGSET s IDMP-DURATION 100 IDMP-MAXSIZE 100"
        ]
    );
    run(&mut s, "XADD s 5-5 f v", &c);
    let (_, fx) = run(&mut s, "XGROUP CREATE s h $ ENTRIESREAD 1", &c);
    assert_eq!(repl(&fx), vec!["idmp.xgroup CREATE s h 5-5 ENTRIESREAD 1"]);
    let (_, fx) = run(&mut s, "XGROUP SETID s h $", &c);
    assert_eq!(repl(&fx), vec!["idmp.xgroup SETID s h 5-5 ENTRIESREAD -1"]);
    assert_eq!(fx.events, vec!["xgroup-setid"]);
    let (out, fx) = run(&mut s, "XGROUP CREATECONSUMER s h c", &c);
    assert_eq!(
        (out.as_str(), fx.events.clone()),
        (":1\r\n", vec!["xgroup-createconsumer"])
    );
    assert_eq!(repl(&fx), vec!["idmp.xgroup CREATECONSUMER s h c"]);
    let (_, fx) = run(&mut s, "XGROUP CREATECONSUMER s h c", &c);
    assert!(fx.replicate.is_empty() && fx.events.is_empty());
    let (_, fx) = run(&mut s, "XGROUP DELCONSUMER s h c", &c);
    assert_eq!(repl(&fx), vec!["idmp.xgroup DELCONSUMER s h c"]);
    let (out, fx) = run(&mut s, "XGROUP DESTROY s h", &c);
    assert_eq!(out, ":1\r\n");
    assert!(fx.signal_ready, "blocked XREADGROUP clients must be woken");
    assert_eq!(repl(&fx), vec!["idmp.xgroup DESTROY s h"]);
    let (out, fx) = run(&mut s, "XGROUP DESTROY s h", &c);
    assert_eq!(out, ":0\r\n");
    assert!(fx.replicate.is_empty() && !fx.signal_ready);
}

#[test]
fn xreadgroup_propagates_claims_and_group_id() {
    let mut s = setup();
    let (_, fx) = run(
        &mut s,
        "XREADGROUP GROUP g c COUNT 1 STREAMS s >",
        &ctx(2000),
    );
    assert_eq!(
        repl(&fx),
        vec![
            "idmp.xgroup CREATECONSUMER s g c",
            "idmp.xclaim s g c 0 1-1 TIME 2000 RETRYCOUNT 1 FORCE JUSTID LASTID 0-0",
            "idmp.xgroup SETID s g 1-1 ENTRIESREAD 1",
        ]
    );
    assert_eq!(fx.events, vec!["xgroup-createconsumer"]);
    let (_, fx) = run(&mut s, "XREADGROUP GROUP g c NOACK STREAMS s >", &ctx(2100));
    assert_eq!(repl(&fx), vec!["idmp.xgroup SETID s g 2-1 ENTRIESREAD 2"]);
    // History: a re-delivery propagates its new time and count.
    let (out, fx) = run(&mut s, "XREADGROUP GROUP g c STREAMS s 0", &ctx(2200));
    assert!(out.starts_with("*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-1\r\n"));
    assert_eq!(
        repl(&fx),
        vec!["idmp.xclaim s g c 0 1-1 TIME 2200 RETRYCOUNT 2 FORCE JUSTID LASTID 2-1"]
    );
    let g = s.as_ref().unwrap().groups.get(b"g").unwrap();
    let n = g.nack(StreamId::new(1, 1)).unwrap();
    assert_eq!((n.delivery_time, n.delivery_count), (2200, 2));
    // Redis 8.6 leaves active-time alone for a history read.
    assert_eq!(g.consumer(b"c").unwrap().active_time, 2000);
}

#[test]
fn xclaim_and_xautoclaim_propagation() {
    let mut s = setup();
    run(&mut s, "XREADGROUP GROUP g c STREAMS s >", &ctx(2000));
    run(&mut s, "XDEL s 1-1", &ctx(2000));
    let (out, fx) = run(
        &mut s,
        "XCLAIM s g d 0 1-1 2-1 JUSTID LASTID 7-0",
        &ctx(3000),
    );
    assert_eq!(out, "*1\r\n$3\r\n2-1\r\n");
    // Redis 7.2+: the consumer d is created before anything is claimed.
    assert_eq!(
        repl(&fx),
        vec![
            "idmp.xgroup CREATECONSUMER s g d",
            "idmp.xclaim s g c 0 1-1 TIME 2000 RETRYCOUNT 1 FORCE JUSTID LASTID 7-0",
            "idmp.xclaim s g d 0 2-1 TIME 3000 RETRYCOUNT 1 FORCE JUSTID LASTID 7-0",
        ]
    );
    assert_eq!(fx.events, vec!["xgroup-createconsumer"]);
    // LASTID alone: a SETID.
    let (out, fx) = run(&mut s, "XCLAIM s g d 0 9-9 LASTID 8-0", &ctx(3000));
    assert_eq!(out, "*0\r\n");
    assert_eq!(repl(&fx), vec!["idmp.xgroup SETID s g 8-0 ENTRIESREAD 2"]);
    let (out, fx) = run(&mut s, "XAUTOCLAIM s g e 10 0 JUSTID", &ctx(3100));
    assert_eq!(out, "*3\r\n$3\r\n0-0\r\n*1\r\n$3\r\n2-1\r\n*0\r\n");
    assert_eq!(
        repl(&fx),
        vec![
            "idmp.xgroup CREATECONSUMER s g e",
            "idmp.xclaim s g e 0 2-1 TIME 3100 RETRYCOUNT 1 FORCE JUSTID LASTID 8-0"
        ]
    );
    let (_, fx) = run(&mut s, "XACK s g 2-1 2-1 3-1", &ctx(3200));
    assert_eq!(repl(&fx), vec!["idmp.xack s g 2-1"]);
    let (_, fx) = run(&mut s, "XACK s g 2-1", &ctx(3200));
    assert!(fx.replicate.is_empty());
}

#[test]
fn xread_blocks_and_resumes() {
    let mut db = HashMap::new();
    // Nothing to serve without BLOCK: a null array.
    let (out, o, _) = xread(&mut db, "XREAD STREAMS s $", 1000, None);
    assert_eq!((out.as_str(), o), ("*-1\r\n", XreadOutcome::Replied));
    let (out, o, _) = xread(&mut db, "XREAD BLOCK 50 STREAMS s t $ 0", 1000, None);
    assert_eq!(out, "", "nothing is written when blocking");
    let spec = match o {
        XreadOutcome::Block(spec) => spec,
        XreadOutcome::Replied => panic!("expected a block"),
    };
    assert_eq!(spec.timeout_ms, 50);
    assert_eq!(spec.count, 1000);
    assert_eq!(
        spec.starts,
        vec![
            ReadStart::After(StreamId::MIN),
            ReadStart::After(StreamId::MIN)
        ]
    );
    // `$` was resolved at block time: an entry added later is served.
    let mut slot = None;
    run(&mut slot, "XADD t 5-0 f v", &ctx(1000));
    db.insert(b"t".to_vec(), slot.unwrap());
    let (out, o, _) = xread(&mut db, "XREAD BLOCK 50 STREAMS s t $ $", 1000, Some(&spec));
    assert_eq!(o, XreadOutcome::Replied);
    assert_eq!(
        out,
        "*1\r\n*2\r\n$1\r\nt\r\n*1\r\n*2\r\n$3\r\n5-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"
    );
    // A key of another type answers WRONGTYPE.
    let (out, _, _) = xread(&mut db, "XREAD STREAMS str 0", 1000, None);
    assert!(out.starts_with("-WRONGTYPE"));
}

#[test]
fn xreadgroup_blocked_on_a_destroyed_group_or_deleted_key_gets_nogroup() {
    let mut db = HashMap::new();
    db.insert(b"s".to_vec(), setup().unwrap());
    let (_, o, _) = xread(&mut db, "XREADGROUP GROUP g c STREAMS s >", 1000, None);
    assert_eq!(o, XreadOutcome::Replied);
    let (out, o, _) = xread(
        &mut db,
        "XREADGROUP GROUP g c BLOCK 0 STREAMS s >",
        1000,
        None,
    );
    assert_eq!(out, "");
    let XreadOutcome::Block(spec) = o else {
        panic!("expected a block");
    };
    assert_eq!(spec.starts, vec![ReadStart::New]);
    // Woken with nothing new: blocks again.
    let (_, o, _) = xread(
        &mut db,
        "XREADGROUP GROUP g c BLOCK 0 STREAMS s >",
        1000,
        Some(&spec),
    );
    assert!(matches!(o, XreadOutcome::Block(_)));
    // A new entry: served, delivered to c.
    let mut slot = db.remove(&b"s"[..]);
    run(&mut slot, "XADD s 3-1 c 3", &ctx(1000));
    db.insert(b"s".to_vec(), slot.unwrap());
    let (out, _, prop) = xread(
        &mut db,
        "XREADGROUP GROUP g c BLOCK 0 STREAMS s >",
        1500,
        Some(&spec),
    );
    assert!(out.contains("3-1"));
    assert_eq!(prop.len(), 2, "{prop:?}");
    // Group destroyed: NOGROUP.
    let mut slot = db.remove(&b"s"[..]);
    run(&mut slot, "XGROUP DESTROY s g", &ctx(1000));
    db.insert(b"s".to_vec(), slot.unwrap());
    let nogroup =
        "-NOGROUP No such key 's' or consumer group 'g' in XREADGROUP with GROUP option\r\n";
    let (out, o, _) = xread(
        &mut db,
        "XREADGROUP GROUP g c BLOCK 0 STREAMS s >",
        1000,
        Some(&spec),
    );
    assert_eq!((out.as_str(), o), (nogroup, XreadOutcome::Replied));
    // Key deleted: NOGROUP too.
    db.clear();
    let (out, _, _) = xread(
        &mut db,
        "XREADGROUP GROUP g c BLOCK 0 STREAMS s >",
        1000,
        Some(&spec),
    );
    assert_eq!(out, nogroup);
}

#[test]
fn script_block_error_and_parse_errors() {
    let args = words("XREAD BLOCK 0 FOO STREAMS s 0");
    let argv: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
    assert_eq!(
        super::xread::XreadRequest::parse_in(&argv, false, "xread", true).err(),
        Some("ERR xread command is not allowed with BLOCK option from scripts".into())
    );
    assert_eq!(
        super::testkit::perr("XREAD BLOCK 0 FOO STREAMS s 0"),
        Some("ERR syntax error".into())
    );
}

#[test]
fn same_key_twice_is_served_in_order() {
    let mut db = HashMap::new();
    db.insert(b"s".to_vec(), setup().unwrap());
    let (out, _, _) = xread(
        &mut db,
        "XREADGROUP GROUP g c COUNT 1 STREAMS s s > >",
        1000,
        None,
    );
    assert_eq!(
        out,
        "*2\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n\
*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n2-1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"
    );
    let (out, _, _) = xread(&mut db, "XREADGROUP GROUP g c STREAMS s s > >", 1000, None);
    assert_eq!(out, "*-1\r\n");
}

#[test]
fn entriesread_is_capped_to_entries_added() {
    let mut s = setup();
    let c = ctx(1000);
    let (_, fx) = run(&mut s, "XGROUP CREATE s h 0 ENTRIESREAD 1000", &c);
    assert_eq!(repl(&fx), vec!["idmp.xgroup CREATE s h 0-0 ENTRIESREAD 2"]);
    let (out, _) = run(&mut s, "XINFO GROUPS s", &c);
    assert!(
        out.contains("$12\r\nentries-read\r\n:2\r\n$3\r\nlag\r\n:2\r\n"),
        "{out}"
    );
    let (_, fx) = run(&mut s, "XGROUP SETID s h 0 ENTRIESREAD 5", &c);
    assert_eq!(repl(&fx), vec!["idmp.xgroup SETID s h 0-0 ENTRIESREAD 2"]);
    let (_, fx) = run(&mut s, "XGROUP SETID s h 0 ENTRIESREAD 1", &c);
    assert_eq!(repl(&fx), vec!["idmp.xgroup SETID s h 0-0 ENTRIESREAD 1"]);
    let mut e = None;
    let (_, fx) = run(&mut e, "XGROUP CREATE e g $ MKSTREAM ENTRIESREAD 3", &c);
    assert_eq!(
        repl(&fx),
        vec![
            "idmp.xgroup CREATE e g 0-0 MKSTREAM ENTRIESREAD 0",
            "XCFGSET e IDMP-DURATION 100 IDMP-MAXSIZE 100"
        ]
    );
}

/// Found by the `argv` fuzz target: `XGROUP CREATE s g 0 MKSTREAM` made the
/// stream with the master's IDMP defaults but propagated only the group, so
/// a replica (or the AOF loader) with other `idmp.stream-idmp-*` configs
/// created the stream with its own settings, and IDMP eviction then
/// diverged. The settings now follow the creation, as XADD's IDMPCFG does.
#[test]
fn xgroup_mkstream_propagates_the_new_stream_settings() {
    let mut c = ctx(1000);
    c.defaults.duration_secs = 7;
    c.defaults.maxsize = 9;
    let mut m = None;
    let (_, fx) = run(&mut m, "XGROUP CREATE s g 0 MKSTREAM", &c);
    let mut rc = ctx(1000);
    rc.trusted = true;
    rc.defaults.duration_secs = 33;
    rc.defaults.maxsize = 2;
    let mut r = None;
    for argv in &fx.owned_argvs() {
        let (out, _) = super::testkit::run_args(&mut r, argv, &rc, false);
        assert!(!out.starts_with('-'), "{out}");
    }
    let settings = |s: &Option<Stream>| s.as_ref().map(|s| s.idmp.settings());
    assert_eq!(settings(&r), settings(&m));
    assert_eq!(
        settings(&r).map(|s| (s.duration_secs, s.maxsize)),
        Some((7, 9))
    );
    // An existing stream keeps its settings: nothing more is propagated.
    let (_, fx) = run(&mut m, "XGROUP CREATE s h 0 MKSTREAM", &c);
    assert_eq!(repl(&fx), vec!["idmp.xgroup CREATE s h 0-0 ENTRIESREAD -1"]);
}

#[test]
fn xread_plus_reads_the_last_entry() {
    let mut db = HashMap::new();
    db.insert(b"s".to_vec(), setup().unwrap());
    let last = "*2\r\n$3\r\n2-1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n";
    let (out, _, _) = xread(&mut db, "XREAD COUNT 5 STREAMS s +", 1000, None);
    assert_eq!(out, format!("*1\r\n*2\r\n$1\r\ns\r\n*1\r\n{last}"));
    let mut slot = db.remove(&b"s"[..]);
    run(&mut slot, "XDEL s 2-1", &ctx(1000));
    db.insert(b"s".to_vec(), slot.unwrap());
    let (out, _, _) = xread(&mut db, "XREAD STREAMS s +", 1000, None);
    assert!(out.contains("1-1") && !out.contains("2-1"), "{out}");
    // Missing key: waits like `$`.
    let (out, o, _) = xread(&mut db, "XREAD BLOCK 0 STREAMS t +", 1000, None);
    assert_eq!(out, "");
    assert_eq!(
        o,
        XreadOutcome::Block(BlockSpec {
            timeout_ms: 0,
            starts: vec![ReadStart::After(StreamId::MIN)],
            count: 1000,
            claim_wake_ms: None
        })
    );
    let (out, _, _) = xread(&mut db, "XREADGROUP GROUP g c STREAMS s +", 1000, None);
    assert!(out.starts_with("-ERR The + ID is meaningless"), "{out}");
}

#[test]
fn xreadgroup_claim_takes_idle_pending_entries_first() {
    let mut db = HashMap::new();
    let mut slot = setup();
    run(&mut slot, "XADD s 3-1 c 3", &ctx(1000));
    db.insert(b"s".to_vec(), slot.unwrap());
    // alice reads 1-1 and 2-1 at t=1000.
    xread(
        &mut db,
        "XREADGROUP GROUP g alice COUNT 2 STREAMS s >",
        1000,
        None,
    );
    // At t=1050 nothing is idle 100 ms: only the new entry, with 0 0.
    let (out, _, _) = xread(
        &mut db,
        "XREADGROUP GROUP g bob CLAIM 100 STREAMS s >",
        1050,
        None,
    );
    assert_eq!(
        out,
        "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*4\r\n$3\r\n3-1\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n:0\r\n:0\r\n"
    );
    // At t=1200, 1-1 and 2-1 are idle 200: claimed by bob, before new ones.
    let (out, o, prop) = xread(
        &mut db,
        "XREADGROUP GROUP g bob COUNT 1 CLAIM 100 STREAMS s >",
        1200,
        None,
    );
    assert_eq!(o, XreadOutcome::Replied);
    assert_eq!(
        out,
        "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*4\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n:200\r\n:1\r\n"
    );
    assert_eq!(
        prop,
        vec!["idmp.xclaim s g bob 0 1-1 TIME 1200 RETRYCOUNT 2 FORCE JUSTID LASTID 3-1"]
    );
    let g = db[&b"s"[..]].groups.get(b"g").unwrap();
    assert_eq!(g.nack(StreamId::new(1, 1)).unwrap().consumer(), b"bob");
    // With BLOCK and nothing new, an idle entry is still served at once.
    let (out, o, _) = xread(
        &mut db,
        "XREADGROUP GROUP g bob BLOCK 0 CLAIM 100 STREAMS s >",
        1300,
        None,
    );
    assert_eq!(o, XreadOutcome::Replied);
    assert!(out.contains("2-1"), "{out}");
    assert_eq!(
        super::testkit::perr("XREAD CLAIM 5 STREAMS s 0"),
        Some(
            "ERR The CLAIM option is only supported by XREADGROUP. You called XREAD instead."
                .into()
        )
    );
    assert_eq!(
        super::testkit::perr("XREADGROUP GROUP g c CLAIM -1 STREAMS s >"),
        Some("ERR min-idle-time must be a positive integer".into())
    );
}

#[test]
fn xdelex_and_xackdel() {
    let c = ctx(1000);
    let mut s = setup();
    run(&mut s, "XADD s 3-1 c 3", &c);
    run(&mut s, "XREADGROUP GROUP g c COUNT 2 STREAMS s >", &c);
    // 1-1, 2-1 pending in g; 3-1 not yet delivered; 9-9 does not exist but
    // would be referenced (not yet delivered): Redis 8.6 answers 2 for it too.
    let (out, fx) = run(&mut s, "XDELEX s ACKED IDS 4 1-1 2-1 3-1 9-9", &c);
    assert_eq!(out, "*4\r\n:2\r\n:2\r\n:2\r\n:2\r\n");
    assert!(fx.replicate.is_empty());
    // 3-1 is not pending in g: -1, nothing done (as native 8.6.3).
    let (out, fx) = run(&mut s, "XACKDEL s g ACKED IDS 2 1-1 3-1", &c);
    assert_eq!(out, "*2\r\n:1\r\n:-1\r\n");
    assert_eq!(repl(&fx), vec!["idmp.xack s g 1-1", "idmp.xdel s 1-1"]);
    assert_eq!(fx.events, vec!["xdel"]);
    let (out, fx) = run(&mut s, "XDELEX s DELREF IDS 1 2-1", &c);
    assert_eq!(out, "*1\r\n:1\r\n");
    assert_eq!(repl(&fx), vec!["idmp.xack s g 2-1", "idmp.xdel s 2-1"]);
    assert_eq!(s.as_ref().unwrap().groups.get(b"g").unwrap().pending(), 0);
    let (out, _) = run(&mut s, "XDELEX s IDS 1 3-1", &c);
    assert_eq!(out, "*1\r\n:1\r\n");
    assert_eq!(s.as_ref().unwrap().len(), 0);
    let (out, _) = run(&mut None, "XDELEX nokey IDS 2 1-1 2-2", &c);
    assert_eq!(out, "*2\r\n:-1\r\n:-1\r\n");
    // A missing group (or key): -1 per ID, even for an invalid ID.
    let (out, _) = run(&mut s, "XACKDEL s nog IDS 2 1-1 bad", &c);
    assert_eq!(out, "*2\r\n:-1\r\n:-1\r\n");
    let (out, _) = run(&mut s, "XDELEX s IDS 1 bad", &c);
    assert_eq!(
        out,
        "-ERR Invalid stream ID specified as stream command argument\r\n"
    );
    for (line, err) in [
        (
            "XDELEX s IDS 2 1-1",
            "ERR The `numids` parameter must match the number of arguments",
        ),
        (
            "XDELEX s IDS 0 1-1",
            "ERR Number of IDs must be a positive integer",
        ),
        (
            "XDELEX s IDS x 1-1",
            "ERR Number of IDs must be a positive integer",
        ),
        ("XDELEX s KEEPREF ACKED IDS 1 1-1", "ERR syntax error"),
        ("XDELEX s FOO IDS 1 1-1", "ERR syntax error"),
        ("XDELEX s IDS 1 1-1 2-1", "ERR syntax error"),
        (
            "XDELEX s IDS 1",
            "ERR wrong number of arguments for 'xdelex' command",
        ),
        (
            "XACKDEL s g IDS 1",
            "ERR wrong number of arguments for 'xackdel' command",
        ),
        ("XDELEX s ACKED 1-1 2-2", "ERR syntax error"),
    ] {
        assert_eq!(super::testkit::perr(line), Some(err.to_string()), "{line}");
    }
}

#[test]
fn trimming_with_reference_policies() {
    let c = ctx(1000);
    let build = || {
        let mut s = setup();
        for l in ["XADD s 3-1 c 3", "XADD s 4-1 d 4", "XADD s 5-1 e 5"] {
            run(&mut s, l, &c);
        }
        // g: 1-1 acked, 2-1 pending, 3-1 read and acked, 4-1 and 5-1 unread.
        run(&mut s, "XREADGROUP GROUP g c COUNT 3 STREAMS s >", &c);
        run(&mut s, "XACK s g 1-1 3-1", &c);
        s
    };
    // KEEPREF: trims, the pending 2-1 stays in the PEL.
    let mut s = build();
    let (out, fx) = run(&mut s, "XTRIM s MAXLEN 2 KEEPREF", &c);
    assert_eq!(out, ":3\r\n");
    assert_eq!(repl(&fx), vec!["idmp.xtrim s MAXLEN = 2"]);
    assert_eq!(s.as_ref().unwrap().groups.get(b"g").unwrap().pending(), 1);
    // DELREF: trims and drops the reference.
    let mut s = build();
    let (out, fx) = run(&mut s, "XTRIM s MAXLEN 2 DELREF", &c);
    assert_eq!(out, ":3\r\n");
    assert_eq!(
        repl(&fx),
        vec!["idmp.xtrim s TRIMIDS 1-1 2-1 3-1", "idmp.xack s g 2-1"]
    );
    assert_eq!(s.as_ref().unwrap().groups.get(b"g").unwrap().pending(), 0);
    // ACKED (Redis 8.6, checked on native 8.6.3): skips the pending 2-1 and
    // goes on, 1-1 and 3-1 go; 4-1 and 5-1 are not yet delivered.
    let mut s = build();
    let (out, fx) = run(&mut s, "XTRIM s MAXLEN 0 ACKED", &c);
    assert_eq!(out, ":2\r\n");
    assert_eq!(repl(&fx), vec!["idmp.xtrim s TRIMIDS 1-1 3-1"]);
    run(&mut s, "XACK s g 2-1", &c);
    // Now 4-1 (not yet delivered) and 5-1 are referenced.
    let (out, fx) = run(&mut s, "XTRIM s MINID 9 ACKED", &c);
    assert_eq!(out, ":1\r\n");
    assert_eq!(repl(&fx), vec!["idmp.xtrim s TRIMIDS 2-1"]);
    // XADD with ACKED: nothing unreferenced is left to trim.
    let (out, fx) = run(&mut s, "XADD s ACKED MAXLEN 1 6-1 f 6", &c);
    assert_eq!(out, "$3\r\n6-1\r\n");
    assert_eq!(repl(&fx), vec!["idmp.xadd s 6-1 f 6"]);
    assert_eq!(s.as_ref().unwrap().len(), 3);
    // No groups: ACKED trims as 7.0.
    let mut t = None;
    for l in ["XADD t 1-1 a 1", "XADD t 2-1 b 2"] {
        run(&mut t, l, &c);
    }
    let (out, _) = run(&mut t, "XTRIM t MAXLEN 0 ACKED", &c);
    assert_eq!(out, ":2\r\n");
}

#[test]
fn trusted_xclaim_keeps_a_future_time() {
    let mut s = setup();
    let mut t = ctx(1000);
    run(&mut s, "XCLAIM s g c 0 1-1 FORCE TIME 5000", &t);
    let n = s
        .as_ref()
        .unwrap()
        .groups
        .get(b"g")
        .unwrap()
        .nack(StreamId::new(1, 1))
        .cloned();
    assert_eq!(
        n.unwrap().delivery_time,
        1000,
        "a client's future time is clamped"
    );
    t.trusted = true;
    run(&mut s, "XCLAIM s g c 0 1-1 FORCE TIME 5000", &t);
    let n = s
        .as_ref()
        .unwrap()
        .groups
        .get(b"g")
        .unwrap()
        .nack(StreamId::new(1, 1))
        .cloned();
    assert_eq!(n.unwrap().delivery_time, 5000);
}

#[test]
fn resumed_reads_treat_another_type_as_missing() {
    let mut db = HashMap::new();
    db.insert(b"s".to_vec(), setup().unwrap());
    let spec = BlockSpec {
        timeout_ms: 0,
        starts: vec![ReadStart::New],
        count: 1000,
        claim_wake_ms: None,
    };
    // "str" is another type in the test lookup.
    let (out, _, _) = xread(
        &mut db,
        "XREADGROUP GROUP g c BLOCK 0 STREAMS str >",
        1000,
        Some(&spec),
    );
    assert_eq!(
        out,
        "-NOGROUP No such key 'str' or consumer group 'g' in XREADGROUP with GROUP option\r\n"
    );
    let spec = BlockSpec {
        timeout_ms: 0,
        starts: vec![ReadStart::After(StreamId::MIN)],
        count: 1000,
        claim_wake_ms: None,
    };
    let (out, o, _) = xread(&mut db, "XREAD BLOCK 0 STREAMS str 0", 1000, Some(&spec));
    assert_eq!(out, "");
    assert!(matches!(o, XreadOutcome::Block(_)));
}

#[test]
fn internal_setconsumertime_is_for_trusted_callers_only() {
    assert_eq!(
        super::testkit::perr("XGROUP SETCONSUMERTIME s g c 1 2"),
        Some("ERR unknown subcommand 'SETCONSUMERTIME'. Try XGROUP HELP.".into())
    );
    let mut s = setup();
    let mut t = ctx(1000);
    run(&mut s, "XGROUP CREATECONSUMER s g c", &t);
    t.trusted = true;
    let (out, _) = run(&mut s, "XGROUP SETCONSUMERTIME s g c 77 88", &t);
    assert_eq!(out, "+OK\r\n");
    let c = s
        .as_ref()
        .unwrap()
        .groups
        .get(b"g")
        .unwrap()
        .consumer(b"c")
        .cloned()
        .unwrap();
    assert_eq!((c.seen_time, c.active_time), (77, 88));
}

/// Found by the `argv` fuzz target: `XGROUP CREATE s g 0 ENTRIESREAD 1` on
/// a one-entry stream, then `XREADGROUP ... STREAMS s >`: the read counter
/// goes to 2 (Redis 7.0 increments it without a cap), the master
/// propagates `SETID ... ENTRIESREAD 2`, and the replica capped that to
/// entries-added (1). Trusted callers now apply the counter as given.
#[test]
fn replica_applies_the_masters_read_counter_uncapped() {
    let c = ctx(1000);
    let mut rc = ctx(1000);
    rc.trusted = true;
    let mut m = None;
    let mut r = None;
    for line in [
        "XADD s 1-1 f v",
        "XGROUP CREATE s g 0 ENTRIESREAD 1",
        "XREADGROUP GROUP g c STREAMS s >",
    ] {
        let (_, fx) = run(&mut m, line, &c);
        for argv in &fx.owned_argvs() {
            let (out, _) = super::testkit::run_args(&mut r, argv, &rc, false);
            assert!(!out.starts_with('-'), "{out}");
        }
    }
    let counter = |s: &Option<Stream>| {
        s.as_ref()
            .and_then(|s| s.groups.get(b"g"))
            .map(|g| g.entries_read)
    };
    // Redis 8.6 (checked on native 8.6.3): the group's last ID is behind the
    // first entry, so the counter is estimated from the read ID: 1.
    assert_eq!(counter(&m), Some(1));
    assert_eq!(counter(&r), Some(1));
    // A client's ENTRIESREAD is still capped to entries-added.
    let (_, fx) = run(&mut m, "XGROUP SETID s g 0 ENTRIESREAD 9", &c);
    assert_eq!(repl(&fx), vec!["idmp.xgroup SETID s g 0-0 ENTRIESREAD 1"]);
}

#[test]
fn blocked_xreadgroup_claim_knows_when_an_entry_becomes_claimable() {
    let mut db = HashMap::new();
    db.insert(b"s".to_vec(), setup().unwrap());
    // alice takes both entries at t=1000.
    xread(&mut db, "XREADGROUP GROUP g alice STREAMS s >", 1000, None);
    // Nothing new, nothing idle 100 ms at t=1050: blocks until 1100.
    let (out, o, _) = xread(
        &mut db,
        "XREADGROUP GROUP g bob BLOCK 0 CLAIM 100 STREAMS s >",
        1050,
        None,
    );
    assert_eq!(out, "");
    match o {
        XreadOutcome::Block(spec) => assert_eq!(spec.claim_wake_ms, Some(1100)),
        other => panic!("{other:?}"),
    }
    // Without CLAIM there is nothing to wake for.
    let (_, o, _) = xread(
        &mut db,
        "XREADGROUP GROUP g bob BLOCK 0 STREAMS s >",
        1050,
        None,
    );
    match o {
        XreadOutcome::Block(spec) => assert_eq!(spec.claim_wake_ms, None),
        other => panic!("{other:?}"),
    }
    // Empty PEL: now + min-idle-time (8.4 wakes the reader then).
    let mut slot = db.remove(&b"s"[..]);
    run(&mut slot, "XACK s g 1-1 2-1", &ctx(1060));
    db.insert(b"s".to_vec(), slot.unwrap());
    let (_, o, _) = xread(
        &mut db,
        "XREADGROUP GROUP g bob BLOCK 0 CLAIM 100 STREAMS s >",
        1060,
        None,
    );
    match o {
        XreadOutcome::Block(spec) => assert_eq!(spec.claim_wake_ms, Some(1160)),
        other => panic!("{other:?}"),
    }
}
