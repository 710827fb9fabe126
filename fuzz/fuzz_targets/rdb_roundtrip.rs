//! Streams built by fuzzer-chosen commands (`redis_idmp_fuzz::ops`; the
//! first byte picks the node limits) survive save/load and an AOF rewrite
//! unchanged, at the end and after every 32nd op.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redis_idmp::stream::NodeLimits;
use redis_idmp_fuzz::check::{aof_round_trip, ctx, first_id_consistent, rdb_round_trip};
use redis_idmp_fuzz::db::Db;
use redis_idmp_fuzz::ops::{decode, Op, START_MS};
use redis_idmp_fuzz::sink::Sink;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let limits = NodeLimits {
        max_bytes: [4096, 0, 64, 1][usize::from(flags & 3)],
        max_entries: [100, 1, 2, 3, 0, 5, 100, 10][usize::from(flags >> 2) % 8],
    };
    let mut db = Db::default();
    let mut now = START_MS;
    let check = |db: &Db, now: u64| {
        for s in db.keys.values() {
            assert!(
                first_id_consistent(s),
                "first_id {} is not the first entry's",
                s.first_id
            );
            rdb_round_trip(s, now);
            aof_round_trip(s, now);
        }
    };
    for (i, op) in decode(rest).into_iter().enumerate() {
        match op {
            Op::Tick(ms) => now += ms,
            Op::Cmd(argv) => {
                now += 1;
                let refs: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
                db.run(&refs, &ctx(now, false, limits), &mut Sink::new(false), None);
            }
        }
        if i % 32 == 31 {
            check(&db, now);
        }
    }
    check(&db, now);
});
