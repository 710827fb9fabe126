//! A stream: its entries plus the metadata Redis 7.0 keeps beside them
//! (`last_id`, `max_deleted_entry_id`, `entries_added`, `first_id`) and the
//! IDMP state. Ports the ID generation of `streamAppendItem`, the `first_id`
//! maintenance of `streamTrim` and `xdelCommand` (t_stream.c, 7.0.15).

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
