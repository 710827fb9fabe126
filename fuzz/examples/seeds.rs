//! Writes the seed corpus under `fuzz/corpus/<target>/` (committed; the
//! fuzzers' own corpora go to `fuzz/work/`): run
//! `cargo run --manifest-path fuzz/Cargo.toml --example seeds`.

use std::fs;
use std::path::Path;

use redis_idmp::persist::rdb::{RdbRead, RdbWrite};
use redis_idmp::stream::{NodeLimits, Stream, StreamId};
use redis_idmp_fuzz::check::ctx;
use redis_idmp_fuzz::db::Db;
use redis_idmp_fuzz::ops::START_MS;
use redis_idmp_fuzz::rdbio::{save, FuzzReader, FuzzWriter};
use redis_idmp_fuzz::sink::Sink;

const SESSIONS: &[&str] = &[
    "XADD s * f v\nXADD s IDMP p i * f v\nXADD s IDMP p i * f v\nXADD s IDMPAUTO q * a b\n\
     XINFO STREAM s FULL\nXRANGE s - +\nXREVRANGE s + - COUNT 1\nXLEN s",
    "XADD s MAXLEN ~ 2 * f v\nXADD s MAXLEN = 1 * f v\nXTRIM s MINID ~ 0\nXDEL s 1000001-0\n\
     XSETID s 2000000-0 ENTRIESADDED 9 MAXDELETEDID 1-0\nXCFGSET s IDMP-DURATION 5 IDMP-MAXSIZE 2\n\
     XIDMPRECORD s p i 1000002-0\nXINFO STREAM s",
    "XGROUP CREATE s g $ MKSTREAM\nXADD s * f v\nXADD s * g w\nXREADGROUP GROUP g c COUNT 1 STREAMS s >\n\
     XREADGROUP GROUP g d STREAMS s >\nXPENDING s g - + 10\nXCLAIM s g d 0 1000005-0 FORCE\n\
     XAUTOCLAIM s g c 0 0 COUNT 5\nXACK s g 1000005-0\nXINFO GROUPS s\nXINFO CONSUMERS s g\n\
     XDELEX s ACKED IDS 1 1000005-0\nXACKDEL s g DELREF IDS 1 1000006-0\nXGROUP DELCONSUMER s g d",
    "XREAD COUNT 2 BLOCK 0 STREAMS s t $ $\nXADD t * f v\nXREAD STREAMS s t 0 0\nXREAD STREAMS s +\n\
     XREADGROUP GROUP g c BLOCK 10 STREAMS s >\nXGROUP CREATE s g 0 MKSTREAM ENTRIESREAD 0\n\
     XREADGROUP GROUP g c COUNT 1 CLAIM 5 STREAMS s >\nXGROUP SETID s g 0 ENTRIESREAD 1\nXINFO HELP",
    "idmp.xadd s IDMPCFG 10 3 IDMP p i IDMPAT 1000 1-1 f v\nXIDMPRECORD s p j 1-1 IDMPAT 1001\n\
     idmp.idmpcounters s 5 2\nidmp.xadd s MAXLEN = 0 2-0 f v\nidmp.xsetid s 3-0 ENTRIESADDED 4 MAXDELETEDID 2-0",
];

/// A stream with entries, IDMP records and a group with a PEL, from
/// `lines` run at increasing times with `limits`.
fn build(lines: &str, limits: NodeLimits) -> Db {
    let mut db = Db::default();
    for (i, line) in lines.lines().enumerate() {
        let argv: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
        let c = ctx(START_MS + i as u64, true, limits);
        db.run(&argv, &c, &mut Sink::new(false), None);
    }
    db
}

/// Re-encodes an encoding-2 payload as encoding 0 (entries instead of
/// node blobs; the rest is the same).
fn as_v0(v2: &[u8], s: &Stream) -> Vec<u8> {
    let mut r = FuzzReader::new(v2);
    let nodes = r.read_u64().unwrap_or(0);
    for _ in 0..nodes {
        let _ = r.read_bytes();
    }
    let tail = v2.get(r.position()..).unwrap_or_default();
    let mut w = FuzzWriter::default();
    let entries: Vec<_> = s.store.range(StreamId::MIN, StreamId::MAX).collect();
    w.write_u64(entries.len() as u64);
    for e in entries {
        w.write_u64(e.id().ms);
        w.write_u64(e.id().seq);
        w.write_u64(e.field_count() as u64);
        for (f, v) in e.fields() {
            w.write_bytes(f);
            w.write_bytes(v);
        }
    }
    w.0.extend_from_slice(tail);
    w.0
}

fn write(target: &str, name: &str, data: &[u8]) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    fs::create_dir_all(&dir).expect("corpus dir");
    fs::write(dir.join(name), data).expect("seed file");
}

fn main() {
    for (i, s) in SESSIONS.iter().enumerate() {
        // Flags: untrusted RESP2, then trusted RESP3 with one entry per node.
        let flags = if i % 2 == 0 { 0u8 } else { 1 | 2 | (1 << 2) };
        let mut seed = vec![flags];
        seed.extend_from_slice(s.as_bytes());
        write("argv", &format!("session-{i}"), &seed);
    }
    write("argv", "indexed", b"\x00\x00s * f v\n\x01s - +\n\x2a\n\x0cCREATE s g 0\n\x0bGROUP g c STREAMS s >\n\x22GROUP g c STREAMS s 0");

    let limits = [
        NodeLimits::default(),
        NodeLimits {
            max_bytes: 4096,
            max_entries: 2,
        },
    ];
    for (i, s) in SESSIONS.iter().enumerate() {
        let db = build(s, limits[i % 2]);
        for (k, st) in &db.keys {
            let v2 = save(st);
            let key = String::from_utf8_lossy(k);
            write("rdb_load", &format!("v2-session-{i}-{key}"), &v2);
            write(
                "rdb_load",
                &format!("v0-session-{i}-{key}"),
                &as_v0(&v2, st),
            );
        }
    }

    write(
        "rdb_roundtrip",
        "xadds",
        &[0, 0, 0, 1, 7, 0, 2, 2, 2, 0, 0, 2, 0, 0, 3, 1, 0],
    );
    write(
        "rdb_roundtrip",
        "groups",
        &[
            5, 0, 0, 1, 1, 0, 0, 1, 1, 12, 0, 0, 0, 2, 17, 0, 0, 2, 1, 0, 18, 0, 1, 3, 1, 0, 19, 0,
            40, 44, 20, 0, 2, 0, 40, 44, 0,
        ],
    );
    let ramp: Vec<u8> = (0..=255u8).collect();
    write("rdb_roundtrip", "ramp", &ramp);
    let every: Vec<u8> = (0..26u8).flat_map(|op| [op, 1, 2, 3, 4, 5, 6]).collect();
    write("rdb_roundtrip", "every-op", &every);

    for (i, s) in [
        "0-0",
        "5",
        "1-*",
        "(5-3",
        "(0-0",
        "18446744073709551615-18446744073709551615",
        " +5",
        "-",
        "+",
        "007-08",
        "-1",
        "9223372036854775808",
    ]
    .iter()
    .enumerate()
    {
        write("stream_id", &format!("id-{i}"), s.as_bytes());
    }
    write(
        "stream_id",
        "raw16",
        &[
            1, 2, 3, 4, 5, 6, 7, 8, 255, 255, 255, 255, 255, 255, 255, 255,
        ],
    );
}
