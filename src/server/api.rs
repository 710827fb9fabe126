//! Thin, checked access to the module API function pointers.
//!
//! The server fills the `RedisModule_*` pointers at load; an API the running
//! server lacks stays `None`. Every call goes through [`rm!`](crate::rm), which yields
//! `None` instead of calling a missing pointer, so no call can abort the server.

use std::borrow::Cow;
use std::ffi::{c_char, c_int, CStr};
use std::ptr;

use redis_module::raw;

use crate::commands::cg::XclaimEffect;
use crate::stream::id::format_u64;

/// Calls a module API by name: `rm!(RedisModule_X(a, b))` is `Some(result)`, or
/// `None` when the server does not provide that API.
#[macro_export]
macro_rules! rm {
    ($name:ident ( $($arg:expr),* $(,)? )) => {{
        // SAFETY: the pointer is read once (a plain copy of an Option<fn>) and
        // only called when the server set it; arguments are valid pointers
        // obtained from the server for the current call.
        #[allow(unused_unsafe)]
        match unsafe { redis_module::raw::$name } {
            Some(f) => Some(unsafe { f($($arg),*) }),
            None => None,
        }
    }};
}

/// Borrows the bytes of a module string.
///
/// The slice lives as long as the string: for command arguments, the whole
/// command call.
pub fn str_bytes<'a>(s: *const raw::RedisModuleString) -> &'a [u8] {
    let mut len: usize = 0;
    match rm!(RedisModule_StringPtrLen(s, &mut len)) {
        Some(p) if !p.is_null() && len > 0 => {
            // SAFETY: the server guarantees `p` points to `len` readable bytes
            // owned by `s`, which outlives the borrow (see the doc comment).
            unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len) }
        }
        _ => &[],
    }
}

/// Turns on automatic memory management for `ctx`: strings, keys and call
/// replies made with it are released when the callback returns. Every
/// callback that creates strings with its context calls this first.
pub fn auto_memory(ctx: *mut raw::RedisModuleCtx) {
    if !ctx.is_null() {
        let _ = rm!(RedisModule_AutoMemory(ctx));
    }
}

/// Creates a module string (freed with `ctx` once [`auto_memory`] is on for
/// it; owned by the caller when `ctx` is null).
pub fn create_string(ctx: *mut raw::RedisModuleCtx, b: &[u8]) -> *mut raw::RedisModuleString {
    rm!(RedisModule_CreateString(
        ctx,
        b.as_ptr().cast::<c_char>(),
        b.len()
    ))
    .unwrap_or(ptr::null_mut())
}

/// Frees a module string created with a null context.
pub fn free_string(ctx: *mut raw::RedisModuleCtx, s: *mut raw::RedisModuleString) {
    if !s.is_null() {
        let _ = rm!(RedisModule_FreeString(ctx, s));
    }
}

/// Writes a line to the server log at `level` ("notice", "warning", ...).
pub fn log(ctx: *mut raw::RedisModuleCtx, level: &str, msg: &str) {
    let lvl = c_string(level);
    let fmt = c_string("%s");
    let m = c_string(msg);
    let _ = rm!(RedisModule_Log(ctx, lvl.as_ptr(), fmt.as_ptr(), m.as_ptr()));
}

/// A NUL-terminated copy of `s` (interior NULs are dropped).
pub fn c_string(s: &str) -> std::ffi::CString {
    let clean: Vec<u8> = s.bytes().filter(|&b| b != 0).collect();
    std::ffi::CString::new(clean).unwrap_or_default()
}

/// The names the module passes on every write (replicated commands, keyspace
/// events), as static C strings so the hot path allocates none for them.
const STATIC_NAMES: &[&CStr] = &[
    c"idmp.xadd",
    c"idmp.idmpcounters",
    c"idmp.xdel",
    c"idmp.xtrim",
    c"idmp.xsetid",
    c"idmp.xclaim",
    c"idmp.xgroup",
    c"idmp.xack",
    c"XCFGSET",
    c"XIDMPRECORD",
    c"idmp.xidmprecord",
    c"xadd",
    c"xtrim",
    c"xdel",
    c"xsetid",
    c"xcfgset",
    c"xidmprecord",
    c"xgroup-create",
    c"xgroup-createconsumer",
    c"xgroup-delconsumer",
    c"xgroup-destroy",
    c"xgroup-setid",
];

/// `name` as a C string: a static one when it is a known name, else a copy.
pub fn name_cstr(name: &[u8]) -> Cow<'static, CStr> {
    match STATIC_NAMES.iter().find(|c| c.to_bytes() == name) {
        Some(c) => Cow::Borrowed(*c),
        None => Cow::Owned(c_string(&String::from_utf8_lossy(name))),
    }
}

/// What the server says of client `id` (`RedisModule_GetClientInfoById`,
/// version 1): `None` for a client it does not list by id.
pub fn client_info(id: u64) -> Option<raw::RedisModuleClientInfo> {
    let mut info = raw::RedisModuleClientInfo {
        version: 1,
        flags: 0,
        id: 0,
        addr: [0; 46],
        port: 0,
        db: 0,
    };
    let ci: *mut raw::RedisModuleClientInfo = &mut info;
    // SAFETY: a version-1 client info structure, alive during the call,
    // which the server fills (only for a client it lists by id).
    let found = rm!(RedisModule_GetClientInfoById(ci.cast(), id));
    (found == Some(raw::REDISMODULE_OK as i32)).then_some(info)
}

/// The server's wall clock in milliseconds.
pub fn now_ms() -> u64 {
    rm!(RedisModule_Milliseconds()).map_or(0, |v| v.max(0) as u64)
}

/// The context flags (`REDISMODULE_CTX_FLAGS_*`).
pub fn ctx_flags(ctx: *mut raw::RedisModuleCtx) -> u32 {
    rm!(RedisModule_GetContextFlags(ctx)).map_or(0, |v| v as u32)
}

/// The running command's own arguments, index for index: their bytes and
/// the server's strings.
#[derive(Clone, Copy, Default)]
pub struct OwnArgs<'a> {
    /// The bytes of each argument.
    pub bytes: &'a [&'a [u8]],
    /// The server's string of each argument.
    pub strs: &'a [*mut raw::RedisModuleString],
}

impl OwnArgs<'_> {
    /// The server string whose bytes `b` borrows, if `b` is one of them.
    fn find(&self, b: &[u8]) -> Option<*mut raw::RedisModuleString> {
        let i = self
            .bytes
            .iter()
            .position(|a| a.as_ptr() == b.as_ptr() && a.len() == b.len())?;
        self.strs.get(i).copied()
    }
}

/// Replicates one command given as an argument vector (`argv[0]` is the
/// name). An argument borrowed from the command's own arguments is passed
/// on as the server's string (RM_Replicate takes a reference), others are
/// created.
pub fn replicate(ctx: *mut raw::RedisModuleCtx, argv: &[Cow<'_, [u8]>], own: OwnArgs<'_>) {
    let Some((name, rest)) = argv.split_first() else {
        return;
    };
    let cname = name_cstr(name);
    // On the stack for the usual lengths (one propagated command per write).
    let mut stack: [*mut raw::RedisModuleString; 24] = [std::ptr::null_mut(); 24];
    let mut heap: Vec<*mut raw::RedisModuleString>;
    let strs: &mut [*mut raw::RedisModuleString] = if rest.len() <= stack.len() {
        stack.get_mut(..rest.len()).unwrap_or_default()
    } else {
        heap = vec![std::ptr::null_mut(); rest.len()];
        &mut heap
    };
    for (d, a) in strs.iter_mut().zip(rest) {
        *d = match a {
            Cow::Borrowed(b) => own
                .find(b)
                .or_else(|| shared_word(b))
                .unwrap_or_else(|| create_string(ctx, b)),
            Cow::Owned(v) => create_string(ctx, v),
        };
    }
    let fmt = c"v";
    // SAFETY: `strs` holds valid strings, owned by `ctx` (freed automatically)
    // or the command's arguments (alive during the call); the "v" format
    // takes an array pointer and its length.
    if let Some(f) = unsafe { raw::RedisModule_Replicate } {
        unsafe {
            f(
                ctx,
                cname.as_ptr(),
                fmt.as_ptr(),
                strs.as_mut_ptr(),
                strs.len(),
            );
        }
    }
}

/// Replicates `idmp.idmpcounters key <added> <duplicates>`, what a
/// duplicate propagates (see `commands::xadd::counters_argv`, whose bytes
/// these are), with the command's own key string and the counters as
/// buffers formatted on the stack (the server makes one embedded string of
/// each; its "l" would make an sds and an object). False (nothing sent)
/// where the host lacks the call, which the caller then makes the general
/// way.
pub fn replicate_counters(
    ctx: *mut raw::RedisModuleCtx,
    key: *mut raw::RedisModuleString,
    added: u64,
    duplicates: u64,
) -> bool {
    // SAFETY: the API table entry is set once at load and only read since.
    let Some(f) = (unsafe { raw::RedisModule_Replicate }) else {
        return false;
    };
    let (mut a_buf, mut d_buf) = ([0u8; 20], [0u8; 20]);
    let a = format_u64(added, &mut a_buf);
    let d = format_u64(duplicates, &mut d_buf);
    // SAFETY: "sbb" takes a string (the command's key, alive during the
    // call; RM_Replicate takes its own reference) and two buffers, each a
    // pointer and a length, alive during the call (it copies them).
    unsafe {
        f(
            ctx,
            c"idmp.idmpcounters".as_ptr(),
            c"sbb".as_ptr(),
            key,
            a.as_ptr(),
            a.len(),
            d.as_ptr(),
            d.len(),
        );
    }
    true
}

/// Replicates a stream's creation by a plain XADD: `idmp.xadd key IDMPCFG
/// <duration> <maxsize> <id> field value ...`, the bytes the general path
/// sends (`commands::xadd`, a created stream), from the command's own key
/// and field strings (the server takes a reference to each), the keyword as
/// a long-lived string and the numbers and the ID as buffers formatted on
/// the stack: no argument vector and no string is made here.
pub fn replicate_created(
    ctx: *mut raw::RedisModuleCtx,
    key: *mut raw::RedisModuleString,
    duration_secs: u32,
    maxsize: u32,
    id: &[u8],
    fields: &[*mut raw::RedisModuleString],
) {
    // SAFETY: the API table entry is set once at load and only read since.
    let Some(f) = (unsafe { raw::RedisModule_Replicate }) else {
        return;
    };
    let (mut d_buf, mut m_buf) = ([0u8; 20], [0u8; 20]);
    let d = format_u64(u64::from(duration_secs), &mut d_buf);
    let m = format_u64(u64::from(maxsize), &mut m_buf);
    let word = shared_word(b"IDMPCFG").unwrap_or_else(|| create_string(ctx, b"IDMPCFG"));
    // SAFETY: "ssbbbv" matches the arguments in order: two strings (the
    // command's key, alive during the call, and a long-lived or `ctx`
    // string), three buffers (pointer and length, alive during the call;
    // the server copies them) and a vector of the command's own strings
    // with its length (the server takes a reference to each).
    unsafe {
        f(
            ctx,
            c"idmp.xadd".as_ptr(),
            c"ssbbbv".as_ptr(),
            key,
            word,
            d.as_ptr(),
            d.len(),
            m.as_ptr(),
            m.len(),
            id.as_ptr(),
            id.len(),
            fields.as_ptr(),
            fields.len(),
        );
    }
}

/// Replicates an `idmp.xclaim` ([`XclaimEffect`], whose `argv()` are the
/// bytes sent) with RM_Replicate's typed format: the key, group and
/// consumer as the command's own strings when they are, the keywords as
/// long-lived strings, the IDs and counts as buffers formatted on the
/// stack (the server makes one embedded string of each; its "l" would
/// make an sds and an object). No argument vector and no string of the
/// context's is made, which the general [`replicate`] would do for each
/// of the entries a group read delivers.
pub fn replicate_xclaim(ctx: *mut raw::RedisModuleCtx, x: &XclaimEffect<'_>, own: OwnArgs<'_>) {
    // SAFETY: the API table entry is set once at load and only read since.
    let Some(f) = (unsafe { raw::RedisModule_Replicate }) else {
        return;
    };
    let arg = |b: &[u8]| own.find(b).unwrap_or_else(|| create_string(ctx, b));
    let (key, group, consumer) = (arg(x.key), arg(x.group), arg(&x.consumer));
    // XCLAIM's keywords are WORDS[..6], in its order: taken by index.
    let [zero, time_w, retry_w, force_w, justid_w, lastid_w]: [*mut raw::RedisModuleString; 6] =
        std::array::from_fn(|i| {
            let w = WORDS.get(i).copied().unwrap_or_default();
            WORD_STRINGS
                .get(i)
                .and_then(|cell| long_lived(cell, w))
                .unwrap_or_else(|| create_string(ctx, w))
        });
    let (mut id_buf, mut last_buf) = ([0u8; 41], [0u8; 41]);
    let (mut time_buf, mut count_buf) = ([0u8; 20], [0u8; 20]);
    let id = x.id.format_into(&mut id_buf);
    let last = x.last_id.format_into(&mut last_buf);
    let time = format_u64(x.delivery_time, &mut time_buf);
    let count = format_u64(x.delivery_count, &mut count_buf);
    // SAFETY: the format "ssssbsbsbsssb" matches the arguments in order:
    // strings ("s": alive during the call; owned by the command, `ctx`
    // or the module; RM_Replicate takes its own reference) and buffers
    // ("b": pointer and length, copied).
    unsafe {
        f(
            ctx,
            c"idmp.xclaim".as_ptr(),
            c"ssssbsbsbsssb".as_ptr(),
            key,
            group,
            consumer,
            zero,
            id.as_ptr(),
            id.len(),
            time_w,
            time.as_ptr(),
            time.len(),
            retry_w,
            count.as_ptr(),
            count.len(),
            force_w,
            justid_w,
            lastid_w,
            last.as_ptr(),
            last.len(),
        );
    }
}

/// The keywords of the propagated commands, passed on as long-lived
/// strings (RM_Replicate takes a reference to each) instead of being made
/// for every command. The first six are XCLAIM's, in its order
/// ([`replicate_xclaim`] takes them by index).
const WORDS: &[&[u8]] = &[
    b"0",
    b"TIME",
    b"RETRYCOUNT",
    b"FORCE",
    b"JUSTID",
    b"LASTID",
    b"SETID",
    b"ENTRIESREAD",
    b"CREATECONSUMER",
    b"IDMP",
    b"IDMPAT",
    b"IDMPCFG",
];

/// The long-lived strings of [`WORDS`], made on first use.
static WORD_STRINGS: [std::sync::atomic::AtomicPtr<raw::RedisModuleString>; WORDS.len()] =
    [const { std::sync::atomic::AtomicPtr::new(ptr::null_mut()) }; WORDS.len()];

/// The long-lived string holding `b` when it is one of [`WORDS`].
fn shared_word(b: &[u8]) -> Option<*mut raw::RedisModuleString> {
    let i = WORDS.iter().position(|w| *w == b)?;
    long_lived(WORD_STRINGS.get(i)?, b)
}

/// Subscribes `callback` to the server event `id` (data version 1); whether
/// the server took the subscription.
pub fn subscribe_event(
    ctx: *mut raw::RedisModuleCtx,
    id: u64,
    callback: unsafe extern "C" fn(
        *mut raw::RedisModuleCtx,
        raw::RedisModuleEvent,
        u64,
        *mut std::ffi::c_void,
    ),
) -> bool {
    let ev = raw::RedisModuleEvent { id, dataver: 1 };
    crate::rm!(RedisModule_SubscribeToServerEvent(ctx, ev, Some(callback)))
        .is_some_and(|r| r == raw::Status::Ok as c_int)
}

/// The long-lived string `bytes` kept in `cell`, made on first use (never
/// freed; `None` if it cannot be made).
pub fn long_lived(
    cell: &std::sync::atomic::AtomicPtr<raw::RedisModuleString>,
    bytes: &[u8],
) -> Option<*mut raw::RedisModuleString> {
    use std::sync::atomic::Ordering;
    let s = cell.load(Ordering::Relaxed);
    if !s.is_null() {
        return Some(s);
    }
    let s = create_string(ptr::null_mut(), bytes);
    (!s.is_null()).then(|| {
        cell.store(s, Ordering::Relaxed);
        s
    })
}

/// Fires a keyspace event of the stream class.
pub fn notify(ctx: *mut raw::RedisModuleCtx, event: &str, key: *mut raw::RedisModuleString) {
    let ev = name_cstr(event.as_bytes());
    notify_c(ctx, &ev, key);
}

/// [`notify`] with the event name already a C string (the hot paths' `xadd`:
/// no search of the known names).
pub fn notify_c(ctx: *mut raw::RedisModuleCtx, ev: &CStr, key: *mut raw::RedisModuleString) {
    let _ = rm!(RedisModule_NotifyKeyspaceEvent(
        ctx,
        raw::REDISMODULE_NOTIFY_STREAM as c_int,
        ev.as_ptr(),
        key
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xclaim_keywords_are_the_first_words_in_order() {
        let argv = XclaimEffect {
            key: b"k",
            group: b"g",
            consumer: Cow::Borrowed(b"c"),
            id: crate::stream::StreamId::new(1, 2),
            delivery_time: 3,
            delivery_count: 4,
            last_id: crate::stream::StreamId::new(5, 6),
        }
        .argv();
        let keywords: Vec<&[u8]> = [4, 6, 8, 10, 11, 12].iter().map(|&i| &*argv[i]).collect();
        assert_eq!(keywords, WORDS[..6]);
    }
}
