//! Everything observable of a stream as one comparable value.

use redis_idmp::stream::{Stream, StreamId};

/// An entry: its ID and its field/value pairs.
pub type EntryView = (StreamId, Vec<(Vec<u8>, Vec<u8>)>);
/// An IDMP record: pid, iid, stream ID, insertion time.
pub type RecordView = (Vec<u8>, Vec<u8>, StreamId, u64);
/// A PEL entry: ID, consumer, delivery time, delivery count.
pub type NackView = (StreamId, Vec<u8>, u64, u64);
/// A consumer: name, seen time, active time, its pending IDs.
pub type ConsumerView = (Vec<u8>, u64, i64, Vec<StreamId>);
/// A group: name, last ID, entries read, PEL, consumers.
pub type GroupView = (Vec<u8>, StreamId, i64, Vec<NackView>, Vec<ConsumerView>);

/// The observable state of a stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct View {
    /// Live entries in ID order.
    pub entries: Vec<EntryView>,
    /// Length, last ID, max deleted ID, first ID, entries added.
    pub meta: (u64, StreamId, StreamId, StreamId, u64),
    /// IDMP duration and maxsize.
    pub settings: (u32, u32),
    /// iids added, duplicates, last time, pids tracked, iids tracked.
    pub counters: [u64; 5],
    /// IDMP records in insertion order.
    pub records: Vec<RecordView>,
    /// Consumer groups in name order.
    pub groups: Vec<GroupView>,
}

impl View {
    /// The view of `s`.
    pub fn of(s: &Stream) -> View {
        let settings = s.idmp.settings();
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
            meta: (
                s.len(),
                s.last_id,
                s.max_deleted_id,
                s.first_id,
                s.entries_added,
            ),
            settings: (settings.duration_secs, settings.maxsize),
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
            groups: s
                .groups
                .iter()
                .map(|(name, g)| {
                    (
                        name.to_vec(),
                        g.last_id,
                        g.entries_read,
                        g.pel()
                            .map(|(id, n)| {
                                (id, n.consumer().to_vec(), n.delivery_time, n.delivery_count)
                            })
                            .collect(),
                        g.consumers()
                            .map(|c| {
                                (
                                    c.name().to_vec(),
                                    c.seen_time,
                                    c.active_time,
                                    c.pel().collect(),
                                )
                            })
                            .collect(),
                    )
                })
                .collect(),
        }
    }

    /// Without the consumers' seen and active times (a replica keeps its
    /// own, as native replicas do).
    pub fn without_consumer_times(mut self) -> View {
        for g in &mut self.groups {
            for c in &mut g.4 {
                c.1 = 0;
                c.2 = 0;
            }
        }
        self
    }

    /// Without the IDMP insertion times (an AOF rewrite replays the records
    /// with fresh ages).
    pub fn without_idmp_times(mut self) -> View {
        self.counters[2] = 0;
        for r in &mut self.records {
            r.3 = 0;
        }
        self
    }
}
