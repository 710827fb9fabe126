//! The "getkeys-api" of `idmp.xread` and `idmp.xreadgroup`.
//!
//! Redis 7.0 routes a module command in cluster mode (`-MOVED`, `-ASK`,
//! `CROSSSLOT`) by its legacy (first, last, step) key range or, for a command
//! registered with "getkeys-api", by asking the command itself; keyword key
//! specs (SetCommandInfo) serve ACL and COMMAND only. The keys of XREAD and
//! XREADGROUP follow the STREAMS keyword, so without this the cluster would
//! see no key at all: a read of a key served elsewhere would run locally and
//! keys in different slots would not answer CROSSSLOT.

use std::ffi::c_int;

use redis_module::raw;

use crate::rm;
use crate::server::api;

/// Whether the server called the command only to learn its key positions.
pub fn is_request(ctx: *mut raw::RedisModuleCtx) -> bool {
    rm!(RedisModule_IsKeysPositionRequest(ctx)).is_some_and(|r| r != 0)
}

/// Reports the stream keys of an XREAD/XREADGROUP argv (read-only access,
/// as the native key spec declares them).
pub fn report_stream_keys(ctx: *mut raw::RedisModuleCtx, args: &[*mut raw::RedisModuleString]) {
    let argv: Vec<&[u8]> = args.iter().map(|&a| api::str_bytes(a)).collect();
    let flags = (raw::REDISMODULE_CMD_KEY_RO | raw::REDISMODULE_CMD_KEY_ACCESS) as c_int;
    for pos in stream_key_positions(&argv) {
        let pos = c_int::try_from(pos).unwrap_or(0);
        if rm!(RedisModule_KeyAtPosWithFlags(ctx, pos, flags)).is_none() {
            let _ = rm!(RedisModule_KeyAtPos(ctx, pos));
        }
    }
}

/// Key positions of an XREAD/XREADGROUP argv (`argv[0]` is the command),
/// ported from the native `xreadGetKeys` (t_stream.c): skip the options up
/// to STREAMS, then the first half of the remaining arguments; nothing on a
/// syntax error (the command reports it).
pub fn stream_key_positions(argv: &[&[u8]]) -> std::ops::Range<usize> {
    let mut streams_pos = None;
    let mut i = 1;
    while let Some(arg) = argv.get(i) {
        if arg.eq_ignore_ascii_case(b"block") || arg.eq_ignore_ascii_case(b"count") {
            i += 2;
        } else if arg.eq_ignore_ascii_case(b"group") {
            i += 3;
        } else if arg.eq_ignore_ascii_case(b"noack") {
            i += 1;
        } else {
            if arg.eq_ignore_ascii_case(b"streams") {
                streams_pos = Some(i);
            }
            break;
        }
    }
    let Some(sp) = streams_pos else { return 0..0 };
    let num = argv.len() - sp - 1;
    if num == 0 || num % 2 != 0 {
        return 0..0;
    }
    sp + 1..sp + 1 + num / 2
}
