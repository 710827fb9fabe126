//! Helpers shared by the consumer-group commands: error texts, the
//! propagated forms (`streamPropagateXCLAIM`, `streamPropagateGroupID`,
//! `streamPropagateConsumerCreation`) under the module's command names, and
//! the subcommand syntax error.

use super::util::show;
use super::Effects;
use crate::stream::groups::Nack;
use crate::stream::StreamId;

/// `ERR unknown subcommand or wrong number of arguments for '<sub>'. Try <CMD> HELP.`
pub fn subcommand_syntax_error(sub: &[u8], cmd: &str) -> String {
    format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        show(sub).chars().take(128).collect::<String>(),
        cmd.to_ascii_uppercase()
    )
}

/// `NOGROUP No such key '<key>' or consumer group '<group>'` (XPENDING,
/// XCLAIM, XAUTOCLAIM).
pub fn nogroup_key_or_group(key: &[u8], group: &[u8]) -> String {
    format!(
        "NOGROUP No such key '{}' or consumer group '{}'",
        show(key),
        show(group)
    )
}

/// `NOGROUP No such consumer group '<group>' for key name '<key>'` (XGROUP,
/// XINFO CONSUMERS).
pub fn nogroup_for_key(key: &[u8], group: &[u8]) -> String {
    format!(
        "NOGROUP No such consumer group '{}' for key name '{}'",
        show(group),
        show(key)
    )
}

/// A decimal argument.
pub fn num<T: ToString>(v: T) -> Vec<u8> {
    v.to_string().into_bytes()
}

/// `XCLAIM key group consumer 0 id TIME t RETRYCOUNT n FORCE JUSTID LASTID last`
/// (`streamPropagateXCLAIM`) as `idmp.xclaim`.
pub fn propagate_xclaim(
    fx: &mut Effects<'_>,
    key: &[u8],
    group: &[u8],
    id: StreamId,
    nack: &Nack,
    last_id: StreamId,
) {
    fx.propagate([
        b"idmp.xclaim".to_vec(),
        key.to_vec(),
        group.to_vec(),
        nack.consumer().to_vec(),
        b"0".to_vec(),
        id.to_bytes(),
        b"TIME".to_vec(),
        num(nack.delivery_time),
        b"RETRYCOUNT".to_vec(),
        num(nack.delivery_count),
        b"FORCE".to_vec(),
        b"JUSTID".to_vec(),
        b"LASTID".to_vec(),
        last_id.to_bytes(),
    ]);
}

/// `XGROUP SETID key group id ENTRIESREAD n` (`streamPropagateGroupID`) as
/// `idmp.xgroup`.
pub fn propagate_group_id(
    fx: &mut Effects<'_>,
    key: &[u8],
    group: &[u8],
    last_id: StreamId,
    entries_read: i64,
) {
    fx.propagate([
        b"idmp.xgroup".to_vec(),
        b"SETID".to_vec(),
        key.to_vec(),
        group.to_vec(),
        last_id.to_bytes(),
        b"ENTRIESREAD".to_vec(),
        num(entries_read),
    ]);
}

/// `XGROUP CREATECONSUMER key group consumer`
/// (`streamPropagateConsumerCreation`) as `idmp.xgroup`.
pub fn propagate_consumer_creation(
    fx: &mut Effects<'_>,
    key: &[u8],
    group: &[u8],
    consumer: &[u8],
) {
    fx.propagate([
        b"idmp.xgroup".to_vec(),
        b"CREATECONSUMER".to_vec(),
        key.to_vec(),
        group.to_vec(),
        consumer.to_vec(),
    ]);
}

/// Milliseconds as a reply integer.
pub fn ms(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}
