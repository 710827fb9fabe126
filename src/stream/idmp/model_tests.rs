//! Property test: the IDMP state against a naive model (a Vec of records).

use proptest::prelude::*;

use super::*;

/// The naive model: every record in insertion order.
struct Model {
    settings: IdmpSettings,
    last: u64,
    recs: Vec<(Vec<u8>, Vec<u8>, StreamId, u64)>,
}

impl Model {
    fn expired(&self, t: u64, now: u64) -> bool {
        match t.checked_add(u64::from(self.settings.duration_secs) * 1000) {
            Some(end) => now >= end,
            None => false,
        }
    }

    fn expire(&mut self, now: u64) {
        let dur = u64::from(self.settings.duration_secs) * 1000;
        self.recs
            .retain(|r| r.3.checked_add(dur).is_none_or(|end| now < end));
    }

    fn lookup(&self, pid: &[u8], iid: &[u8], now: u64) -> Option<StreamId> {
        self.recs
            .iter()
            .find(|r| r.0 == pid && r.1 == iid)
            .filter(|r| !self.expired(r.3, now))
            .map(|r| r.2)
    }

    fn record_at(&mut self, pid: &[u8], iid: &[u8], id: StreamId, time: u64) -> u64 {
        let t = time.max(self.last);
        self.last = t;
        self.expire(t);
        if let Some(r) = self.recs.iter_mut().find(|r| r.0 == pid && r.1 == iid) {
            r.2 = id;
            return t;
        }
        self.recs.push((pid.to_vec(), iid.to_vec(), id, t));
        while self.recs.iter().filter(|r| r.0 == pid).count() > self.settings.maxsize as usize {
            if let Some(pos) = self.recs.iter().position(|r| r.0 == pid) {
                self.recs.remove(pos);
            }
        }
        t
    }

    fn pids(&self) -> u64 {
        let mut p: Vec<&Vec<u8>> = self.recs.iter().map(|r| &r.0).collect();
        p.sort();
        p.dedup();
        p.len() as u64
    }
}

/// `(iid, stream id, time)` as a producer lists it.
type IidRow = (Vec<u8>, StreamId, u64);

#[derive(Clone, Debug)]
enum Op {
    Record(usize, usize, u64),
    RecordAt(usize, usize, u64),
    Lookup(usize, usize, u64),
    /// XADD's path: probe, something in between (see `between`), then
    /// record the probed pair.
    Probed(usize, usize, u64, u8),
    Expire(u64),
    Configure(Option<u32>, Option<u32>),
    Jump(u64),
}

fn pid_of(i: usize) -> Vec<u8> {
    match i {
        0 => b"a".to_vec(),
        1 => b"b".to_vec(),
        2 => vec![0u8; 3],
        _ => vec![b'p'; 37 + i],
    }
}

fn iid_of(i: usize) -> Vec<u8> {
    if i.is_multiple_of(3) {
        // Longer than the inline limit: stored on the heap.
        let mut v = vec![b'x'; 30];
        v.push(i as u8);
        v
    } else {
        vec![i as u8]
    }
}

fn op() -> impl Strategy<Value = Op> {
    op_in(8, 24, prop_oneof![0..5u32, 8..16u32], true)
}

/// Operations on `pids` pids with `iids` iids each; XCFGSET picks maxsizes
/// from `max`. Without `churn` the clock moves in small steps and XCFGSET
/// keeps the settings, so producers grow large and expire gradually.
fn op_in(
    pids: usize,
    iids: usize,
    max: impl Strategy<Value = u32> + 'static,
    churn: bool,
) -> impl Strategy<Value = Op> {
    let (jump, configure) = if churn {
        (
            prop_oneof![Just(5_000_000_000u64), (0..40u64).prop_map(|d| d * 250)].boxed(),
            (proptest::option::of(1..4u32), proptest::option::of(max))
                .prop_map(|(d, m)| Op::Configure(d, m))
                .boxed(),
        )
    } else {
        (
            (0..3u64).prop_map(|d| d * 250).boxed(),
            Just(Op::Configure(None, None)).boxed(),
        )
    };
    prop_oneof![
        6 => (0..pids, 0..iids, 0..7u64).prop_map(|(p, i, d)| Op::Record(p, i, d * 250)),
        1 => (0..pids, 0..iids, 0..13u64).prop_map(|(p, i, d)| Op::RecordAt(p, i, d * 250)),
        4 => (0..pids, 0..iids, 0..13u64).prop_map(|(p, i, d)| Op::Lookup(p, i, d * 250)),
        6 => (0..pids, 0..iids, 0..7u64, 0..8u8)
            .prop_map(|(p, i, d, b)| Op::Probed(p, i, d * 250, b)),
        2 => (0..if churn { 13u64 } else { 3 }).prop_map(|d| Op::Expire(d * 250)),
        1 => configure,
        if churn { 1 } else { 3 } => jump.prop_map(Op::Jump),
    ]
}

fn check(s: &IdmpState, m: &Model) {
    assert_eq!(s.iids_tracked(), m.recs.len() as u64);
    let long: usize = m
        .recs
        .iter()
        .map(|r| r.1.len())
        .filter(|&n| n > super::rec::INLINE)
        .sum();
    assert_eq!(s.long_iid_bytes, long);
    for p in s.slots.iter().filter_map(|x| x.producer.as_ref()) {
        assert!(p.long_count_is_exact());
    }
    assert_eq!(s.pids_tracked(), m.pids());
    let got: Vec<_> = s
        .records()
        .map(|(p, i, d, t)| (p.to_vec(), i.to_vec(), d, t))
        .collect();
    assert_eq!(got, m.recs);
    let mut by_pid: Vec<(Vec<u8>, Vec<IidRow>)> = Vec::new();
    let mut pids: Vec<Vec<u8>> = m.recs.iter().map(|r| r.0.clone()).collect();
    pids.sort();
    pids.dedup();
    for p in pids {
        let list = m
            .recs
            .iter()
            .filter(|r| r.0 == p)
            .map(|r| (r.1.clone(), r.2, r.3))
            .collect();
        by_pid.push((p, list));
    }
    let got: Vec<_> = s
        .producers()
        .map(|(p, it)| (p.to_vec(), it.map(|(i, d, t)| (i.to_vec(), d, t)).collect()))
        .collect();
    assert_eq!(got, by_pid);
}

/// Runs `ops` on a state and on the naive model, checking they agree after
/// every one.
fn run_model(dur: u32, max: u32, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let settings = IdmpSettings {
        duration_secs: dur,
        maxsize: max,
    };
    let mut s = IdmpState::new(settings);
    let mut m = Model {
        settings,
        last: 0,
        recs: Vec::new(),
    };
    let mut clock = 1_000u64;
    let mut n = 0u64;
    for op in ops {
        match op {
            Op::Record(p, i, d) => {
                n += 1;
                let t = s.record(&pid_of(p), &iid_of(i), StreamId::new(n, 0), clock + d);
                prop_assert_eq!(
                    t,
                    m.record_at(&pid_of(p), &iid_of(i), StreamId::new(n, 0), clock + d)
                );
            }
            Op::RecordAt(p, i, d) => {
                n += 1;
                let at = clock.saturating_sub(1500) + d;
                s.record_at(&pid_of(p), &iid_of(i), StreamId::new(n, 1), at);
                m.record_at(&pid_of(p), &iid_of(i), StreamId::new(n, 1), at);
            }
            Op::Lookup(p, i, d) => {
                prop_assert_eq!(
                    s.lookup(&pid_of(p), &iid_of(i), clock + d),
                    m.lookup(&pid_of(p), &iid_of(i), clock + d)
                );
            }
            Op::Probed(p, i, d, between) => {
                let (pid, iid) = (pid_of(p), iid_of(i));
                let now = clock + d;
                let probe = s.probe(&pid, &iid, now);
                prop_assert_eq!(probe.found(), m.lookup(&pid, &iid, now));
                prop_assert_eq!(probe.found(), s.lookup(&pid, &iid, now));
                n += 1;
                // Changes between the probe and the record, which the
                // record must notice: expiry (removing the producer or
                // moving it in the slab), the same pair or another iid
                // recorded, another producer created, a reset.
                match between {
                    1 => {
                        s.expire(now + 2_000);
                        m.expire(now + 2_000);
                    }
                    2 => {
                        s.record(&pid, &iid, StreamId::new(n, 2), now);
                        m.record_at(&pid, &iid, StreamId::new(n, 2), now);
                    }
                    3 => {
                        let other = pid_of((p + 1) % 8);
                        s.record(&other, &iid, StreamId::new(n, 3), now);
                        m.record_at(&other, &iid, StreamId::new(n, 3), now);
                    }
                    4 => {
                        let d = m.settings.duration_secs % 3 + 1;
                        if s.configure(Some(d), None) {
                            m.settings.duration_secs = d;
                            m.recs.clear();
                        }
                    }
                    5 => {
                        let other = iid_of((i + 1) % 24);
                        s.record_at(&pid, &other, StreamId::new(n, 5), now);
                        m.record_at(&pid, &other, StreamId::new(n, 5), now);
                    }
                    _ => {}
                }
                let t = s.record_probed(probe, StreamId::new(n, 0), now);
                prop_assert_eq!(t, m.record_at(&pid, &iid, StreamId::new(n, 0), now));
            }
            Op::Expire(d) => {
                s.expire(clock + d);
                m.expire(clock + d);
            }
            Op::Configure(d, x) => {
                let before = m.settings;
                let mut next = before;
                if let Some(d) = d {
                    next.duration_secs = d;
                }
                if let Some(x) = x {
                    next.maxsize = x;
                }
                prop_assert_eq!(s.configure(d, x), next != before);
                if next != before {
                    m.settings = next;
                    m.recs.clear();
                }
            }
            Op::Jump(j) => clock += j,
        }
        prop_assert_eq!(s.last_time_ms(), m.last);
        check(&s, &m);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn state_matches_naive_model(
        dur in 1..4u32,
        max in prop_oneof![0..5u32, 8..16u32],
        ops in proptest::collection::vec(op(), 1..200),
    ) {
        run_model(dur, max, ops)?;
    }

    /// One pid, many iids: its producer crosses the 32 iids where its
    /// tags give way to a hash table, and the 16 where they come back.
    #[test]
    fn large_producers_match_naive_model(
        dur in 2..6u32,
        max in prop_oneof![20..34u32, 40..70u32],
        ops in proptest::collection::vec(
            op_in(1, 80, prop_oneof![20..34u32, 40..70u32], false),
            200..600,
        ),
    ) {
        run_model(dur, max, ops)?;
    }
}
