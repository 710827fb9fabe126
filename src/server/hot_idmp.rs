//! The hot path of `XADD key IDMP pid iid * field value ...` and
//! `XADD key IDMPAUTO pid * field value ...` on a module stream (issue 13).
//!
//! A fresh add propagates `idmp.xadd key IDMP pid iid IDMPAT <time> <id>
//! field value ...`: two arguments more than the client sent (three for
//! IDMPAUTO, whose iid is computed). A module command cannot lengthen its
//! client's argument vector, but the command filter can: when it routes such
//! an XADD it reserves the slots, inserting long-lived strings right after
//! the iid (IDMP) or the pid (IDMPAUTO):
//!
//! ```text
//! client:  XADD      key IDMP     pid iid                 * f v
//! routed:  idmp.xadd key IDMP     pid iid  IDMPAT <slot>  * f v
//! client:  XADD      key IDMPAUTO pid                     * f v
//! routed:  idmp.xadd key IDMPAUTO pid <slot> IDMPAT <slot> * f v
//! ```
//!
//! The command recognises the reserved slots by the strings' addresses (a
//! client's own `IDMPAT` argument is another string), fills them (the time,
//! the computed iid, `IDMPAUTO` -> `IDMP`, the ID in place of `*`) and
//! propagates its vector verbatim ([`propagate_replaced`]): the same bytes
//! the general path propagates through `RedisModule_Replicate`. Every other
//! case (a duplicate is answered here too, propagating its counters as the
//! general path does) goes to the general path with the reserved slots
//! removed ([`without_marks`]), so it sees exactly what the client sent.

use std::ffi::c_int;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

use redis_module::raw;

use crate::commands::reply::Reply;
use crate::commands::xadd::{counters_argv_of, idmp_add, IdmpAdd};
use crate::rm;
use crate::server::api::{self, str_bytes};
use crate::server::host::host;
use crate::server::hot_xadd::{propagate_replaced, signal_added, Arg};
use crate::server::reply::ModuleReply;
use crate::server::route::{exec_ctx_with, key_kind, Kind, OpenKey};
use crate::server::stats;
use crate::stream::digest::idmpauto_iid;
use crate::stream::id::format_u64;
use crate::stream::stream::IdRequest;

/// The `IDMPAT` keyword the filter reserves.
static IDMPAT: AtomicPtr<raw::RedisModuleString> = AtomicPtr::new(std::ptr::null_mut());
/// A slot the command fills (the time; IDMPAUTO's iid).
static SLOT: AtomicPtr<raw::RedisModuleString> = AtomicPtr::new(std::ptr::null_mut());
/// `IDMP`, which IDMPAUTO propagates as.
static IDMP_WORD: AtomicPtr<raw::RedisModuleString> = AtomicPtr::new(std::ptr::null_mut());

/// The insertion time last propagated, and its string (one reference held
/// here): the adds of one millisecond, most of them under load, share it.
static TIME_MS: AtomicU64 = AtomicU64::new(u64::MAX);
static TIME_STR: AtomicPtr<raw::RedisModuleString> = AtomicPtr::new(std::ptr::null_mut());

/// The `IDMPAT` time `at` as a replacement argument: the shared string of
/// its millisecond, made when the millisecond changes.
fn time_arg(at: u64, buf: &mut [u8; 20]) -> Arg<'_> {
    let cached = TIME_STR.load(Ordering::Relaxed);
    if !cached.is_null() && TIME_MS.load(Ordering::Relaxed) == at {
        return Arg::Shared(cached);
    }
    let t = format_u64(at, buf);
    let s = api::create_string(std::ptr::null_mut(), t);
    if s.is_null() {
        return Arg::Bytes(t);
    }
    let old = TIME_STR.swap(s, Ordering::Relaxed);
    if !old.is_null() {
        // The vectors that propagated it hold references of their own.
        api::free_string(std::ptr::null_mut(), old);
    }
    TIME_MS.store(at, Ordering::Relaxed);
    Arg::Shared(s)
}

/// Creates the long-lived strings (at load); false if one cannot be made.
pub fn init() -> bool {
    api::long_lived(&IDMPAT, b"IDMPAT").is_some()
        && api::long_lived(&SLOT, b"0").is_some()
        && api::long_lived(&IDMP_WORD, b"IDMP").is_some()
}

/// Which form a marked vector has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Marks {
    /// `IDMP pid iid`: slots at 5 and 6.
    Explicit,
    /// `IDMPAUTO pid`: slots at 4, 5 and 6.
    Auto,
}

/// Called by the filter for an XADD it routes (`argc` arguments): reserves
/// the slots of an `IDMP pid iid` or `IDMPAUTO pid` given first.
pub fn mark(fctx: *mut raw::RedisModuleCommandFilterCtx, argc: c_int) {
    // Not into a vector a script lends (Valkey 9.1): the filter API cannot
    // grow it (host::Host::script_argv_owned).
    if !host().filtered_argv_owned() {
        return;
    }
    let a2 = rm!(RedisModule_CommandFilterArgGet(fctx, 2)).unwrap_or(std::ptr::null_mut());
    if a2.is_null() {
        return;
    }
    let opt = str_bytes(a2);
    let (at, slots): (c_int, &[&AtomicPtr<raw::RedisModuleString>]) = if argc >= 8 && is_idmp(opt) {
        (5, &[&IDMPAT, &SLOT])
    } else if argc >= 7 && is_idmpauto(opt) {
        (4, &[&SLOT, &IDMPAT, &SLOT])
    } else {
        return;
    };
    for (n, cell) in slots.iter().enumerate() {
        let s = cell.load(Ordering::Relaxed);
        if s.is_null() {
            return;
        }
        // The vector owns one reference (the filter API takes it).
        let _ = rm!(RedisModule_RetainString(std::ptr::null_mut(), s));
        let _ = rm!(RedisModule_CommandFilterArgInsert(fctx, at + n as c_int, s));
    }
}

/// Whether `opt` is `IDMP` in any case: one word compare with bit 5 set in
/// every byte, which is exact for letters (a byte `b` with `b | 0x20 ==
/// b'i'` is `i` or `I`).
fn is_idmp(opt: &[u8]) -> bool {
    <[u8; 4]>::try_from(opt)
        .is_ok_and(|w| u32::from_le_bytes(w) | 0x2020_2020 == u32::from_le_bytes(*b"idmp"))
}

/// Whether `opt` is `IDMPAUTO` in any case (as [`is_idmp`]).
fn is_idmpauto(opt: &[u8]) -> bool {
    <[u8; 8]>::try_from(opt).is_ok_and(|w| {
        u64::from_le_bytes(w) | 0x2020_2020_2020_2020 == u64::from_le_bytes(*b"idmpauto")
    })
}

/// The marks `argv` carries, if the filter reserved slots in it.
pub fn marks(argv: &[*mut raw::RedisModuleString]) -> Option<Marks> {
    let (at, slot) = (IDMPAT.load(Ordering::Relaxed), SLOT.load(Ordering::Relaxed));
    if at.is_null() || argv.get(5) != Some(&at) || argv.get(6) != Some(&slot) {
        return None;
    }
    Some(if argv.get(4) == Some(&slot) {
        Marks::Auto
    } else {
        Marks::Explicit
    })
}

/// `argv` without its reserved slots, wherever they are (another module's
/// filter may have moved them): what the client sent. `None` when it has
/// none.
pub fn without_marks(
    argv: &[*mut raw::RedisModuleString],
) -> Option<Vec<*mut raw::RedisModuleString>> {
    let (at, slot) = (IDMPAT.load(Ordering::Relaxed), SLOT.load(Ordering::Relaxed));
    let is_mark = |a: &*mut raw::RedisModuleString| !at.is_null() && (*a == at || *a == slot);
    if !argv.iter().any(is_mark) {
        return None;
    }
    Some(argv.iter().filter(|a| !is_mark(a)).copied().collect())
}

/// Serves a marked `idmp.xadd` (the client's own vector) on a module stream;
/// `false` with nothing done for anything the general path must answer.
pub fn run(
    ctx: *mut raw::RedisModuleCtx,
    argv: &mut [*mut raw::RedisModuleString],
    m: Marks,
    flags: u32,
) -> bool {
    // name key IDMP pid iid IDMPAT slot * f v ...
    if argv.len() < 10 || !(argv.len() - 8).is_multiple_of(2) || !host().argv_owned(flags) {
        return false;
    }
    let (Some(&name), Some(&keyname)) = (argv.first(), argv.get(1)) else {
        return false;
    };
    let (pid, given_iid, star) = (arg(argv, 3), arg(argv, 4), arg(argv, 7));
    if !crate::server::filter::is_xadd_name(name)
        || star != b"*"
        || pid.is_empty()
        || (m == Marks::Explicit && given_iid.is_empty())
    {
        return false;
    }
    let mut stack: [&[u8]; 16] = [&[]; 16];
    let heap: Vec<&[u8]>;
    let rest = argv.get(8..).unwrap_or_default();
    let fields: &[&[u8]] = if rest.len() <= stack.len() {
        for (d, &s) in stack.iter_mut().zip(rest) {
            *d = str_bytes(s);
        }
        stack.get(..rest.len()).unwrap_or_default()
    } else {
        heap = rest.iter().map(|&s| str_bytes(s)).collect();
        &heap
    };
    let key = OpenKey::open(ctx, keyname, true);
    let Kind::Module(p) = key_kind(key.0) else {
        return false;
    };
    // SAFETY: the pointer is the live value of the open key; the server is
    // single-threaded here and nothing else borrows it during this call.
    let Some(s) = (unsafe { p.as_mut() }) else {
        return false;
    };
    let auto_iid;
    let iid: &[u8] = match m {
        Marks::Explicit => given_iid,
        Marks::Auto => {
            auto_iid = idmpauto_iid(fields);
            &auto_iid
        }
    };
    let ectx = exec_ctx_with(flags);
    let before = stats::Tally::of(s);
    let done = idmp_add(s, pid, iid, IdRequest::Auto, fields, &ectx);
    stats::account(before, stats::Tally::of(s));
    let mut buf = [0u8; 41];
    match done {
        IdmpAdd::Failed(e) => {
            ModuleReply::new(ctx).error(e);
        }
        IdmpAdd::Duplicate(id) => {
            ModuleReply::new(ctx).bulk(id.format_into(&mut buf));
            let (added, duplicates) = (s.idmp.iids_added, s.idmp.iids_duplicates);
            drop(key);
            if !api::replicate_counters(ctx, keyname, added, duplicates) {
                let key_bytes = [arg(argv, 1)];
                let counters = counters_argv_of(key_bytes[0], added, duplicates);
                api::auto_memory(ctx); // (replicate makes its strings with ctx)
                let own = api::OwnArgs {
                    bytes: &key_bytes,
                    strs: std::slice::from_ref(&keyname),
                };
                api::replicate(ctx, &counters, own);
            }
            let _ = rm!(RedisModule_SignalModifiedKey(ctx, keyname));
        }
        IdmpAdd::Added { id, at } => {
            let id_bytes = id.format_into(&mut buf);
            ModuleReply::new(ctx).bulk(id_bytes);
            drop(key);
            let mut tbuf = [0u8; 20];
            let t = time_arg(at, &mut tbuf);
            let word = IDMP_WORD.load(Ordering::Relaxed);
            let word = if word.is_null() {
                Arg::Bytes(b"IDMP")
            } else {
                Arg::Shared(word)
            };
            // The reserved slots and `*` always change; IDMPAUTO's word and
            // iid slot too. The client's iid stays, and its `IDMP` where
            // its bytes are equal.
            let repl = [
                (6, t),
                (7, Arg::Bytes(id_bytes)),
                (4, Arg::Bytes(iid)),
                (2, word),
            ];
            let repl = match m {
                Marks::Auto => &repl[..],
                Marks::Explicit if arg(argv, 2) == b"IDMP" => &repl[..2],
                Marks::Explicit => &[repl[0], repl[1], repl[3]][..],
            };
            propagate_replaced(ctx, argv, repl);
            signal_added(ctx, keyname);
        }
    }
    true
}

/// The bytes of argument `i` (empty when absent). They live as long as the
/// argument's string: the caller must not read them after replacing it.
fn arg<'a>(argv: &[*mut raw::RedisModuleString], i: usize) -> &'a [u8] {
    argv.get(i).map_or(&[][..], |&s| str_bytes(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_words_match_as_eq_ignore_ascii_case() {
        for word in [&b"idmp"[..], b"idmpauto"] {
            let is = |b: &[u8]| {
                if word.len() == 4 {
                    is_idmp(b)
                } else {
                    is_idmpauto(b)
                }
            };
            // Every case mix matches.
            for mask in 0..(1u32 << word.len()) {
                let w: Vec<u8> = word
                    .iter()
                    .enumerate()
                    .map(|(i, &c)| {
                        if mask >> i & 1 == 1 {
                            c.to_ascii_uppercase()
                        } else {
                            c
                        }
                    })
                    .collect();
                assert!(is(&w), "{w:?}");
            }
            // Any other byte at any position does not (those one bit 5
            // away included), nor another length.
            for i in 0..word.len() {
                for b in 0..=255u8 {
                    let mut w = word.to_vec();
                    w[i] = b;
                    assert_eq!(is(&w), w.eq_ignore_ascii_case(word), "{w:?}");
                }
            }
            assert!(!is(&word[..word.len() - 1]));
            assert!(!is(&[word, b"x"].concat()));
        }
        assert!(!is_idmp(b""));
        assert!(!is_idmpauto(b"idmp"));
    }
}
