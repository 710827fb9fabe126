//! The options shared by XADD and XTRIM, parsed as Redis 7.0's
//! `streamParseAddOrTrimArgsOrReply` does (MAXLEN/MINID, `=`/`~`, LIMIT and
//! the default limit of approximate trimming), extended with the Redis 8.2
//! deletion strategies (KEEPREF/DELREF/ACKED) and, for XADD, the Redis 8.6
//! IDMP/IDMPAUTO options plus the internal `IDMPAT <ms>` and
//! `IDMPCFG <duration> <maxsize>` (trusted callers).

use super::util::{is_char, is_kw, parse_ll, ERR_SYNTAX};
use super::CmdError;
use crate::stream::id::parse_id;
use crate::stream::id::parse_strict_id;
use crate::stream::id::ERR_INVALID_ID;
use crate::stream::idmp::IdmpSettings;
use crate::stream::store::TrimStrategy;
use crate::stream::stream::{IdRequest, TrimArgs};
use crate::stream::StreamId;

/// Redis 8.2 reference handling of trimmed/deleted entries (XADD, XTRIM).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeleteStrategy {
    /// Keep references in consumer groups' PELs (the default).
    KeepRef,
    /// Remove references from every consumer group's PEL.
    DelRef,
    /// Only delete entries acknowledged by every consumer group.
    Acked,
}

impl DeleteStrategy {
    /// The keyword as it is written in a command.
    pub fn keyword(self) -> &'static str {
        match self {
            DeleteStrategy::KeepRef => "KEEPREF",
            DeleteStrategy::DelRef => "DELREF",
            DeleteStrategy::Acked => "ACKED",
        }
    }
}

/// The IDMP option of XADD.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdmpOpt<'a> {
    /// `IDMP pid iid`.
    Explicit {
        /// Producer ID.
        pid: &'a [u8],
        /// Idempotent ID.
        iid: &'a [u8],
    },
    /// `IDMPAUTO pid`: the iid is the digest of the fields.
    Auto {
        /// Producer ID.
        pid: &'a [u8],
    },
}

impl<'a> IdmpOpt<'a> {
    /// The producer ID.
    pub fn pid(&self) -> &'a [u8] {
        match *self {
            IdmpOpt::Explicit { pid, .. } | IdmpOpt::Auto { pid } => pid,
        }
    }
}

/// Error: a second IDMP or IDMPAUTO.
pub const ERR_IDMP_TWICE: &str = "ERR IDMP/IDMPAUTO specified multiple times";
/// Error: `IDMP "" iid`.
pub const ERR_IDMP_EMPTY_PID: &str = "ERR IDMP requires a non-empty producer ID";
/// Error: `IDMP pid ""`.
pub const ERR_IDMP_EMPTY_IID: &str = "ERR IDMP requires a non-empty idempotent ID";
/// Error: `IDMPAUTO ""`.
pub const ERR_IDMPAUTO_EMPTY_PID: &str = "ERR IDMPAUTO requires a non-empty producer ID";
/// Error: IDMP/IDMPAUTO with an explicit ID from an untrusted client.
pub const ERR_IDMP_EXPLICIT_ID: &str = "ERR IDMP/IDMPAUTO can be used only with auto-generated IDs";

/// The parsed options of XADD or XTRIM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddTrimArgs<'a> {
    /// The trimming requested, with its limit resolved (0 = none).
    pub trim: Option<TrimArgs>,
    /// KEEPREF / DELREF / ACKED if given.
    pub delete_strategy: Option<DeleteStrategy>,
    /// XADD NOMKSTREAM.
    pub nomkstream: bool,
    /// XADD IDMP / IDMPAUTO.
    pub idmp: Option<IdmpOpt<'a>>,
    /// XADD `IDMPAT <ms>` (trusted callers only): the insertion time to record.
    pub idmp_at: Option<u64>,
    /// XADD `IDMPCFG <duration> <maxsize>` (trusted callers only): the IDMP
    /// settings of the stream if this command creates it, so that a replica
    /// or an AOF replay creates it with the master's settings, not its own
    /// module configs.
    pub create_settings: Option<IdmpSettings>,
    /// XADD: the ID argument (`Auto` for `*`).
    pub id: IdRequest,
    /// XADD: the index of the ID argument in argv (`argv.len()` if none was found).
    pub id_pos: usize,
}

impl AddTrimArgs<'_> {
    /// True when an explicit ID (`ms-seq`, `ms`) or `ms-*` was given.
    pub fn id_given(&self) -> bool {
        !matches!(self.id, IdRequest::Auto)
    }
}

/// Parses the options of XADD (`xadd`) or XTRIM, starting at argv\[2\].
///
/// `trusted` is the server's `mustObeyClient`: the limit is then always 0 and
/// LIMIT without `~` is accepted. `node_max_entries` is the server's
/// `stream-node-max-entries`, for the default limit of `~` trimming.
pub fn parse_add_or_trim<'a>(
    argv: &[&'a [u8]],
    xadd: bool,
    trusted: bool,
    node_max_entries: usize,
) -> Result<AddTrimArgs<'a>, CmdError> {
    let argc = argv.len();
    let mut out = AddTrimArgs {
        trim: None,
        delete_strategy: None,
        nomkstream: false,
        idmp: None,
        idmp_at: None,
        create_settings: None,
        id: IdRequest::Auto,
        id_pos: argc,
    };
    let mut strategy: Option<TrimStrategy> = None;
    let mut approx = false;
    let mut limit: i64 = 0;
    let mut limit_given = false;
    let mut i = 2;
    while i < argc {
        let moreargs = argc - 1 - i;
        let opt = argv.get(i).copied().unwrap_or_default();
        let next = argv.get(i + 1).copied().unwrap_or_default();
        if xadd && is_char(opt, b'*') {
            break;
        } else if (is_kw(opt, "maxlen") || is_kw(opt, "minid")) && moreargs > 0 {
            if strategy.is_some() {
                return Err("ERR syntax error, MAXLEN and MINID options at the same time are not compatible".into());
            }
            approx = false;
            if moreargs >= 2 && is_char(next, b'~') {
                approx = true;
                i += 1;
            } else if moreargs >= 2 && is_char(next, b'=') {
                i += 1;
            }
            let val = argv.get(i + 1).copied().unwrap_or_default();
            if is_kw(opt, "maxlen") {
                let maxlen = parse_ll(val)?;
                if maxlen < 0 {
                    return Err("ERR The MAXLEN argument must be >= 0.".into());
                }
                strategy = Some(TrimStrategy::MaxLen(maxlen as u64));
            } else {
                let minid = parse_strict_id(val).ok_or_else(|| ERR_INVALID_ID.to_string())?;
                strategy = Some(TrimStrategy::MinId(minid));
            }
            i += 1;
        } else if is_kw(opt, "limit") && moreargs > 0 {
            limit = parse_ll(next)?;
            if limit < 0 {
                return Err("ERR The LIMIT argument must be >= 0.".into());
            }
            limit_given = true;
            i += 1;
        } else if xadd && is_kw(opt, "nomkstream") {
            out.nomkstream = true;
        } else if let Some(ds) = delete_strategy_kw(opt).filter(|_| out.delete_strategy.is_none()) {
            // A second strategy falls through, as in Redis 8.6: XADD reads it
            // as the ID (an invalid one), XTRIM answers a syntax error.
            out.delete_strategy = Some(ds);
        } else if xadd && is_kw(opt, "idmp") && moreargs >= 2 {
            if out.idmp.is_some() {
                return Err(ERR_IDMP_TWICE.into());
            }
            let iid = argv.get(i + 2).copied().unwrap_or_default();
            if next.is_empty() {
                return Err(ERR_IDMP_EMPTY_PID.into());
            }
            if iid.is_empty() {
                return Err(ERR_IDMP_EMPTY_IID.into());
            }
            out.idmp = Some(IdmpOpt::Explicit { pid: next, iid });
            i += 2;
        } else if xadd && is_kw(opt, "idmpauto") && moreargs >= 1 {
            if out.idmp.is_some() {
                return Err(ERR_IDMP_TWICE.into());
            }
            if next.is_empty() {
                return Err(ERR_IDMPAUTO_EMPTY_PID.into());
            }
            out.idmp = Some(IdmpOpt::Auto { pid: next });
            i += 1;
        } else if xadd && is_kw(opt, "idmpat") {
            // Internal: the insertion time of a propagated IDMP add.
            if !trusted || moreargs == 0 || out.idmp_at.is_some() {
                return Err(ERR_SYNTAX.into());
            }
            let t = parse_ll(next)?;
            if t < 0 {
                return Err(super::util::ERR_NOT_INT.into());
            }
            out.idmp_at = Some(t as u64);
            i += 1;
        } else if xadd && is_kw(opt, "idmpcfg") {
            // Internal: the settings of a stream this XADD creates.
            if !trusted || moreargs < 2 || out.create_settings.is_some() {
                return Err(ERR_SYNTAX.into());
            }
            let m = argv.get(i + 2).copied().unwrap_or_default();
            let duration = parse_ll(next)?;
            if !(1..=86400).contains(&duration) {
                return Err(super::xcfgset::ERR_DURATION_RANGE.into());
            }
            let maxsize = parse_ll(m)?;
            if !(1..=10000).contains(&maxsize) {
                return Err(super::xcfgset::ERR_MAXSIZE_RANGE.into());
            }
            out.create_settings = Some(IdmpSettings {
                duration_secs: duration as u32,
                maxsize: maxsize as u32,
            });
            i += 2;
        } else if xadd {
            // A syntax error or the ID.
            let parsed = parse_id(opt, 0, true, true).ok_or_else(|| ERR_INVALID_ID.to_string())?;
            out.id = if parsed.seq_given {
                IdRequest::Explicit(parsed.id)
            } else {
                IdRequest::AutoSeq(parsed.id.ms)
            };
            break;
        } else {
            return Err(ERR_SYNTAX.into());
        }
        i += 1;
    }
    out.id_pos = i;

    if limit != 0 && strategy.is_none() {
        return Err(
            "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy".into(),
        );
    }
    if !xadd && strategy.is_none() {
        return Err("ERR syntax error, XTRIM must be called with a trimming strategy".into());
    }
    let limit: u64 = if trusted {
        0
    } else if limit_given {
        if !approx {
            return Err(
                "ERR syntax error, LIMIT cannot be used without the special ~ option".into(),
            );
        }
        limit as u64
    } else if approx {
        // 100 nodes' worth, capped on both sides as 7.0 does.
        let l = (node_max_entries as u64).saturating_mul(100);
        if l == 0 {
            10_000
        } else {
            l.min(1_000_000)
        }
    } else {
        0
    };
    out.trim = strategy.map(|strategy| TrimArgs {
        strategy,
        approx,
        limit,
    });

    if xadd {
        if out.idmp_at.is_some() && out.idmp.is_none() {
            return Err(ERR_SYNTAX.into());
        }
        if out.idmp.is_some() && out.id_given() && !trusted {
            return Err(ERR_IDMP_EXPLICIT_ID.into());
        }
    }
    Ok(out)
}

fn delete_strategy_kw(opt: &[u8]) -> Option<DeleteStrategy> {
    if is_kw(opt, "keepref") {
        Some(DeleteStrategy::KeepRef)
    } else if is_kw(opt, "delref") {
        Some(DeleteStrategy::DelRef)
    } else if is_kw(opt, "acked") {
        Some(DeleteStrategy::Acked)
    } else {
        None
    }
}

/// The trimming arguments to propagate after a trim ran, as 7.0 does: an
/// exact trim keeps its threshold (`MAXLEN = n`, `MINID = id`); an
/// approximate one is rewritten by `streamRewriteTrimArgument` to the result,
/// `MAXLEN = <length>` or `MINID = <first entry, tombstones included>` (the
/// largest ID when the stream is empty). LIMIT is never propagated.
pub fn exact_trim_argv(trim: &TrimArgs, len: u64, first_any: Option<StreamId>) -> [Vec<u8>; 3] {
    match (trim.strategy, trim.approx) {
        (TrimStrategy::MaxLen(n), false) => [
            b"MAXLEN".to_vec(),
            b"=".to_vec(),
            n.to_string().into_bytes(),
        ],
        (TrimStrategy::MaxLen(_), true) => [
            b"MAXLEN".to_vec(),
            b"=".to_vec(),
            len.to_string().into_bytes(),
        ],
        (TrimStrategy::MinId(id), false) => [b"MINID".to_vec(), b"=".to_vec(), id.to_bytes()],
        (TrimStrategy::MinId(_), true) => [
            b"MINID".to_vec(),
            b"=".to_vec(),
            first_any.unwrap_or(StreamId::MAX).to_bytes(),
        ],
    }
}
