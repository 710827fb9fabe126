//! Helpers shared by the consumer-group commands: error texts, the
//! propagated forms (`streamPropagateXCLAIM`, `streamPropagateGroupID`,
//! `streamPropagateConsumerCreation`) under the module's command names, and
//! the subcommand syntax error.

use std::borrow::Cow;

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
/// (`streamPropagateXCLAIM`) as `idmp.xclaim`. The key and group are
/// borrowed (the glue passes the client's own strings on), the keywords are
/// static.
pub fn propagate_xclaim<'a>(
    fx: &mut Effects<'a>,
    key: &'a [u8],
    group: &'a [u8],
    id: StreamId,
    nack: &Nack,
    last_id: StreamId,
) {
    fx.replicate.push(vec![
        Cow::Borrowed(b"idmp.xclaim"),
        Cow::Borrowed(key),
        Cow::Borrowed(group),
        Cow::Owned(nack.consumer().to_vec()),
        Cow::Borrowed(b"0"),
        Cow::Owned(id.to_bytes()),
        Cow::Borrowed(b"TIME"),
        Cow::Owned(num(nack.delivery_time)),
        Cow::Borrowed(b"RETRYCOUNT"),
        Cow::Owned(num(nack.delivery_count)),
        Cow::Borrowed(b"FORCE"),
        Cow::Borrowed(b"JUSTID"),
        Cow::Borrowed(b"LASTID"),
        Cow::Owned(last_id.to_bytes()),
    ]);
}

/// `XGROUP SETID key group id ENTRIESREAD n` (`streamPropagateGroupID`) as
/// `idmp.xgroup`.
pub fn propagate_group_id<'a>(
    fx: &mut Effects<'a>,
    key: &'a [u8],
    group: &'a [u8],
    last_id: StreamId,
    entries_read: i64,
) {
    fx.replicate.push(vec![
        Cow::Borrowed(b"idmp.xgroup"),
        Cow::Borrowed(b"SETID"),
        Cow::Borrowed(key),
        Cow::Borrowed(group),
        Cow::Owned(last_id.to_bytes()),
        Cow::Borrowed(b"ENTRIESREAD"),
        Cow::Owned(num(entries_read)),
    ]);
}

/// `XGROUP CREATECONSUMER key group consumer`
/// (`streamPropagateConsumerCreation`) as `idmp.xgroup`.
pub fn propagate_consumer_creation<'a>(
    fx: &mut Effects<'a>,
    key: &'a [u8],
    group: &'a [u8],
    consumer: &'a [u8],
) {
    fx.replicate.push(vec![
        Cow::Borrowed(b"idmp.xgroup"),
        Cow::Borrowed(b"CREATECONSUMER"),
        Cow::Borrowed(key),
        Cow::Borrowed(group),
        Cow::Borrowed(consumer),
    ]);
}

/// Milliseconds as a reply integer.
pub fn ms(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}
