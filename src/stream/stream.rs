//! A stream: its entries plus the metadata Redis 7.0 keeps beside them
//! (`last_id`, `max_deleted_entry_id`, `entries_added`, `first_id`) and the
//! IDMP state. Ports the ID generation of `streamAppendItem`, the `first_id`
//! maintenance of `streamTrim` and `xdelCommand` (t_stream.c, 7.0.15).

use super::groups::Groups;
use super::id::StreamId;
use super::idmp::{IdmpSettings, IdmpState};
use super::store::{EntryStore, NodeLimits, TrimStrategy};

/// A stream value.
#[derive(Clone, Debug)]
pub struct Stream {
    /// The entries.
    pub store: EntryStore,
    /// `last-generated-id`.
    pub last_id: StreamId,
    /// `max-deleted-entry-id`.
    pub max_deleted_id: StreamId,
    /// `entries-added`: lifetime count of appended entries.
    pub entries_added: u64,
    /// `recorded-first-entry-id`, kept as Redis 7.0 keeps `s->first_id`.
    pub first_id: StreamId,
    /// Idempotent production state.
    pub idmp: IdmpState,
    /// Consumer groups.
    pub groups: Groups,
}

/// The ID argument of XADD.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdRequest {
    /// `*`.
    Auto,
    /// `ms-seq` or `ms` (sequence 0).
    Explicit(StreamId),
    /// `ms-*`: the sequence is generated.
    AutoSeq(u64),
}

/// Why an ID cannot be used for an append.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppendError {
    /// The ID is not greater than the stream's last ID.
    NotGreater,
    /// The stream's last ID is the largest possible ID.
    Exhausted,
}

impl AppendError {
    /// The error reply, as Redis 7.0 words it.
    pub fn message(self) -> &'static str {
        match self {
            AppendError::NotGreater => {
                "ERR The ID specified in XADD is equal or smaller than the target stream top item"
            }
            AppendError::Exhausted => {
                "ERR The stream has exhausted the last possible ID, unable to add more items"
            }
        }
    }
}

/// Resolved trimming arguments of XADD/XTRIM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrimArgs {
    /// MAXLEN or MINID.
    pub strategy: TrimStrategy,
    /// `~`: only whole nodes are removed.
    pub approx: bool,
    /// Maximum entries removed (0 = no limit), already resolved.
    pub limit: u64,
}

impl Stream {
    /// An empty stream with the given IDMP settings.
    pub fn new(settings: IdmpSettings) -> Self {
        Stream {
            store: EntryStore::new(),
            last_id: StreamId::MIN,
            max_deleted_id: StreamId::MIN,
            entries_added: 0,
            first_id: StreamId::MIN,
            idmp: IdmpState::new(settings),
            groups: Groups::new(),
        }
    }

    /// Number of live entries.
    pub fn len(&self) -> u64 {
        self.store.len()
    }

    /// True when the stream has no live entry.
    pub fn is_empty(&self) -> bool {
        self.store.is_empty()
    }

    /// The ID an append would use (xaddCommand's exhaustion check, then
    /// `streamAppendItem`'s ID generation and check); no mutation.
    pub fn resolve_id(&self, req: IdRequest, now_ms: u64) -> Result<StreamId, AppendError> {
        let last = self.last_id;
        if last == StreamId::MAX {
            return Err(AppendError::Exhausted);
        }
        let id = match req {
            // streamNextID
            IdRequest::Auto => {
                if now_ms > last.ms {
                    StreamId::new(now_ms, 0)
                } else {
                    last.incr().ok_or(AppendError::NotGreater)?
                }
            }
            IdRequest::Explicit(id) => id,
            IdRequest::AutoSeq(ms) => {
                if last.ms == ms {
                    if last.seq == u64::MAX {
                        return Err(AppendError::NotGreater);
                    }
                    StreamId::new(ms, last.seq + 1)
                } else {
                    StreamId::new(ms, 0)
                }
            }
        };
        if id <= last {
            return Err(AppendError::NotGreater);
        }
        Ok(id)
    }

    /// Appends an entry with an ID obtained from [`Stream::resolve_id`].
    pub fn append(&mut self, id: StreamId, fields: &[&[u8]], limits: NodeLimits) {
        self.store.append(id, fields, limits);
        self.entries_added = self.entries_added.saturating_add(1);
        self.last_id = id;
        if self.store.len() == 1 {
            self.first_id = id;
        }
    }

    /// Trims (`streamTrim`), updating `first_id` as 7.0 does. Returns the
    /// number of entries removed.
    pub fn trim(&mut self, args: &TrimArgs) -> u64 {
        let deleted = self.store.trim(args.strategy, args.approx, args.limit);
        if self.store.is_empty() {
            self.first_id = StreamId::MIN;
        } else if deleted > 0 {
            self.first_id = self.store.first_id().unwrap_or(StreamId::MAX);
        }
        deleted
    }

    /// Trims with the Redis 8.6 DELREF (`delref`) or ACKED strategy (see
    /// [`EntryStore::trim_referenced`]):
    /// ACKED keeps every entry a group references, DELREF removes the
    /// trimmed entries from every PEL and returns each `(group, id)` removed
    /// in the second vector. Returns the IDs trimmed, ascending.
    pub fn trim_referenced(
        &mut self,
        args: &TrimArgs,
        delref: bool,
    ) -> (Vec<StreamId>, Vec<(Vec<u8>, StreamId)>) {
        let Stream { store, groups, .. } = self;
        let mut unref = Vec::new();
        let removed = store.trim_referenced(args.strategy, args.limit, |id| {
            if delref {
                for g in groups.remove_refs(id) {
                    unref.push((g, id));
                }
                true
            } else {
                !groups.is_referenced(id)
            }
        });
        self.after_trim(removed.len() as u64);
        (removed, unref)
    }

    /// Removes entries as a trim does (no max-deleted-entry-id change): the
    /// replay of a DELREF/ACKED trim (`idmp.xtrim key TRIMIDS id ...`).
    pub fn trim_ids(&mut self, ids: &[StreamId]) -> u64 {
        let n = ids.iter().filter(|id| self.store.delete(**id)).count() as u64;
        self.after_trim(n);
        n
    }

    fn after_trim(&mut self, deleted: u64) {
        if self.store.is_empty() {
            self.first_id = StreamId::MIN;
        } else if deleted > 0 {
            self.first_id = self.store.first_id().unwrap_or(StreamId::MAX);
        }
    }

    /// Deletes one entry as one ID of XDEL does; updates `max_deleted_id`.
    /// Call [`Stream::refresh_first_id`] after the last ID of the command.
    pub fn delete(&mut self, id: StreamId) -> bool {
        if !self.store.delete(id) {
            return false;
        }
        if id > self.max_deleted_id {
            self.max_deleted_id = id;
        }
        true
    }

    /// What XDEL does after its loop: an empty stream records `0-0`; when the
    /// recorded first entry was deleted, the first live entry is recorded.
    pub fn refresh_first_id(&mut self) {
        if self.store.is_empty() {
            self.first_id = StreamId::MIN;
        } else if self.store.get(self.first_id).is_none() {
            self.first_id = self.store.first_id().unwrap_or(StreamId::MAX);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(ms: u64, seq: u64) -> StreamId {
        StreamId::new(ms, seq)
    }

    fn new() -> Stream {
        Stream::new(IdmpSettings::default())
    }

    fn add(s: &mut Stream, req: IdRequest, now: u64) -> Result<StreamId, AppendError> {
        let i = s.resolve_id(req, now)?;
        s.append(i, &[b"f", b"v"], NodeLimits::default());
        Ok(i)
    }

    #[test]
    fn auto_ids_follow_the_clock_and_never_go_back() {
        let mut s = new();
        assert_eq!(add(&mut s, IdRequest::Auto, 100), Ok(id(100, 0)));
        assert_eq!(add(&mut s, IdRequest::Auto, 100), Ok(id(100, 1)));
        assert_eq!(add(&mut s, IdRequest::Auto, 50), Ok(id(100, 2)));
        assert_eq!(add(&mut s, IdRequest::Auto, 101), Ok(id(101, 0)));
        let mut s = new();
        s.last_id = id(7, u64::MAX);
        assert_eq!(s.resolve_id(IdRequest::Auto, 3), Ok(id(8, 0)));
        s.last_id = StreamId::MAX;
        for req in [
            IdRequest::Auto,
            IdRequest::Explicit(StreamId::MAX),
            IdRequest::AutoSeq(5),
        ] {
            assert_eq!(s.resolve_id(req, 0), Err(AppendError::Exhausted));
        }
    }

    #[test]
    fn explicit_and_ms_star_ids() {
        let mut s = new();
        assert_eq!(
            s.resolve_id(IdRequest::Explicit(id(0, 0)), 0),
            Err(AppendError::NotGreater)
        );
        assert_eq!(add(&mut s, IdRequest::Explicit(id(5, 3)), 0), Ok(id(5, 3)));
        assert_eq!(
            s.resolve_id(IdRequest::Explicit(id(5, 3)), 0),
            Err(AppendError::NotGreater)
        );
        assert_eq!(
            s.resolve_id(IdRequest::Explicit(id(4, 9)), 0),
            Err(AppendError::NotGreater)
        );
        assert_eq!(add(&mut s, IdRequest::AutoSeq(5), 0), Ok(id(5, 4)));
        assert_eq!(add(&mut s, IdRequest::AutoSeq(6), 0), Ok(id(6, 0)));
        assert_eq!(
            s.resolve_id(IdRequest::AutoSeq(4), 0),
            Err(AppendError::NotGreater)
        );
        // 0-* on an empty stream is 0-1 (0-0 is not greater than 0-0).
        assert_eq!(new().resolve_id(IdRequest::AutoSeq(0), 0), Ok(id(0, 1)));
        // ms-* when ms-MAX is the last ID. Redis 7.0 returns C_ERR there
        // without setting errno, so its reply depends on a stale errno (we
        // saw both "Elements are too large" and "equal or smaller"); the
        // later fix answers "equal or smaller", which we follow.
        s.last_id = id(9, u64::MAX);
        assert_eq!(
            s.resolve_id(IdRequest::AutoSeq(9), 0),
            Err(AppendError::NotGreater)
        );
        assert_eq!(s.resolve_id(IdRequest::AutoSeq(10), 0), Ok(id(10, 0)));
        assert!(AppendError::NotGreater.message().starts_with("ERR The ID"));
        assert!(AppendError::Exhausted.message().contains("exhausted"));
    }

    /// Recorded with redis-server 7.0.15 (XINFO STREAM after each step):
    /// XADD 1-1 2-1 3-1; XDEL 2-1 -> first 1-1, maxdel 2-1; XDEL 1-1 -> first
    /// 3-1; XDEL 3-1 -> first 0-0, maxdel 3-1; XADD 4-1 -> first 4-1, added 4;
    /// XADD 5-1 6-1, XTRIM MAXLEN 1 -> 2 removed, first 6-1, maxdel 3-1;
    /// XDEL 9-9 6-1 -> 1, first 0-0, maxdel 6-1; XADD *, XTRIM MINID 0 -> 0,
    /// first is the new entry.
    #[test]
    fn first_id_and_max_deleted_as_native() {
        let mut s = new();
        for i in 1..=3 {
            add(&mut s, IdRequest::Explicit(id(i, 1)), 0).unwrap();
        }
        let xdel = |s: &mut Stream, ids: &[StreamId]| {
            let n = ids.iter().filter(|i| s.delete(**i)).count();
            s.refresh_first_id();
            n
        };
        assert_eq!(xdel(&mut s, &[id(2, 1)]), 1);
        assert_eq!(
            (s.first_id, s.max_deleted_id, s.len()),
            (id(1, 1), id(2, 1), 2)
        );
        assert_eq!(xdel(&mut s, &[id(1, 1)]), 1);
        assert_eq!((s.first_id, s.max_deleted_id), (id(3, 1), id(2, 1)));
        assert_eq!(xdel(&mut s, &[id(3, 1)]), 1);
        assert_eq!(
            (s.first_id, s.max_deleted_id, s.len()),
            (id(0, 0), id(3, 1), 0)
        );
        assert_eq!(s.last_id, id(3, 1));
        add(&mut s, IdRequest::Explicit(id(4, 1)), 0).unwrap();
        assert_eq!((s.first_id, s.entries_added), (id(4, 1), 4));
        add(&mut s, IdRequest::Explicit(id(5, 1)), 0).unwrap();
        add(&mut s, IdRequest::Explicit(id(6, 1)), 0).unwrap();
        let maxlen1 = TrimArgs {
            strategy: TrimStrategy::MaxLen(1),
            approx: false,
            limit: 0,
        };
        assert_eq!(s.trim(&maxlen1), 2);
        assert_eq!(
            (s.first_id, s.max_deleted_id, s.len()),
            (id(6, 1), id(3, 1), 1)
        );
        assert_eq!(xdel(&mut s, &[id(9, 9), id(6, 1)]), 1);
        assert_eq!(
            (s.first_id, s.max_deleted_id, s.len()),
            (id(0, 0), id(6, 1), 0)
        );
        let new_id = add(&mut s, IdRequest::Auto, 1_000).unwrap();
        let minid0 = TrimArgs {
            strategy: TrimStrategy::MinId(id(0, 0)),
            approx: false,
            limit: 0,
        };
        assert_eq!(s.trim(&minid0), 0);
        assert_eq!((s.first_id, s.entries_added), (new_id, 7));
    }

    #[test]
    fn trim_to_empty_records_zero_first_id() {
        let mut s = new();
        for i in 1..=5 {
            add(&mut s, IdRequest::Explicit(id(i, 0)), 0).unwrap();
        }
        let t = TrimArgs {
            strategy: TrimStrategy::MinId(id(3, 0)),
            approx: false,
            limit: 0,
        };
        assert_eq!(s.trim(&t), 2);
        assert_eq!(s.first_id, id(3, 0));
        let t = TrimArgs {
            strategy: TrimStrategy::MaxLen(0),
            approx: false,
            limit: 0,
        };
        assert_eq!(s.trim(&t), 3);
        assert_eq!(
            (s.first_id, s.len(), s.last_id),
            (StreamId::MIN, 0, id(5, 0))
        );
        assert!(s.is_empty());
    }
}
