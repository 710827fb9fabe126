//! The `idmp-strm` data type: its callbacks for RDB, AOF rewrite, memory,
//! digest, copy, unlink and free. Every callback runs inside [`guard`] so that a panic
//! never unwinds into the server.

use std::ffi::{c_char, c_int, c_void};
use std::ptr;

use redis_module::native_types::RedisType;
use redis_module::raw;

use crate::persist::{aof, native_aof, rdb};
use crate::rm;
use crate::server::api::{c_string, create_string, str_bytes};
use crate::server::guard::guard;
use crate::server::{limits, nameidx, stats, wake};
use crate::stream::{Stream, StreamId};

/// The type name, written into RDB files: fixed forever.
pub const TYPE_NAME: &str = "idmp-strm";

/// The data type registered with the server.
pub static IDMP_TYPE: RedisType = RedisType::new(
    TYPE_NAME,
    rdb::ENCODING_VERSION,
    raw::RedisModuleTypeMethods {
        version: raw::REDISMODULE_TYPE_METHOD_VERSION as u64,
        rdb_load: Some(rdb_load),
        rdb_save: Some(rdb_save),
        aof_rewrite: Some(aof_rewrite),
        mem_usage: Some(mem_usage),
        digest: Some(digest),
        free: Some(free),
        aux_load: None,
        aux_save: None,
        aux_save_triggers: 0,
        free_effort: None,
        unlink: None,
        copy: Some(copy),
        // (A defrag callback would move values: the name index knows them
        // by address, see nameidx.rs.)
        defrag: None,
        mem_usage2: None,
        free_effort2: None,
        unlink2: Some(unlink2),
        copy2: None,
        aux_save2: None,
    },
);

/// The registered type pointer (null before registration).
pub fn raw_type() -> *mut raw::RedisModuleType {
    *IDMP_TYPE.raw_type.borrow()
}

/// Writes RDB values through the module API.
struct IoWriter(*mut raw::RedisModuleIO);

impl rdb::RdbWrite for IoWriter {
    fn write_u64(&mut self, v: u64) {
        let _ = rm!(RedisModule_SaveUnsigned(self.0, v));
    }
    fn write_bytes(&mut self, b: &[u8]) {
        let _ = rm!(RedisModule_SaveStringBuffer(
            self.0,
            b.as_ptr().cast::<c_char>(),
            b.len()
        ));
    }
}

/// Reads RDB values through the module API, turning IO errors into errors.
struct IoReader(*mut raw::RedisModuleIO);

impl IoReader {
    fn io_error(&self) -> bool {
        rm!(RedisModule_IsIOError(self.0)).unwrap_or(1) != 0
    }
}

impl rdb::RdbRead for IoReader {
    fn read_u64(&mut self) -> Result<u64, rdb::CodecError> {
        let v = rm!(RedisModule_LoadUnsigned(self.0)).unwrap_or(0);
        if self.io_error() {
            return Err(rdb::CodecError::new("truncated or unreadable payload"));
        }
        Ok(v)
    }
    fn read_bytes(&mut self) -> Result<Vec<u8>, rdb::CodecError> {
        let mut len: usize = 0;
        let p = rm!(RedisModule_LoadStringBuffer(self.0, &mut len)).unwrap_or(ptr::null_mut());
        if self.io_error() || p.is_null() {
            return Err(rdb::CodecError::new("truncated or unreadable payload"));
        }
        // SAFETY: the server returned a buffer of `len` bytes that we own and
        // must release with RedisModule_Free after copying.
        let out = unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len) }.to_vec();
        let _ = rm!(RedisModule_Free(p.cast::<c_void>()));
        Ok(out)
    }
}

fn log_io(io: *mut raw::RedisModuleIO, msg: &str) {
    let lvl = c_string("warning");
    let fmt = c_string("%s");
    let m = c_string(msg);
    let _ = rm!(RedisModule_LogIOError(
        io,
        lvl.as_ptr(),
        fmt.as_ptr(),
        m.as_ptr()
    ));
}

extern "C" fn rdb_load(io: *mut raw::RedisModuleIO, encver: c_int) -> *mut c_void {
    guard(ptr::null_mut(), || {
        let mut r = IoReader(io);
        match rdb::load_stream(&mut r, encver, limits::node_limits()) {
            Ok(s) => {
                stats::stream_added(&s);
                let value = Box::into_raw(Box::new(s)).cast::<c_void>();
                // RDB, RESTORE, DEBUG RELOAD, replica sync: the key's name
                // (none for another module's LoadDataTypeFromString).
                let name = rm!(RedisModule_GetKeyNameFromIO(io)).unwrap_or(ptr::null());
                let name = (!name.is_null()).then(|| str_bytes(name.cast_mut()));
                nameidx::bind(value, name);
                value
            }
            Err(e) => {
                log_io(io, &format!("idmp: cannot load an idmp-strm value: {e}"));
                ptr::null_mut()
            }
        }
    })
}

/// Borrows the stream behind a type callback's value pointer.
fn stream_ref<'a>(value: *const c_void) -> Option<&'a Stream> {
    // SAFETY: every value of this type was created by Box::into_raw of a
    // Stream in this module and stays valid until `free`.
    unsafe { value.cast::<Stream>().as_ref() }
}

extern "C" fn rdb_save(io: *mut raw::RedisModuleIO, value: *mut c_void) {
    guard((), || {
        if let Some(s) = stream_ref(value) {
            rdb::save_stream(s, &mut IoWriter(io));
        }
    })
}

extern "C" fn aof_rewrite(
    aof: *mut raw::RedisModuleIO,
    key: *mut raw::RedisModuleString,
    value: *mut c_void,
) {
    guard((), || {
        let Some(s) = stream_ref(value) else { return };
        let keyname = str_bytes(key);
        let now = crate::server::api::now_ms();
        let native = crate::server::migrate::active()
            || crate::server::config::AOF_NATIVE.load(std::sync::atomic::Ordering::Relaxed);
        let mut emit = |argv: Vec<Vec<u8>>| -> Result<(), std::convert::Infallible> {
            emit_aof(aof, &argv);
            Ok(())
        };
        if native {
            let host = crate::server::host::host();
            let form = if host.native_xdelex && !host.native_idmp {
                native_aof::Form::AofHostXdelex
            } else {
                native_aof::Form::Aof
            };
            let _ = native_aof::for_each_native_command(keyname, s, Some(now), form, &mut emit);
        } else {
            for argv in aof::rewrite_commands_at(keyname, s, now) {
                emit_aof(aof, &argv);
            }
        }
    })
}

/// Writes one command to the AOF being rewritten.
fn emit_aof(aof: *mut raw::RedisModuleIO, argv: &[Vec<u8>]) {
    let Some((name, rest)) = argv.split_first() else {
        return;
    };
    let fmt = c_string("v");
    let cname = c_string(&String::from_utf8_lossy(name));
    let mut strs: Vec<*mut raw::RedisModuleString> = rest
        .iter()
        .map(|a| create_string(ptr::null_mut(), a))
        .collect();
    // SAFETY: EmitAOF with "v" takes an array of strings and its length;
    // the strings are ours and freed right after.
    if let Some(f) = unsafe { raw::RedisModule_EmitAOF } {
        unsafe {
            f(
                aof,
                cname.as_ptr(),
                fmt.as_ptr(),
                strs.as_mut_ptr(),
                strs.len(),
            )
        };
    }
    for s in strs {
        crate::server::api::free_string(ptr::null_mut(), s);
    }
}

extern "C" fn mem_usage(value: *const c_void) -> usize {
    guard(0, || {
        stream_ref(value).map_or(0, |s| {
            std::mem::size_of::<Stream>() + s.store.mem_usage() + s.idmp.mem_usage()
        })
    })
}

extern "C" fn free(value: *mut c_void) {
    guard((), || {
        if !value.is_null() {
            // Before the memory can be reused by another value.
            nameidx::unbind(value);
            // SAFETY: the value came from Box::into_raw(Box<Stream>) and the
            // server calls free exactly once.
            let s = unsafe { Box::from_raw(value.cast::<Stream>()) };
            stats::stream_removed(&s);
        }
    })
}

/// The value leaves its key (deleted, overwritten, or moved by RENAME or
/// MOVE): the name index learns where it goes (nameidx.rs), and readers
/// blocked on the key may be woken (wake.rs).
extern "C" fn unlink2(ctx: *mut raw::RedisModuleKeyOptCtx, value: *const c_void) {
    guard((), || {
        if value.is_null() {
            return;
        }
        let name = rm!(RedisModule_GetKeyNameFromOptCtx(ctx)).unwrap_or(ptr::null());
        let name = (!name.is_null()).then(|| str_bytes(name.cast_mut()));
        nameidx::unlinked(value, name);
        // A reader blocked on the key may have to be woken (Redis 7.0).
        if let Some(n) = name {
            wake::unlinked(rm!(RedisModule_GetDbIdFromOptCtx(ctx)).unwrap_or(0), n);
        }
    })
}

extern "C" fn copy(
    _from: *mut raw::RedisModuleString,
    to: *mut raw::RedisModuleString,
    value: *const c_void,
) -> *mut c_void {
    guard(ptr::null_mut(), || match stream_ref(value) {
        Some(s) => {
            stats::stream_added(s);
            let copy = Box::into_raw(Box::new(s.clone())).cast::<c_void>();
            // COPY: the destination's name.
            nameidx::bind(copy, (!to.is_null()).then(|| str_bytes(to)));
            copy
        }
        None => ptr::null_mut(),
    })
}

struct Digest(*mut raw::RedisModuleDigest);

impl Digest {
    fn bytes(&mut self, b: &[u8]) {
        let _ = rm!(RedisModule_DigestAddStringBuffer(
            self.0,
            b.as_ptr().cast::<c_char>(),
            b.len()
        ));
    }
    fn int(&mut self, v: u64) {
        let _ = rm!(RedisModule_DigestAddLongLong(self.0, v as i64));
    }
    fn id(&mut self, id: StreamId) {
        self.int(id.ms);
        self.int(id.seq);
    }
    fn end(&mut self) {
        let _ = rm!(RedisModule_DigestEndSequence(self.0));
    }
}

extern "C" fn digest(md: *mut raw::RedisModuleDigest, value: *mut c_void) {
    guard((), || {
        let Some(s) = stream_ref(value) else { return };
        let mut d = Digest(md);
        for e in s.store.range(StreamId::MIN, StreamId::MAX) {
            d.id(e.id());
            for (f, v) in e.fields() {
                d.bytes(f);
                d.bytes(v);
            }
            d.end();
        }
        d.id(s.last_id);
        d.id(s.max_deleted_id);
        d.id(s.first_id);
        d.int(s.entries_added);
        d.end();
        let st = s.idmp.settings();
        d.int(u64::from(st.duration_secs));
        d.int(u64::from(st.maxsize));
        d.int(s.idmp.iids_added);
        d.int(s.idmp.iids_duplicates);
        d.end();
        // Insertion times are left out (an AOF rewrite replays XIDMPRECORD at
        // load time, and the digest must match the original key), and so are
        // iids already expired but not yet reclaimed, whose reclamation time
        // differs between a master and its replicas.
        let now = crate::server::api::now_ms();
        for (pid, iids) in s.idmp.producers() {
            let mut live = iids
                .filter(|&(_, _, time)| !s.idmp.expired_at(time, now))
                .peekable();
            if live.peek().is_none() {
                continue;
            }
            d.bytes(pid);
            for (iid, id, _time) in live {
                d.bytes(iid);
                d.id(id);
            }
            d.end();
        }
        // Consumer groups: what replication carries exactly (not the
        // consumers' seen/active times, which are each server's own).
        for (name, g) in s.groups.iter() {
            d.bytes(name);
            d.id(g.last_id);
            d.int(g.entries_read as u64);
            for (id, n) in g.pel() {
                d.id(id);
                d.bytes(n.consumer());
                d.int(n.delivery_time);
                d.int(n.delivery_count);
            }
            for c in g.consumers() {
                d.bytes(c.name());
            }
            d.end();
        }
    })
}
