//! Checks shared by the RDB targets: a stream survives save/load and an AOF
//! rewrite unchanged, and a loaded stream serves commands without panics.

use redis_idmp::commands::ExecCtx;
use redis_idmp::persist::aof::rewrite_commands_at;
use redis_idmp::persist::rdb::{load_stream, ENCODING_VERSION};
use redis_idmp::stream::idmp::IdmpSettings;
use redis_idmp::stream::{NodeLimits, Stream, StreamId};

use crate::db::Db;
use crate::rdbio::{save, FuzzReader};
use crate::sink::Sink;
use crate::view::View;

/// The key the checks store streams under.
pub const KEY: &[u8] = b"k";

/// A context at `now_ms`.
pub fn ctx(now_ms: u64, trusted: bool, limits: NodeLimits) -> ExecCtx {
    ExecCtx {
        now_ms,
        limits,
        trusted,
        defaults: IdmpSettings::default(),
    }
}

/// Saves `s`, loads it back with the current encoding, and panics unless
/// the reloaded stream is the same: same view, same payload when saved
/// again, same replies to the read commands at `now_ms`.
pub fn rdb_round_trip(s: &Stream, now_ms: u64) {
    let bytes = save(s);
    let mut r = FuzzReader::new(&bytes);
    let back = match load_stream(&mut r, ENCODING_VERSION, NodeLimits::default()) {
        Ok(b) => b,
        Err(e) => panic!("a saved stream does not load: {e}"),
    };
    assert!(r.at_end(), "the loader left bytes of its own payload");
    assert_eq!(View::of(s), View::of(&back), "view after save/load");
    assert_eq!(save(&back), bytes, "payload after save/load/save");
    assert_eq!(
        read_replies(s, now_ms),
        read_replies(&back, now_ms),
        "replies after save/load"
    );
}

/// The names of the groups of `s`.
fn group_names(s: &Stream) -> Vec<Vec<u8>> {
    s.groups.iter().map(|(n, _)| n.to_vec()).collect()
}

/// The transcripts of the read commands on a copy of `s` (XINFO and
/// XPENDING may expire IDMP state, hence the copy).
pub fn read_replies(s: &Stream, now_ms: u64) -> Vec<Vec<u8>> {
    let mut lines: Vec<Vec<&[u8]>> = vec![
        vec![b"XRANGE", KEY, b"-", b"+"],
        vec![b"XREVRANGE", KEY, b"+", b"-", b"COUNT", b"3"],
        vec![b"XLEN", KEY],
        vec![b"XINFO", b"STREAM", KEY],
        vec![b"XINFO", b"STREAM", KEY, b"FULL"],
        vec![b"XINFO", b"GROUPS", KEY],
        vec![b"XREAD", b"STREAMS", KEY, b"0"],
    ];
    let names = group_names(s);
    for g in &names {
        lines.push(vec![b"XINFO", b"CONSUMERS", KEY, g]);
        lines.push(vec![b"XPENDING", KEY, g]);
        lines.push(vec![b"XPENDING", KEY, g, b"-", b"+", b"10"]);
    }
    let mut db = Db::default();
    db.keys.insert(KEY.to_vec(), s.clone());
    let c = ctx(now_ms, false, NodeLimits::default());
    let mut out = Vec::new();
    for resp3 in [false, true] {
        for argv in &lines {
            let mut sink = Sink::recording(resp3);
            db.run(argv, &c, &mut sink, None);
            out.push(sink.transcript.unwrap_or_default());
        }
    }
    out
}

/// Runs reads and writes on a copy of `s` at `now_ms`: a loaded stream must
/// serve them without panics (replies are checked for well-formedness).
pub fn exercise(s: &Stream, now_ms: u64) {
    read_replies(s, now_ms);
    let mut db = Db::default();
    db.keys.insert(KEY.to_vec(), s.clone());
    let c = ctx(now_ms, false, NodeLimits::default());
    let mut lines: Vec<Vec<&[u8]>> = vec![
        vec![b"XADD", KEY, b"*", b"f", b"v"],
        vec![b"XADD", KEY, b"IDMP", b"p", b"i", b"*", b"f", b"v"],
        vec![b"XADD", KEY, b"IDMP", b"p", b"i", b"*", b"f", b"v"],
        vec![b"XADD", KEY, b"IDMPAUTO", b"p", b"*", b"f", b"v"],
        vec![b"XCFGSET", KEY, b"IDMP-MAXSIZE", b"1"],
        vec![b"XTRIM", KEY, b"MAXLEN", b"~", b"2"],
        vec![b"XDEL", KEY, b"0-1", b"1-0"],
        vec![b"XSETID", KEY, b"18446744073709551615-18446744073709551615"],
    ];
    let names = group_names(s);
    for g in &names {
        lines.push(vec![
            b"XREADGROUP",
            b"GROUP",
            g,
            b"c",
            b"STREAMS",
            KEY,
            b">",
        ]);
        lines.push(vec![
            b"XREADGROUP",
            b"GROUP",
            g,
            b"c",
            b"STREAMS",
            KEY,
            b"0",
        ]);
        lines.push(vec![b"XAUTOCLAIM", KEY, g, b"d", b"0", b"0"]);
        lines.push(vec![b"XCLAIM", KEY, g, b"d", b"0", b"0-1", b"FORCE"]);
        lines.push(vec![b"XACKDEL", KEY, g, b"ACKED", b"IDS", b"1", b"0-1"]);
        lines.push(vec![b"XGROUP", b"SETID", KEY, g, b"$"]);
        lines.push(vec![b"XGROUP", b"DESTROY", KEY, g]);
    }
    lines.push(vec![b"XTRIM", KEY, b"MAXLEN", b"0", b"ACKED"]);
    for argv in &lines {
        db.run(argv, &c, &mut Sink::new(false), None);
    }
    read_replies(db.keys.get(KEY).unwrap_or(s), now_ms);
}

/// Replays the AOF rewrite of `s` on an empty key space (as the AOF loader:
/// trusted, other module defaults) and panics unless it gives back `s`
/// (IDMP insertion times and consumer times aside: a replayed record gets a
/// fresh age, a replayed consumer fresh times; iids expired at `now_ms` are
/// left out of the rewrite).
pub fn aof_round_trip(s: &Stream, now_ms: u64) {
    let mut db = Db::default();
    let mut c = ctx(now_ms, true, NodeLimits::default());
    c.defaults = IdmpSettings {
        duration_secs: 33,
        maxsize: 2,
    };
    for argv in rewrite_commands_at(KEY, s, now_ms) {
        let refs: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
        let mut sink = Sink::new(false);
        db.run(&refs, &c, &mut sink, None);
        assert_eq!(sink.errors, 0, "the AOF loader refused {argv:?}");
    }
    let back = db.keys.get(KEY).expect("the rewrite creates the key");
    let mut want = s.clone();
    want.idmp.expire(now_ms);
    let mut got = back.clone();
    got.idmp.expire(now_ms);
    assert_eq!(
        View::of(&want)
            .without_idmp_times()
            .without_consumer_times(),
        View::of(&got).without_idmp_times().without_consumer_times(),
        "state after an AOF rewrite and replay"
    );
}

/// True when `s.first_id` is the first live entry's ID (0-0 when empty), as
/// commands keep it.
pub fn first_id_consistent(s: &Stream) -> bool {
    s.first_id == s.store.first_id().unwrap_or(StreamId::MIN)
}
