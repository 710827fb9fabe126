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
//! The adds arrive in the order bench/loadgen.rs's connections produce them:
//! request `g` goes to producer `g % producers` with iid `g / producers`, a
//! run of N requests is split into one contiguous range per connection, and
//! the connections take turns sending `pipeline` requests each. So with
//! several connections a producer's adds come from several ranges and its
//! oldest iid is often not the queue's front (stale queue entries), as in
//! `make bench`. Like bench.py, the prefill is `producers x maxsize` requests
//! over 4 connections pipelining 64, and runs are 200,000 requests over 8
//! connections pipelining 16 (one warm-up run first).
//!
//! With no argument it runs 1 x 10 and 100,000 x 10, alternating, and prints
//! ns per add (best of the rounds) and the ratio of the rates, for 8
//! connections and for 1 (strict round robin). With
//! `producers maxsize adds [conns]` it runs that one case once (for `perf`
//! and callgrind).

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

    /// Requests of one run (bench.py's count).
    const RUN: u64 = 200_000;

    /// One workload: a state, its pids, the next request number.
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

    /// The arrival order of requests `start..start + n` sent by loadgen over
    /// `conns` connections pipelining `pipeline` each.
    fn arrivals(start: u64, n: u64, conns: u64, pipeline: u64) -> Vec<u64> {
        let per = n.div_ceil(conns);
        let mut next: Vec<(u64, u64)> = (0..conns)
            .map(|c| (start + (c * per).min(n), start + ((c + 1) * per).min(n)))
            .collect();
        let mut out = Vec::with_capacity(n as usize);
        while out.len() < n as usize {
            for (from, to) in next.iter_mut() {
                let end = (*from + pipeline).min(*to);
                out.extend(*from..end);
                *from = end;
            }
        }
        out
    }

    impl Load {
        /// A state prefilled like bench.py's scale case, then warmed by one
        /// run.
        fn new(producers: u64, maxsize: u32, conns: u64) -> Load {
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
            let fill = arrivals(0, producers * u64::from(maxsize), 4, 64);
            l.fill(&fill);
            l.next = fill.len() as u64;
            let warm = l.order(RUN, conns);
            l.fill(&warm);
            l
        }

        /// The next `n` requests' arrival order over `conns` connections
        /// (pipelining 16).
        fn order(&mut self, n: u64, conns: u64) -> Vec<u64> {
            let o = arrivals(self.next, n, conns, 16);
            self.next += n;
            o
        }

        /// Adds of requests `gs` (the prefill).
        #[inline(never)]
        fn fill(&mut self, gs: &[u64]) {
            self.run(gs);
        }

        /// Adds of requests `gs`, measured; returns the seconds taken. Not
        /// inlined, so that `valgrind --tool=callgrind
        /// --toggle-collect='*measured*'` counts these adds only.
        #[inline(never)]
        fn measured(&mut self, gs: &[u64]) -> f64 {
            self.run(gs)
        }

        /// One fresh add per request of `gs`, as `idmp_add` does them;
        /// returns the seconds taken.
        #[inline(always)]
        fn run(&mut self, gs: &[u64]) -> f64 {
            let producers = self.pids.len() as u64;
            let mut iid = [0u8; 16];
            let start = Instant::now();
            for (k, &g) in gs.iter().enumerate() {
                // About 1,000 adds per millisecond.
                let now = 1_700_000_000_000 + (self.seq + k as u64) / 1000;
                let pid = &self.pids[(g % producers) as usize];
                iid_of(g / producers, &mut iid);
                let s = &mut self.state;
                s.expire(now);
                let probe = s.probe(pid, &iid, now);
                if black_box(probe.found()).is_some() {
                    s.iids_duplicates += 1;
                    continue;
                }
                let id = StreamId::new(now, self.seq + k as u64);
                s.record_probed(probe, id, now);
                s.iids_added += 1;
            }
            let secs = start.elapsed().as_secs_f64();
            self.seq += gs.len() as u64;
            secs
        }

        /// ns per add of the next `n` requests over `conns` connections.
        fn ns_per_add(&mut self, n: u64, conns: u64) -> f64 {
            let gs = self.order(n, conns);
            self.measured(&gs) * 1e9 / n as f64
        }

        fn bytes_per_iid(&self) -> f64 {
            self.state.mem_usage() as f64 / self.state.iids_tracked() as f64
        }
    }

    pub fn main() {
        let args: Vec<u64> = std::env::args()
            .skip(1)
            .filter_map(|a| a.parse().ok())
            .collect();
        if let [producers, maxsize, adds, ref rest @ ..] = args[..] {
            let conns = rest.first().copied().unwrap_or(8).max(1);
            let t = Instant::now();
            let mut l = Load::new(producers, maxsize as u32, conns);
            let fill = t.elapsed().as_secs_f64();
            let ns = l.ns_per_add(adds, conns);
            println!(
                "{producers} x {maxsize}, {conns} conns: fill {fill:.2}s, {ns:.1} ns/add, \
                 {} iids, {} pids, {:.1} B/iid, {} duplicates",
                l.state.iids_tracked(),
                l.state.pids_tracked(),
                l.bytes_per_iid(),
                l.state.iids_duplicates
            );
            return;
        }
        for conns in [8u64, 1] {
            let mut one = Load::new(1, 10, conns);
            let mut many = Load::new(100_000, 10, conns);
            let (mut b1, mut bm) = (f64::MAX, f64::MAX);
            for round in 0..7 {
                let a = one.ns_per_add(2 * RUN, conns);
                let b = many.ns_per_add(2 * RUN, conns);
                b1 = b1.min(a);
                bm = bm.min(b);
                println!(
                    "{conns} conns, round {round}: 1x10 {a:.1} ns/add, 100000x10 {b:.1} ns/add, \
                     ratio {:.3}",
                    a / b
                );
            }
            println!(
                "{conns} conns, best: 1x10 {b1:.1} ns/add, 100000x10 {bm:.1} ns/add, rate ratio \
                 {:.3}; model bytes/iid 1x10 {:.1}, 100000x10 {:.1}",
                b1 / bm,
                one.bytes_per_iid(),
                many.bytes_per_iid()
            );
        }
    }
}
