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
    if num == 0 || !num.is_multiple_of(2) {
        return 0..0;
    }
    sp + 1..sp + 1 + num / 2
}

#[cfg(test)]
mod tests {
    use super::stream_key_positions;

    fn pos(cmd: &str) -> std::ops::Range<usize> {
        let argv: Vec<&[u8]> = cmd.split(' ').map(str::as_bytes).collect();
        stream_key_positions(&argv)
    }

    #[test]
    fn keys_follow_the_streams_keyword() {
        assert_eq!(pos("XREAD STREAMS a 0"), 2..3);
        assert_eq!(pos("XREAD COUNT 1 BLOCK 0 streams a b 0 0"), 6..8);
        assert_eq!(pos("XREADGROUP GROUP g c NOACK STREAMS a >"), 6..7);
        // "streams" as group, consumer or option value is skipped over.
        assert_eq!(
            pos("XREADGROUP GROUP streams STREAMS COUNT 1 STREAMS a b > >"),
            7..9
        );
        assert_eq!(pos("XREAD BLOCK streams STREAMS streams 0"), 4..5);
    }

    #[test]
    fn syntax_errors_have_no_keys() {
        assert_eq!(pos("XREAD STREAMS a b 0"), 0..0);
        assert_eq!(pos("XREAD STREAMS"), 0..0);
        assert_eq!(pos("XREAD FOO STREAMS a 0"), 0..0);
        assert_eq!(pos("XREAD COUNT"), 0..0);
        assert_eq!(pos("XREADGROUP GROUP g"), 0..0);
    }
}
