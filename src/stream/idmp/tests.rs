//! Unit tests of the IDMP state with an injected clock (times are arguments).

use super::*;

fn st(duration_secs: u32, maxsize: u32) -> IdmpState {
    IdmpState::new(IdmpSettings {
        duration_secs,
        maxsize,
    })
}

fn id(ms: u64) -> StreamId {
    StreamId::new(ms, 0)
}

fn iids_of(s: &IdmpState, pid: &[u8]) -> Vec<Vec<u8>> {
    s.producers()
        .find(|(p, _)| *p == pid)
        .map(|(_, it)| it.map(|(i, _, _)| i.to_vec()).collect())
        .unwrap_or_default()
}

#[test]
fn defaults_are_100_100() {
    let s = IdmpState::new(IdmpSettings::default());
    assert_eq!(
        s.settings(),
        IdmpSettings {
            duration_secs: 100,
            maxsize: 100
        }
    );
    assert_eq!((s.pids_tracked(), s.iids_tracked()), (0, 0));
    assert_eq!((s.iids_added, s.iids_duplicates), (0, 0));
}

#[test]
fn fifo_capacity_evicts_oldest_of_the_pid() {
    let mut s = st(100, 3);
    for i in 0..5u64 {
        s.record(b"p", format!("i{i}").as_bytes(), id(i + 1), 1000 + i);
    }
    assert_eq!(
        iids_of(&s, b"p"),
        vec![b"i2".to_vec(), b"i3".to_vec(), b"i4".to_vec()]
    );
    assert_eq!(s.lookup(b"p", b"i0", 2000), None);
    assert_eq!(s.lookup(b"p", b"i1", 2000), None);
    assert_eq!(s.lookup(b"p", b"i2", 2000), Some(id(3)));
    assert_eq!(s.lookup(b"p", b"i4", 2000), Some(id(5)));
    assert_eq!((s.pids_tracked(), s.iids_tracked()), (1, 3));
    // A forgotten iid is new again and becomes the newest.
    s.record(b"p", b"i0", id(9), 1010);
    assert_eq!(
        iids_of(&s, b"p"),
        vec![b"i3".to_vec(), b"i4".to_vec(), b"i0".to_vec()]
    );
    assert_eq!(s.lookup(b"p", b"i0", 1010), Some(id(9)));
}

#[test]
fn pids_are_isolated() {
    let mut s = st(100, 2);
    s.record(b"a", b"x", id(1), 0);
    s.record(b"b", b"x", id(2), 0);
    s.record(b"b", b"y", id(3), 0);
    s.record(b"b", b"z", id(4), 0);
    assert_eq!(s.lookup(b"a", b"x", 0), Some(id(1)));
    assert_eq!(s.lookup(b"b", b"x", 0), None);
    assert_eq!(s.lookup(b"b", b"y", 0), Some(id(3)));
    assert_eq!(s.lookup(b"c", b"x", 0), None);
    assert_eq!(s.lookup(b"a", b"y", 0), None);
    assert_eq!((s.pids_tracked(), s.iids_tracked()), (2, 3));
}

#[test]
fn expiry_boundary_is_exact_without_expire() {
    let mut s = st(10, 100);
    assert_eq!(s.record(b"p", b"i", id(1), 5_000), 5_000);
    assert_eq!(s.lookup(b"p", b"i", 5_000), Some(id(1)));
    assert_eq!(s.lookup(b"p", b"i", 14_999), Some(id(1)));
    assert_eq!(s.lookup(b"p", b"i", 15_000), None);
    assert_eq!(s.lookup(b"p", b"i", 99_999_999), None);
    // Nothing reclaimed yet: expiry of lookups did not depend on it.
    assert_eq!(s.iids_tracked(), 1);
    s.expire(14_999);
    assert_eq!((s.pids_tracked(), s.iids_tracked()), (1, 1));
    s.expire(15_000);
    assert_eq!((s.pids_tracked(), s.iids_tracked()), (0, 0));
    assert_eq!(s.producers().count(), 0);
}

#[test]
fn expiry_reclaims_in_time_order_across_pids() {
    let mut s = st(1, 100);
    s.record(b"a", b"1", id(1), 0);
    s.record(b"b", b"1", id(2), 100);
    s.record(b"a", b"2", id(3), 200);
    s.record(b"c", b"1", id(4), 300);
    s.expire(1_100);
    assert_eq!((s.pids_tracked(), s.iids_tracked()), (2, 2));
    assert_eq!(iids_of(&s, b"a"), vec![b"2".to_vec()]);
    assert_eq!(iids_of(&s, b"b"), Vec::<Vec<u8>>::new());
    s.expire(1_200);
    assert_eq!((s.pids_tracked(), s.iids_tracked()), (1, 1));
    assert_eq!(s.lookup(b"c", b"1", 1_299), Some(id(4)));
    s.expire(1_300);
    assert_eq!((s.pids_tracked(), s.iids_tracked()), (0, 0));
}

#[test]
fn eviction_then_expiry_counts_stay_exact() {
    let mut s = st(1, 2);
    for i in 0..50u64 {
        s.record(b"p", &i.to_le_bytes(), id(i), i);
        s.record(b"q", &i.to_le_bytes(), id(i), i);
    }
    assert_eq!((s.pids_tracked(), s.iids_tracked()), (2, 4));
    s.expire(1_048);
    assert_eq!((s.pids_tracked(), s.iids_tracked()), (2, 2));
    assert_eq!(s.lookup(b"p", &49u64.to_le_bytes(), 1_048), Some(id(49)));
    s.expire(1_049);
    assert_eq!((s.pids_tracked(), s.iids_tracked()), (0, 0));
    // 96 evicted by maxsize 2, then the 4 left expired.
    assert_eq!((s.iids_evicted, s.iids_expired), (96, 4));
    // The slots are reused after the producers vanished.
    s.record(b"r", b"x", id(100), 2_000);
    assert_eq!((s.pids_tracked(), s.iids_tracked()), (1, 1));
    assert_eq!(s.lookup(b"r", b"x", 2_000), Some(id(100)));
}

#[test]
fn maxsize_one_and_churn_keep_the_queue_bounded() {
    let mut s = st(100, 1);
    // A live entry at the queue front keeps the stale ones behind it.
    s.record(b"first", b"i", id(0), 0);
    for i in 0..10_000u64 {
        s.record(b"p", &i.to_le_bytes(), id(i), 0);
    }
    assert_eq!((s.pids_tracked(), s.iids_tracked()), (2, 2));
    assert!(s.queue.len() <= 16, "queue len {}", s.queue.len());
    // Alone, a producer at maxsize leaves no stale entry behind.
    let mut one = st(100, 3);
    for i in 0..1_000u64 {
        one.record(b"p", &i.to_le_bytes(), id(i), 0);
        assert_eq!(
            (one.queue.len(), one.stale),
            (one.iids_tracked() as usize, 0)
        );
    }
    assert_eq!(s.lookup(b"p", &9_999u64.to_le_bytes(), 0), Some(id(9_999)));
    assert_eq!(s.lookup(b"p", &9_998u64.to_le_bytes(), 0), None);
    assert_eq!(s.lookup(b"first", b"i", 0), Some(id(0)));
    s.expire(100_000);
    assert_eq!((s.pids_tracked(), s.iids_tracked()), (0, 0));
    assert!(s.queue.is_empty());
}

#[test]
fn maxsize_zero_tracks_nothing() {
    let mut s = st(100, 0);
    let empty = s.mem_usage();
    s.record(b"p", b"i", id(1), 0);
    // Given back at once, not at the next expiry.
    assert_eq!(s.mem_usage(), empty);
    s.expire(1);
    assert_eq!(s.mem_usage(), empty);
    assert_eq!(s.lookup(b"p", b"i", 0), None);
    assert_eq!((s.pids_tracked(), s.iids_tracked()), (0, 0));
    s.expire(1_000_000);
    assert!(s.queue.is_empty());
}

#[test]
fn configure_clears_only_on_change_and_keeps_counters() {
    let mut s = st(100, 100);
    s.record(b"p", b"i", id(1), 0);
    s.iids_added = 5;
    s.iids_duplicates = 7;
    assert!(!s.configure(None, None));
    assert!(!s.configure(Some(100), None));
    assert!(!s.configure(None, Some(100)));
    assert!(!s.configure(Some(100), Some(100)));
    assert_eq!(s.iids_tracked(), 1);
    assert!(s.configure(Some(100), Some(50)));
    assert_eq!(
        s.settings(),
        IdmpSettings {
            duration_secs: 100,
            maxsize: 50
        }
    );
    assert_eq!((s.pids_tracked(), s.iids_tracked()), (0, 0));
    assert_eq!(s.lookup(b"p", b"i", 0), None);
    assert_eq!((s.iids_added, s.iids_duplicates), (5, 7));
    s.record(b"p", b"i", id(2), 0);
    assert!(s.configure(Some(7), None));
    assert_eq!(
        s.settings(),
        IdmpSettings {
            duration_secs: 7,
            maxsize: 50
        }
    );
    assert_eq!(s.iids_tracked(), 0);
    assert_eq!((s.iids_added, s.iids_duplicates), (5, 7));
}

#[test]
fn state_never_counts_by_itself() {
    let mut s = st(100, 2);
    for i in 0..5u64 {
        s.record(b"p", &[i as u8], id(i), 0);
    }
    s.expire(1_000_000);
    assert_eq!((s.iids_added, s.iids_duplicates), (0, 0));
}

#[test]
fn times_are_clamped_to_never_go_backwards() {
    let mut s = st(10, 100);
    assert_eq!(s.record(b"p", b"a", id(1), 50_000), 50_000);
    assert_eq!(s.record(b"p", b"b", id(2), 1_000), 50_000);
    assert_eq!(s.last_time_ms(), 50_000);
    // b's age starts at 50_000, not 1_000.
    assert_eq!(s.lookup(b"p", b"b", 59_999), Some(id(2)));
    assert_eq!(s.lookup(b"p", b"b", 60_000), None);
    s.record_at(b"p", b"c", id(3), 10);
    let times: Vec<u64> = s.producers().flat_map(|(_, it)| it.map(|x| x.2)).collect();
    assert_eq!(times, vec![50_000, 50_000, 50_000]);
    assert_eq!(s.record(b"p", b"d", id(4), 50_001), 50_001);
}

#[test]
fn record_at_keeps_given_times() {
    let mut s = st(10, 100);
    s.record_at(b"p", b"a", id(1), 1_000);
    s.record_at(b"q", b"b", id(2), 2_000);
    s.record_at(b"p", b"c", id(3), 3_000);
    let recs: Vec<_> = s
        .records()
        .map(|(p, i, d, t)| (p.to_vec(), i.to_vec(), d, t))
        .collect();
    assert_eq!(
        recs,
        vec![
            (b"p".to_vec(), b"a".to_vec(), id(1), 1_000),
            (b"q".to_vec(), b"b".to_vec(), id(2), 2_000),
            (b"p".to_vec(), b"c".to_vec(), id(3), 3_000),
        ]
    );
    assert_eq!(s.last_time_ms(), 3_000);
}

#[test]
fn record_of_a_tracked_pair_replaces_only_its_id() {
    let mut s = st(10, 2);
    s.record(b"p", b"a", id(1), 0);
    s.record(b"p", b"b", id(2), 5);
    s.record(b"p", b"a", id(7), 9_000);
    assert_eq!(iids_of(&s, b"p"), vec![b"a".to_vec(), b"b".to_vec()]);
    assert_eq!(s.lookup(b"p", b"a", 9_999), Some(id(7)));
    assert_eq!(s.lookup(b"p", b"a", 10_000), None);
    assert_eq!(s.iids_tracked(), 2);
}

#[test]
fn an_expired_unreclaimed_pair_is_recorded_fresh() {
    let mut s = st(1, 10);
    s.record(b"p", b"a", id(1), 0);
    assert_eq!(s.lookup(b"p", b"a", 1_000), None);
    s.record(b"p", b"a", id(2), 1_000);
    assert_eq!(s.lookup(b"p", b"a", 1_999), Some(id(2)));
    assert_eq!(s.iids_tracked(), 1);
    assert_eq!(s.records().count(), 1);
}

#[test]
fn large_binary_pids_and_iids() {
    let mut s = st(100, 3);
    let big_pid: Vec<u8> = (0..70_000u32).map(|i| (i % 256) as u8).collect();
    let mut big_pid2 = big_pid.clone();
    if let Some(last) = big_pid2.last_mut() {
        *last ^= 1;
    }
    let big_iid: Vec<u8> = (0..65_537u32).map(|i| (i * 7 % 256) as u8).collect();
    let nul: &[u8] = b"\0\0\xff";
    s.record(&big_pid, &big_iid, id(1), 0);
    s.record(&big_pid, nul, id(2), 0);
    s.record(&big_pid2, &big_iid, id(3), 0);
    s.record(nul, nul, id(4), 0);
    assert_eq!(s.lookup(&big_pid, &big_iid, 0), Some(id(1)));
    assert_eq!(s.lookup(&big_pid, nul, 0), Some(id(2)));
    assert_eq!(s.lookup(&big_pid2, &big_iid, 0), Some(id(3)));
    assert_eq!(s.lookup(&big_pid2, nul, 0), None);
    assert_eq!(s.lookup(nul, nul, 0), Some(id(4)));
    assert_eq!(s.lookup(nul, b"\0\0", 0), None);
    assert_eq!(s.lookup(&big_iid, &big_pid, 0), None);
    assert!(s.mem_usage() >= 70_000 * 2 + 65_537 * 2);
    for i in 0..3u8 {
        s.record(&big_pid, &[i; 40], id(10 + u64::from(i)), 0);
    }
    assert_eq!(s.lookup(&big_pid, &big_iid, 0), None);
    assert_eq!(s.iids_tracked(), 5);
}

#[test]
fn producers_are_sorted_by_pid() {
    let mut s = st(100, 10);
    for p in [&b"zz"[..], b"a", b"m", b"\0"] {
        s.record(p, b"i", id(1), 0);
    }
    let pids: Vec<Vec<u8>> = s.producers().map(|(p, _)| p.to_vec()).collect();
    assert_eq!(
        pids,
        vec![b"\0".to_vec(), b"a".to_vec(), b"m".to_vec(), b"zz".to_vec()]
    );
}

#[test]
fn epoch_rebase_keeps_times_exact() {
    let mut s = st(86_400, 100);
    let t0 = 1_700_000_000_000u64;
    s.record(b"p", b"a", id(1), t0);
    // 60 days later: the time does not fit the old epoch's u32 range.
    let t1 = t0 + 60 * 86_400_000;
    s.record(b"p", b"b", id(2), t1 - 1_000);
    s.record(b"p", b"c", id(3), t1);
    assert_eq!(s.lookup(b"p", b"a", t1), None);
    assert_eq!(s.lookup(b"p", b"b", t1 - 1_000 + 86_399_999), Some(id(2)));
    assert_eq!(s.lookup(b"p", b"b", t1 - 1_000 + 86_400_000), None);
    let times: Vec<u64> = s.records().map(|r| r.3).collect();
    assert_eq!(times, vec![t1 - 1_000, t1]);
    // Far future and the end of the clock do not panic.
    s.record(b"p", b"d", id(4), u64::MAX - 5);
    assert_eq!(s.lookup(b"p", b"d", u64::MAX), Some(id(4)));
    assert_eq!(s.last_time_ms(), u64::MAX - 5);
}

#[test]
fn huge_duration_does_not_panic() {
    let mut s = st(u32::MAX, u32::MAX);
    s.record(b"p", b"a", id(1), 0);
    s.record(b"p", b"b", id(2), u64::MAX);
    assert_eq!(s.lookup(b"p", b"b", u64::MAX), Some(id(2)));
    s.expire(u64::MAX);
}

#[test]
fn mem_usage_per_16_byte_iid_is_at_most_64() {
    for (pids, per_pid) in [(1u64, 10_000u64), (100, 100), (1_000, 100)] {
        let mut s = st(100, per_pid as u32);
        let mut n = 0u64;
        for p in 0..pids {
            for i in 0..per_pid {
                let mut iid = [0u8; 16];
                iid[..8].copy_from_slice(&p.to_le_bytes());
                iid[8..].copy_from_slice(&i.to_le_bytes());
                s.record(&p.to_le_bytes(), &iid, id(n), n);
                n += 1;
            }
        }
        let per_iid = s.mem_usage() as f64 / n as f64;
        eprintln!("{pids} pids x {per_pid} iids: {per_iid:.1} bytes per iid");
        assert!(per_iid <= 64.0, "{per_iid}");
    }
}

#[test]
fn memory_is_given_back_after_expiry() {
    let mut s = st(10, 100);
    let empty = s.mem_usage();
    for p in 0..5_000u64 {
        s.record(&p.to_le_bytes(), b"iid-0123456789ab", id(p), 1_000);
    }
    // One long-lived producer keeps the state from being empty.
    s.record(b"keeper", b"k", id(9_999), 5_000);
    let full = s.mem_usage();
    s.expire(11_000);
    assert_eq!((s.pids_tracked(), s.iids_tracked()), (1, 1));
    let after = s.mem_usage();
    assert!(after * 20 < full, "full {full} after {after}");
    assert_eq!(s.lookup(b"keeper", b"k", 11_000), Some(id(9_999)));
    assert_eq!(
        s.lookup(&7u64.to_le_bytes(), b"iid-0123456789ab", 11_000),
        None
    );
    // The renumbered state keeps working.
    s.record(b"new", b"n", id(10_000), 11_000);
    assert_eq!(s.lookup(b"new", b"n", 11_000), Some(id(10_000)));
    s.expire(15_000);
    assert_eq!((s.pids_tracked(), s.iids_tracked()), (1, 1));
    s.expire(21_000);
    assert_eq!((s.pids_tracked(), s.iids_tracked()), (0, 0));
    assert_eq!(s.mem_usage(), empty);
}

#[test]
fn a_producer_ring_shrinks_after_expiry() {
    let mut s = st(10, 10_000);
    for i in 0..10_000u64 {
        s.record(b"p", &i.to_le_bytes(), id(i), i / 10);
    }
    let full = s.mem_usage();
    s.expire(10_989);
    assert_eq!(s.iids_tracked(), 100);
    assert!(s.mem_usage() * 20 < full, "{} vs {full}", s.mem_usage());
    assert_eq!(
        s.lookup(b"p", &9_999u64.to_le_bytes(), 10_989),
        Some(id(9_999))
    );
    assert_eq!(s.lookup(b"p", &9_899u64.to_le_bytes(), 10_989), None);
}

#[test]
fn index_is_built_and_dropped_as_a_producer_grows_and_shrinks() {
    // Up to 32 iids a producer's index is tags, above a hash table (built at
    // 33), tags again at 16. One iid per second, 100 s of duration.
    let mut s = st(100, 100);
    for i in 0..60u64 {
        s.record(b"p", &i.to_le_bytes(), id(i), i * 1_000);
        for j in 0..=i + 1 {
            assert_eq!(
                s.lookup(b"p", &j.to_le_bytes(), i * 1_000),
                (j <= i).then_some(id(j)),
                "{j} after {i}"
            );
        }
    }
    // Expiry one iid a second: 60 down to none, through 16.
    for now in (100_000..=160_000u64).step_by(1_000) {
        s.expire(now);
        for j in 0..60u64 {
            let want = (j * 1_000 + 100_000 > now).then_some(id(j));
            assert_eq!(s.lookup(b"p", &j.to_le_bytes(), now), want, "{j} at {now}");
        }
        if now == 150_000 {
            // 9 left: grow past 32 again under maxsize 100, then the
            // records iterate oldest first.
            for k in 0..40u64 {
                s.record(b"p", &(1_000 + k).to_le_bytes(), id(1_000 + k), now);
            }
            let want: Vec<Vec<u8>> = (51..60u64)
                .chain(1_000..1_040)
                .map(|k| k.to_le_bytes().to_vec())
                .collect();
            assert_eq!(iids_of(&s, b"p"), want);
            for k in 0..40u64 {
                let iid = (1_000 + k).to_le_bytes();
                assert_eq!(s.lookup(b"p", &iid, now), Some(id(1_000 + k)));
            }
        }
    }
    assert_eq!(s.iids_tracked(), 40);
    s.record(b"p", b"again", id(5_000), 300_000);
    assert_eq!(s.lookup(b"p", b"again", 300_000), Some(id(5_000)));
    assert_eq!(s.iids_tracked(), 1);
}

#[test]
fn eviction_at_capacity_keeps_order_across_index_kinds() {
    // maxsize below, at and above the 32 tags: FIFO eviction per pid, the
    // queue order over pids, and the ring never above maxsize.
    for max in [1u32, 2, 10, 31, 32, 33, 50] {
        let mut s = st(1_000, max);
        let mut want: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        for n in 0..(3 * u64::from(max) + 7) {
            let pid = [b'a' + (n % 3) as u8];
            let iid = n.to_le_bytes();
            assert_eq!(s.lookup(&pid, &iid, n), None);
            s.record(&pid, &iid, id(n), n);
            want.push((pid.to_vec(), iid.to_vec()));
            let held = want.iter().filter(|(p, _)| p[..] == pid[..]).count();
            if held > max as usize {
                let k = want.iter().position(|(p, _)| p[..] == pid[..]);
                if let Some(k) = k {
                    want.remove(k);
                }
            }
            let got: Vec<(Vec<u8>, Vec<u8>)> = s
                .records()
                .map(|(p, i, _, _)| (p.to_vec(), i.to_vec()))
                .collect();
            assert_eq!(got, want, "maxsize {max} after {n}");
            assert!(s.mem_usage() > 0);
        }
        for (p, i) in &want {
            assert!(s.lookup(p, i, 0).is_some());
        }
        assert_eq!(s.iids_evicted, 3 * u64::from(max) + 7 - want.len() as u64);
    }
}

#[test]
fn a_probe_records_what_record_would() {
    let mut s = st(10, 100);
    for i in 0..20u64 {
        s.record(b"p", &i.to_le_bytes(), id(i), 1_000);
    }
    // Fresh pair in an indexed producer, in a small one, and a new pid.
    for (pid, iid, n) in [
        (&b"p"[..], &b"fresh"[..], 100u64),
        (b"q", b"one", 101),
        (b"q", b"two", 102),
    ] {
        let probe = s.probe(pid, iid, 2_000);
        assert_eq!(probe.found(), None);
        assert_eq!(s.record_probed(probe, id(n), 2_000), 2_000);
        assert_eq!(s.lookup(pid, iid, 2_000), Some(id(n)));
    }
    // A live pair is found; recording it anyway replaces its stream ID.
    let (three, four) = (3u64.to_le_bytes(), 4u64.to_le_bytes());
    let probe = s.probe(b"p", &three, 2_000);
    assert_eq!(probe.found(), Some(id(3)));
    s.record_probed(probe, id(103), 2_000);
    assert_eq!(s.lookup(b"p", &three, 2_000), Some(id(103)));
    assert_eq!(s.iids_tracked(), 23);
    // An expired pair is not found, and is recorded anew.
    let probe = s.probe(b"p", &four, 11_000);
    assert_eq!(probe.found(), None);
    s.record_probed(probe, id(104), 11_000);
    assert_eq!(s.lookup(b"p", &four, 11_000), Some(id(104)));
    assert_eq!(s.iids_tracked(), 4);
    assert_eq!(iids_of(&s, b"p"), vec![b"fresh".to_vec(), four.to_vec()]);
}

#[test]
fn a_probe_of_another_state_is_redone() {
    let mut a = st(10, 100);
    let mut b = st(10, 100);
    for i in 0..20u64 {
        a.record(b"p", &i.to_le_bytes(), id(i), 1_000);
        b.record(b"p", &i.to_le_bytes(), id(i), 1_000);
    }
    let c = a.clone();
    // Same number of records pushed, but only `a` holds "x": `b`'s probe
    // (other hash keys, and "x" absent there) means nothing in `a`.
    a.record(b"p", b"x", id(50), 1_000);
    b.record(b"p", b"y", id(50), 1_000);
    let probe = b.probe(b"p", b"x", 1_000);
    assert_eq!(probe.found(), None);
    a.record_probed(probe, id(51), 1_000);
    assert_eq!(a.lookup(b"p", b"x", 1_000), Some(id(51)));
    assert_eq!(a.iids_tracked(), 21);
    assert_eq!(iids_of(&a, b"p").iter().filter(|i| *i == b"x").count(), 1);
    // A clone hashes alike: its probes are valid in the original.
    let probe = c.probe(b"p", b"new", 1_000);
    a.record_probed(probe, id(52), 1_000);
    assert_eq!(a.lookup(b"p", b"new", 1_000), Some(id(52)));
    assert_eq!(a.iids_tracked(), 22);
}

#[test]
fn a_slot_is_96_bytes() {
    // pid (24, inline up to 22 bytes) + ring (32) + index (40: 32 tags and
    // a count, or a hash table and its head sequence number).
    assert_eq!(std::mem::size_of::<super::Slot>(), 96);
}
