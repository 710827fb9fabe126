//! The [`Reply`] sink over the module API: replies go straight into the
//! client's reply buffer.

use std::ffi::{c_char, c_long};

use redis_module::raw;

use crate::commands::reply::Reply;
use crate::rm;
use crate::server::api::{c_string, ctx_flags};

/// Replies to the client of `ctx`.
pub struct ModuleReply {
    ctx: *mut raw::RedisModuleCtx,
    /// The client's protocol, asked for on first use (most replies never
    /// need it, and the context flags cost a few hundred instructions).
    resp3: std::cell::Cell<Option<bool>>,
}

impl ModuleReply {
    /// A sink for the client of `ctx`.
    pub fn new(ctx: *mut raw::RedisModuleCtx) -> Self {
        ModuleReply {
            ctx,
            resp3: std::cell::Cell::new(None),
        }
    }
}

/// Simple-string replies the commands give, as C strings (no allocation).
const SIMPLE: &[&std::ffi::CStr] = &[c"OK", c"stream"];

impl Reply for ModuleReply {
    fn array(&mut self, len: usize) {
        let _ = rm!(RedisModule_ReplyWithArray(self.ctx, len as c_long));
    }
    fn map(&mut self, len: usize) {
        if rm!(RedisModule_ReplyWithMap(self.ctx, len as c_long)).is_none() {
            let _ = rm!(RedisModule_ReplyWithArray(self.ctx, (2 * len) as c_long));
        }
    }
    fn bulk(&mut self, b: &[u8]) {
        let _ = rm!(RedisModule_ReplyWithStringBuffer(
            self.ctx,
            b.as_ptr().cast::<c_char>(),
            b.len()
        ));
    }
    fn simple(&mut self, s: &str) {
        if let Some(c) = SIMPLE.iter().find(|c| c.to_bytes() == s.as_bytes()) {
            let _ = rm!(RedisModule_ReplyWithSimpleString(self.ctx, c.as_ptr()));
            return;
        }
        let c = c_string(s);
        let _ = rm!(RedisModule_ReplyWithSimpleString(self.ctx, c.as_ptr()));
    }
    fn error(&mut self, msg: &str) {
        let c = c_string(msg);
        let _ = rm!(RedisModule_ReplyWithError(self.ctx, c.as_ptr()));
    }
    fn int(&mut self, v: i64) {
        let _ = rm!(RedisModule_ReplyWithLongLong(self.ctx, v));
    }
    fn null(&mut self) {
        let _ = rm!(RedisModule_ReplyWithNull(self.ctx));
    }
    fn null_array(&mut self) {
        let _ = rm!(RedisModule_ReplyWithNullArray(self.ctx));
    }
    fn is_resp3(&self) -> bool {
        match self.resp3.get() {
            Some(v) => v,
            None => {
                let v = ctx_flags(self.ctx) & raw::REDISMODULE_CTX_FLAGS_RESP3 != 0;
                self.resp3.set(Some(v));
                v
            }
        }
    }
}
