//! Microbenchmark of the pure IDMP model at scale: XADD IDMP with a fresh
//! counter iid per add, round robin over 1 or 100,000 producers that each
//! hold IDMP-MAXSIZE iids (every add evicts its producer's oldest iid), the
//! way `commands::xadd::idmp_add` drives the state (`expire`, `probe`,
//! `record_probed`). The stream itself is not involved.
//!
//! Build and run without the server glue (its allocator needs a server):
//!
//! ```text
//! cargo run --release --no-default-features --example idmp_scale
//! cargo run --release --no-default-features --example idmp_scale -- 100000 10 3000000
//! ```
//!
//! With no argument it runs 1 x 10 and 100,000 x 10, alternating, and prints
//! ns per add (best of the rounds) and the ratio of the rates. With
//! `producers maxsize adds` it runs that one case once (for `perf stat`).

#[cfg(feature = "module")]
fn main() {
    eprintln!("build with --no-default-features (the module's allocator needs a server)");
}

#[cfg(not(feature = "module"))]
fn main() {
    bench::main();
}

#[cfg(not(feature = "module"))]
mod bench {
    use std::hint::black_box;
    use std::time::Instant;

    use redis_idmp::stream::idmp::{IdmpSettings, IdmpState};
    use redis_idmp::stream::StreamId;

    /// One workload: a state filled to `producers x maxsize` iids and then
    /// warmed by one more add per producer (the first eviction of each), and
    /// the next counter.
    struct Load {
        state: IdmpState,
        pids: Vec<Vec<u8>>,
        next: u64,
        seq: u64,
    }

    /// `p<g, 8 digits>` like bench/loadgen.rs.
    fn pid_of(g: u64) -> Vec<u8> {
        format!("p{g:08}").into_bytes()
    }

    /// The 16-digit zero-padded decimal of `v` (loadgen's iid shape).
    fn iid_of(mut v: u64, buf: &mut [u8; 16]) {
        for b in buf.iter_mut().rev() {
            *b = b'0' + (v % 10) as u8;
            v /= 10;
        }
    }

    impl Load {
        fn new(producers: u64, maxsize: u32) -> Load {
            let state = IdmpState::new(IdmpSettings {
                duration_secs: 86_400,
                maxsize,
            });
            let pids = (0..producers).map(pid_of).collect();
            let mut l = Load {
                state,
                pids,
                next: 0,
                seq: 0,
            };
            l.fill(producers * (u64::from(maxsize) + 1));
            l
        }

        /// `n` fresh adds (the prefill).
        #[inline(never)]
        fn fill(&mut self, n: u64) {
            self.run(n);
        }

        /// `n` fresh adds, measured; returns the seconds taken. Not inlined,
        /// so that `valgrind --tool=callgrind --toggle-collect='*measured*'`
        /// counts these adds only.
        #[inline(never)]
        fn measured(&mut self, n: u64) -> f64 {
            self.run(n)
        }

        /// `n` fresh adds; returns the seconds taken.
        #[inline(always)]
        fn run(&mut self, n: u64) -> f64 {
            let producers = self.pids.len() as u64;
            let mut iid = [0u8; 16];
            let start = Instant::now();
            for _ in 0..n {
                let g = self.next;
                self.next += 1;
                // About 1,000 adds per millisecond.
                let now = 1_700_000_000_000 + g / 1000;
                let pid = &self.pids[(g % producers) as usize];
                iid_of(g / producers, &mut iid);
                let s = &mut self.state;
                s.expire(now);
                let probe = s.probe(pid, &iid, now);
                if black_box(probe.found()).is_some() {
                    s.iids_duplicates += 1;
                    continue;
                }
                self.seq += 1;
                let id = StreamId::new(now, self.seq);
                s.record_probed(probe, id, now);
                s.iids_added += 1;
            }
            start.elapsed().as_secs_f64()
        }
    }

    fn ns_per_add(l: &mut Load, n: u64) -> f64 {
        l.measured(n) * 1e9 / n as f64
    }

    pub fn main() {
        let args: Vec<u64> = std::env::args()
            .skip(1)
            .filter_map(|a| a.parse().ok())
            .collect();
        if let [producers, maxsize, adds] = args[..] {
            let t = Instant::now();
            let mut l = Load::new(producers, maxsize as u32);
            let fill = t.elapsed().as_secs_f64();
            let ns = ns_per_add(&mut l, adds);
            println!(
                "{producers} x {maxsize}: fill {fill:.2}s, {ns:.1} ns/add, {} iids, {} pids, {} B/iid",
                l.state.iids_tracked(),
                l.state.pids_tracked(),
                l.state.mem_usage() as f64 / l.state.iids_tracked() as f64
            );
            return;
        }
        let n = 2_000_000;
        let mut one = Load::new(1, 10);
        let mut many = Load::new(100_000, 10);
        let (mut b1, mut bm) = (f64::MAX, f64::MAX);
        for round in 0..7 {
            let a = ns_per_add(&mut one, n);
            let b = ns_per_add(&mut many, n);
            b1 = b1.min(a);
            bm = bm.min(b);
            println!(
                "round {round}: 1x10 {a:.1} ns/add, 100000x10 {b:.1} ns/add, ratio {:.3}",
                a / b
            );
        }
        println!(
            "best: 1x10 {b1:.1} ns/add, 100000x10 {bm:.1} ns/add, rate ratio {:.3}; \
             model bytes/iid 1x10 {:.1}, 100000x10 {:.1}",
            b1 / bm,
            one.state.mem_usage() as f64 / one.state.iids_tracked() as f64,
            many.state.mem_usage() as f64 / many.state.iids_tracked() as f64
        );
    }
}
