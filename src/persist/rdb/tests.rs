//! Tests of the RDB codec over an in-memory, self-describing byte encoding.

use proptest::prelude::*;

use super::*;
use crate::stream::idmp::IdmpSettings;

const TAG_U64: u8 = 1;
const TAG_BYTES: u8 = 2;

/// Writes tagged items, as the module RDB API writes typed opcodes.
#[derive(Default)]
struct ByteWriter(Vec<u8>);

impl RdbWrite for ByteWriter {
    fn write_u64(&mut self, v: u64) {
        self.0.push(TAG_U64);
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn write_bytes(&mut self, b: &[u8]) {
        self.0.push(TAG_BYTES);
        self.0.extend_from_slice(&(b.len() as u64).to_le_bytes());
        self.0.extend_from_slice(b);
    }
}

struct ByteReader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl ByteReader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], CodecError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| CodecError::new("truncated"))?;
        let out = &self.buf[self.pos..end];
        self.pos = end;
        Ok(out)
    }
    fn tag(&mut self, want: u8) -> Result<(), CodecError> {
        if self.take(1)? != [want] {
            return Err(CodecError::new("wrong item type"));
        }
        Ok(())
    }
    fn u64_raw(&mut self) -> Result<u64, CodecError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }
}

impl RdbRead for ByteReader<'_> {
    fn read_u64(&mut self) -> Result<u64, CodecError> {
        self.tag(TAG_U64)?;
        self.u64_raw()
    }
    fn read_bytes(&mut self) -> Result<Vec<u8>, CodecError> {
        self.tag(TAG_BYTES)?;
        let len = self.u64_raw()?;
        let len = usize::try_from(len).map_err(|_| CodecError::new("too long"))?;
        Ok(self.take(len)?.to_vec())
    }
}

fn save(s: &Stream) -> Vec<u8> {
    let mut w = ByteWriter::default();
    save_stream(s, &mut w);
    w.0
}

/// Loads a whole payload: trailing bytes are an error, as the server's
/// module-value EOF marker check makes them.
fn load(buf: &[u8], encver: i32) -> Result<Stream, CodecError> {
    let mut r = ByteReader { buf, pos: 0 };
    let s = load_stream(&mut r, encver, NodeLimits::default())?;
    if r.pos != buf.len() {
        return Err(CodecError::new("trailing garbage"));
    }
    Ok(s)
}

type EntryView = (StreamId, Vec<(Vec<u8>, Vec<u8>)>);
type RecordView = (Vec<u8>, Vec<u8>, StreamId, u64);

/// Everything observable of a stream.
#[derive(Debug, PartialEq, Eq)]
struct View {
    entries: Vec<EntryView>,
    len: u64,
    meta: [StreamId; 3],
    entries_added: u64,
    settings: IdmpSettings,
    counters: [u64; 5],
    records: Vec<RecordView>,
}

fn view(s: &Stream) -> View {
    View {
        entries: s
            .store
            .range(StreamId::MIN, StreamId::MAX)
            .map(|e| {
                (
                    e.id(),
                    e.fields().map(|(f, v)| (f.to_vec(), v.to_vec())).collect(),
                )
            })
            .collect(),
        len: s.len(),
        meta: [s.last_id, s.max_deleted_id, s.first_id],
        entries_added: s.entries_added,
        settings: s.idmp.settings(),
        counters: [
            s.idmp.iids_added,
            s.idmp.iids_duplicates,
            s.idmp.last_time_ms(),
            s.idmp.pids_tracked(),
            s.idmp.iids_tracked(),
        ],
        records: s
            .idmp
            .records()
            .map(|(p, i, d, t)| (p.to_vec(), i.to_vec(), d, t))
            .collect(),
    }
}

fn sample() -> Stream {
    let mut s = Stream::new(IdmpSettings {
        duration_secs: 60,
        maxsize: 3,
    });
    let l = NodeLimits::default();
    for i in 1..=5u64 {
        s.append(
            StreamId::new(i, 0),
            &[b"f", b"v", b"n", &i.to_le_bytes()],
            l,
        );
    }
    s.delete(StreamId::new(1, 0));
    s.delete(StreamId::new(3, 0));
    s.refresh_first_id();
    s.idmp.record(b"p", b"a", StreamId::new(1, 0), 1_000);
    s.idmp.record(b"q", &[7u8; 40], StreamId::new(2, 0), 1_500);
    s.idmp.record(b"p", b"b", StreamId::new(4, 0), 2_000);
    s.idmp.iids_added = 3;
    s.idmp.iids_duplicates = 11;
    s
}

#[test]
fn round_trip_sample() {
    let s = sample();
    let buf = save(&s);
    let back = load(&buf, ENCODING_VERSION).unwrap();
    assert_eq!(view(&back), view(&s));
    assert_eq!(save(&back), buf);
    // The loaded state is usable: lookups and expiry behave.
    assert_eq!(
        back.idmp.lookup(b"p", b"b", 61_999),
        Some(StreamId::new(4, 0))
    );
    assert_eq!(back.idmp.lookup(b"p", b"a", 61_000), None);
}

#[test]
fn round_trip_empty_stream() {
    let s = Stream::new(IdmpSettings::default());
    let back = load(&save(&s), 0).unwrap();
    assert_eq!(view(&back), view(&s));
}

#[test]
fn newer_encoding_is_refused() {
    let buf = save(&sample());
    let err = load(&buf, ENCODING_VERSION + 1).err().unwrap();
    assert!(err.message.contains("newer"), "{err}");
    assert!(load(&buf, -1).is_err());
}

#[test]
fn every_truncation_fails_cleanly() {
    let buf = save(&sample());
    for n in 0..buf.len() {
        assert!(load(&buf[..n], 0).is_err(), "prefix {n} loaded");
    }
}

#[test]
fn trailing_garbage_fails() {
    let mut buf = save(&sample());
    let mut w = ByteWriter::default();
    w.write_u64(0);
    buf.extend_from_slice(&w.0);
    assert!(load(&buf, 0).is_err());
}

/// A payload written by hand: `entries` then the fixed tail, with hooks.
fn craft(ids: &[StreamId], last: StreamId, tail: impl FnOnce(&mut ByteWriter)) -> Vec<u8> {
    let mut w = ByteWriter::default();
    w.write_u64(ids.len() as u64);
    for id in ids {
        w.write_u64(id.ms);
        w.write_u64(id.seq);
        w.write_u64(1);
        w.write_bytes(b"f");
        w.write_bytes(b"v");
    }
    for id in [last, StreamId::MIN] {
        w.write_u64(id.ms);
        w.write_u64(id.seq);
    }
    w.write_u64(ids.len() as u64);
    w.write_u64(0);
    w.write_u64(0);
    tail(&mut w);
    w.0
}

fn idmp_tail(w: &mut ByteWriter, pids: &[&[u8]], recs: &[(u64, &[u8], u64)], groups: u64) {
    for v in [100, 100, 0, 0, 10_000] {
        w.write_u64(v);
    }
    w.write_u64(pids.len() as u64);
    for p in pids {
        w.write_bytes(p);
    }
    w.write_u64(recs.len() as u64);
    for (pi, iid, time) in recs {
        w.write_u64(*pi);
        w.write_bytes(iid);
        w.write_u64(1);
        w.write_u64(0);
        w.write_u64(*time);
    }
    w.write_u64(groups);
    w.write_u64(END_MARKER);
}

#[test]
fn crafted_payloads_are_validated() {
    let id = StreamId::new;
    let ok = craft(&[id(1, 0), id(2, 0)], id(2, 0), |w| {
        idmp_tail(w, &[b"a", b"b"], &[(0, b"x", 5), (1, b"x", 6)], 0)
    });
    let s = load(&ok, 0).unwrap();
    assert_eq!(s.idmp.iids_tracked(), 2);

    let bad = [
        // IDs out of order / repeated.
        craft(&[id(2, 0), id(1, 0)], id(2, 0), |w| {
            idmp_tail(w, &[], &[], 0)
        }),
        craft(&[id(1, 0), id(1, 0)], id(2, 0), |w| {
            idmp_tail(w, &[], &[], 0)
        }),
        // An entry above last_id.
        craft(&[id(3, 0)], id(2, 0), |w| idmp_tail(w, &[], &[], 0)),
        // Consumer groups in encoding 0.
        craft(&[], id(2, 0), |w| idmp_tail(w, &[], &[], 1)),
        // Pid index out of range, empty pid, unsorted pids, empty iid.
        craft(&[], id(2, 0), |w| idmp_tail(w, &[b"a"], &[(1, b"x", 5)], 0)),
        craft(&[], id(2, 0), |w| idmp_tail(w, &[b""], &[(0, b"x", 5)], 0)),
        craft(&[], id(2, 0), |w| idmp_tail(w, &[b"b", b"a"], &[], 0)),
        craft(&[], id(2, 0), |w| idmp_tail(w, &[b"a"], &[(0, b"", 5)], 0)),
        // Times going backwards or past last_time; a duplicate record.
        craft(&[], id(2, 0), |w| {
            idmp_tail(w, &[b"a"], &[(0, b"x", 6), (0, b"y", 5)], 0)
        }),
        craft(&[], id(2, 0), |w| {
            idmp_tail(w, &[b"a"], &[(0, b"x", 10_001)], 0)
        }),
        craft(&[], id(2, 0), |w| {
            idmp_tail(w, &[b"a"], &[(0, b"x", 5), (0, b"x", 6)], 0)
        }),
    ];
    for (i, b) in bad.iter().enumerate() {
        assert!(load(b, 0).is_err(), "case {i} loaded");
    }

    // Settings out of range.
    let zero = craft(&[], id(2, 0), |w| {
        w.write_u64(0);
        w.write_u64(100);
    });
    assert!(load(&zero, 0).is_err());
    let huge = craft(&[], id(2, 0), |w| {
        w.write_u64(100);
        w.write_u64(u64::from(u32::MAX) + 1);
    });
    assert!(load(&huge, 0).is_err());
}

#[test]
fn a_huge_count_fails_without_allocating() {
    let mut w = ByteWriter::default();
    w.write_u64(u64::MAX);
    w.write_u64(1);
    w.write_u64(0);
    w.write_u64(u64::MAX);
    assert!(load(&w.0, 0).is_err());
}

#[derive(Clone, Debug)]
enum Op {
    Append(u64, Vec<Vec<u8>>),
    Delete(usize),
    Record(u8, Vec<u8>, u64),
    Counters(u64, u64),
    Configure(u32, u32),
}

fn op() -> impl Strategy<Value = Op> {
    let bytes = proptest::collection::vec(any::<u8>(), 0..24);
    prop_oneof![
        4 => (0..3u64, proptest::collection::vec(bytes.clone(), 1..3))
            .prop_map(|(gap, f)| Op::Append(gap, f)),
        1 => (0..20usize).prop_map(Op::Delete),
        4 => (0..4u8, proptest::collection::vec(any::<u8>(), 1..30), 0..3000u64)
            .prop_map(|(p, i, t)| Op::Record(p, i, t)),
        1 => (any::<u64>(), any::<u64>()).prop_map(|(a, d)| Op::Counters(a, d)),
        1 => (1..5u32, 1..4u32).prop_map(|(d, m)| Op::Configure(d, m)),
    ]
}

fn build(ops: &[Op]) -> Stream {
    let mut s = Stream::new(IdmpSettings {
        duration_secs: 2,
        maxsize: 3,
    });
    let mut clock = 0u64;
    let mut ids = Vec::new();
    for op in ops {
        match op {
            Op::Append(gap, fields) => {
                let id = StreamId::new(s.last_id.ms + gap, s.last_id.seq + 1);
                let mut flat: Vec<&[u8]> = Vec::new();
                for f in fields {
                    flat.push(f);
                    flat.push(b"v");
                }
                s.append(
                    id,
                    &flat,
                    NodeLimits {
                        max_bytes: 200,
                        max_entries: 4,
                    },
                );
                ids.push(id);
            }
            Op::Delete(i) => {
                if let Some(id) = ids.get(*i) {
                    s.delete(*id);
                    s.refresh_first_id();
                }
            }
            Op::Record(p, iid, dt) => {
                clock += dt;
                let pid = vec![b'p'; usize::from(*p) * 7 + 1];
                if s.idmp.lookup(&pid, iid, clock).is_none() {
                    s.idmp.record(&pid, iid, s.last_id, clock);
                }
            }
            Op::Counters(a, d) => {
                s.idmp.iids_added = *a;
                s.idmp.iids_duplicates = *d;
            }
            Op::Configure(d, m) => {
                s.idmp.configure(Some(*d), Some(*m));
            }
        }
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn round_trip_random_states(ops in proptest::collection::vec(op(), 0..60)) {
        let s = build(&ops);
        let buf = save(&s);
        let back = load(&buf, ENCODING_VERSION).unwrap();
        prop_assert_eq!(view(&back), view(&s));
        prop_assert_eq!(save(&back), buf);
    }

    #[test]
    fn byte_flips_never_panic(
        ops in proptest::collection::vec(op(), 0..30),
        flips in proptest::collection::vec((any::<usize>(), 1..=255u8), 1..4),
    ) {
        let mut buf = save(&build(&ops));
        for (pos, x) in flips {
            let n = buf.len();
            buf[pos % n] ^= x;
        }
        // Either outcome is fine; a panic fails the test.
        let _ = load(&buf, 0);
    }
}

/// An entry as stored: ID, tombstone flag, fields and values.
type RawEntry = (StreamId, bool, Vec<Vec<u8>>);

/// Every node with its master ID and entries (tombstones flagged).
fn node_layout(s: &Stream) -> Vec<(StreamId, Vec<RawEntry>)> {
    s.store
        .nodes()
        .map(|n| {
            let entries = n
                .entries()
                .map(|(e, deleted)| {
                    let fv = e
                        .fields()
                        .flat_map(|(f, v)| [f.to_vec(), v.to_vec()])
                        .collect();
                    (e.id(), deleted, fv)
                })
                .collect();
            (n.master_id(), entries)
        })
        .collect()
}

#[test]
fn round_trip_keeps_nodes_tombstones_and_groups() {
    let mut s = sample();
    let small = NodeLimits {
        max_bytes: 4096,
        max_entries: 3,
    };
    for i in 10..=20u64 {
        s.append(StreamId::new(i, 0), &[b"k", b"v"], small);
    }
    s.last_id = StreamId::new(20, 0);
    s.delete(StreamId::new(11, 0));
    s.delete(StreamId::new(15, 0));
    s.refresh_first_id();
    let g = s
        .groups
        .create(b"g1", StreamId::new(12, 0), 7)
        .expect("new group");
    assert!(g.insert_consumer(b"alice", 1_000, 900));
    assert!(g.insert_consumer(b"bob", 2_000, -1));
    g.insert_nack(StreamId::new(10, 0), b"alice", 1_100, 2)
        .expect("nack");
    g.insert_nack(StreamId::new(12, 0), b"bob", 1_200, 1)
        .expect("nack");
    s.groups
        .create(b"g2", StreamId::MIN, -1)
        .expect("new group");

    let back = load(&save(&s), ENCODING_VERSION).unwrap();
    assert!(node_layout(&s).len() > 3);
    assert_eq!(node_layout(&back), node_layout(&s));
    assert_eq!(back.store.len(), s.store.len());
    let groups = |x: &Stream| -> Vec<(Vec<u8>, crate::stream::groups::ConsumerGroup)> {
        x.groups
            .iter()
            .map(|(n, g)| (n.to_vec(), g.clone()))
            .collect()
    };
    assert_eq!(groups(&back), groups(&s));
    assert_eq!(view(&back), view(&s));
}

/// Redis 7.0's XSETID may set the last ID below the max deleted ID (after the
/// top entries were deleted); such a stream must save and load.
#[test]
fn max_deleted_above_last_id_round_trips() {
    let mut s = sample();
    s.max_deleted_id = StreamId::new(9, 0);
    s.last_id = StreamId::new(5, 0);
    let back = load(&save(&s), ENCODING_VERSION).unwrap();
    assert_eq!(back.max_deleted_id, StreamId::new(9, 0));
    assert_eq!(back.last_id, StreamId::new(5, 0));
}

/// Node byte strings are parsed with every bound checked: a bad flag, a
/// length past the end, trailing bytes or an empty node are refused.
#[test]
fn corrupt_node_bytes_are_refused() {
    use crate::stream::store::varint::put;
    let node = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut blob = Vec::new();
        f(&mut blob);
        let mut w = ByteWriter::default();
        w.write_u64(1);
        w.write_bytes(&blob);
        w.0
    };
    let entry = |b: &mut Vec<u8>, flag: u8, len: u64| {
        put(b, 1); // entries
        put(b, 5); // ms
        put(b, 0); // seq
        b.push(flag);
        put(b, 1); // pairs
        put(b, len);
        b.extend_from_slice(b"f");
        put(b, 1);
        b.extend_from_slice(b"v");
    };
    let cases = [
        (node(&|b| entry(b, 2, 1)), "deleted flag 2"),
        (node(&|b| entry(b, 0, 99)), "cut short"),
        (
            node(&|b| {
                entry(b, 0, 1);
                b.push(0);
            }),
            "trailing bytes",
        ),
        (node(&|b| put(b, 0)), "empty node"),
    ];
    for (c, why) in &cases {
        let err = load(c, ENCODING_VERSION).err().map(|e| e.message);
        assert!(
            err.as_deref().is_some_and(|m| m.contains(why)),
            "{why}: {err:?}"
        );
    }
}
