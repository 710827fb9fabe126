//! Arbitrary bytes as an RDB payload (items as `redis_idmp_fuzz::rdbio`
//! reads them) for every encoding version from -1 to 4: versions the module
//! does not read must fail cleanly, and a stream that loads must survive
//! save/load and an AOF rewrite, and serve commands without panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redis_idmp::persist::rdb::{load_stream, ENCODING_VERSION};
use redis_idmp::stream::NodeLimits;
use redis_idmp_fuzz::check::{aof_round_trip, exercise, rdb_round_trip};
use redis_idmp_fuzz::ops::START_MS;
use redis_idmp_fuzz::rdbio::FuzzReader;

fuzz_target!(|data: &[u8]| {
    for encver in -1..=4 {
        let mut r = FuzzReader::new(data);
        let loaded = load_stream(&mut r, encver, NodeLimits::default());
        let Ok(s) = loaded else {
            continue;
        };
        assert!(
            (0..=ENCODING_VERSION).contains(&encver),
            "loaded with encoding version {encver}"
        );
        // Times around the loaded IDMP times, and far past them.
        let now = s.idmp.last_time_ms().max(START_MS);
        rdb_round_trip(&s, now);
        aof_round_trip(&s, now);
        exercise(&s, now);
        exercise(&s, now.saturating_add(1 << 40));
    }
});
