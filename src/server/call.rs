//! Calling native commands from the module (forwarding, conversion) with
//! `RedisModule_Call`, and reading their replies.

use redis_module::raw;

use crate::rm;
use crate::server::api::c_string;

/// An owned call reply, freed on drop.
pub struct CallReply(pub *mut raw::RedisModuleCallReply);

impl Drop for CallReply {
    fn drop(&mut self) {
        if !self.0.is_null() {
            let _ = rm!(RedisModule_FreeCallReply(self.0));
        }
    }
}

/// Calls `cmd` with the arguments `args` (module strings) and the RM_Call
/// flags in `flags` (e.g. "!0E"); the "v" format is appended.
pub fn call_v(
    ctx: *mut raw::RedisModuleCtx,
    cmd: &str,
    flags: &str,
    args: &mut [*mut raw::RedisModuleString],
) -> Option<CallReply> {
    let c = c_string(cmd);
    let fmt = c_string(&format!("{flags}v"));
    // SAFETY: the "v" format takes an array of module strings and its length;
    // `args` are valid strings for the duration of the call.
    let r = match unsafe { raw::RedisModule_Call } {
        Some(f) => unsafe { f(ctx, c.as_ptr(), fmt.as_ptr(), args.as_mut_ptr(), args.len()) },
        None => return None,
    };
    if r.is_null() {
        None
    } else {
        Some(CallReply(r))
    }
}

/// `REDISMODULE_REPLY_INTEGER`.
pub const REPLY_INTEGER: i32 = raw::REDISMODULE_REPLY_INTEGER as i32;
/// `REDISMODULE_REPLY_STRING`.
pub const REPLY_STRING: i32 = raw::REDISMODULE_REPLY_STRING as i32;
/// `REDISMODULE_REPLY_ARRAY`.
pub const REPLY_ARRAY: i32 = raw::REDISMODULE_REPLY_ARRAY as i32;
/// `REDISMODULE_REPLY_NULL`.
pub const REPLY_NULL: i32 = raw::REDISMODULE_REPLY_NULL as i32;
/// `REDISMODULE_REPLY_MAP`.
pub const REPLY_MAP: i32 = raw::REDISMODULE_REPLY_MAP as i32;
/// `REDISMODULE_REPLY_ERROR`.
pub const REPLY_ERROR: i32 = raw::REDISMODULE_REPLY_ERROR as i32;

/// A borrowed element of a call reply; it cannot outlive the reply.
#[derive(Clone, Copy)]
pub struct Elem<'r>(
    pub *mut raw::RedisModuleCallReply,
    pub std::marker::PhantomData<&'r CallReply>,
);

impl<'r> Elem<'r> {
    /// Wraps an element pointer that belongs to a reply living for `'r`.
    pub fn new(p: *mut raw::RedisModuleCallReply) -> Self {
        Elem(p, std::marker::PhantomData)
    }
    /// The reply type (`REDISMODULE_REPLY_*`).
    pub fn kind(self) -> i32 {
        rm!(RedisModule_CallReplyType(self.0)).unwrap_or(-1)
    }
    /// Number of elements of an aggregate.
    pub fn len(self) -> usize {
        rm!(RedisModule_CallReplyLength(self.0)).unwrap_or(0)
    }
    /// True for an empty aggregate.
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }
    /// Element `i` of an array.
    pub fn at(self, i: usize) -> Option<Elem<'r>> {
        rm!(RedisModule_CallReplyArrayElement(self.0, i))
            .filter(|p| !p.is_null())
            .map(Elem::new)
    }
    /// The bytes of a string or error reply.
    pub fn bytes(self) -> &'r [u8] {
        let mut len = 0usize;
        match rm!(RedisModule_CallReplyStringPtr(self.0, &mut len)) {
            Some(p) if !p.is_null() => {
                // SAFETY: the reply owns `len` bytes at `p` while it lives, and
                // the slice's lifetime is tied to the reply's.
                unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len) }
            }
            _ => &[],
        }
    }
    /// The key/value pairs of a map reply: a RESP3 map, or the flat array of
    /// alternating keys and values RESP2 uses; empty for anything else.
    pub fn pairs(self) -> Vec<(Elem<'r>, Elem<'r>)> {
        match self.kind() {
            REPLY_MAP => (0..self.len())
                .filter_map(|i| {
                    let mut k: *mut raw::RedisModuleCallReply = std::ptr::null_mut();
                    let mut v: *mut raw::RedisModuleCallReply = std::ptr::null_mut();
                    rm!(RedisModule_CallReplyMapElement(self.0, i, &mut k, &mut v))?;
                    (!k.is_null() && !v.is_null()).then_some((Elem::new(k), Elem::new(v)))
                })
                .collect(),
            REPLY_ARRAY => (0..self.len() / 2)
                .filter_map(|i| Some((self.at(2 * i)?, self.at(2 * i + 1)?)))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The value of an integer reply.
    pub fn integer(self) -> i64 {
        rm!(RedisModule_CallReplyInteger(self.0)).unwrap_or(0)
    }
}

impl CallReply {
    /// The top-level element.
    pub fn elem(&self) -> Elem<'_> {
        Elem::new(self.0)
    }
}
