//! Helpers shared by the consumer-group commands: error texts, the
//! propagated forms (`streamPropagateXCLAIM`, `streamPropagateGroupID`,
//! `streamPropagateConsumerCreation`) under the module's command names, and
//! the subcommand syntax error.

use std::borrow::Cow;

use super::util::show;
use super::{Effects, Propagation, ReplArgv};
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
/// (`streamPropagateXCLAIM`) as `idmp.xclaim`: what a group read or claim
/// propagates for each entry it delivers (or drops from the PEL), as
/// values. The key, group and consumer are borrowed (the glue passes the
/// client's own strings on).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XclaimEffect<'a> {
    /// The stream's key.
    pub key: &'a [u8],
    /// The group's name.
    pub group: &'a [u8],
    /// The consumer the entry is now delivered to: the command's own
    /// argument, or (for an entry whose stream entry is gone) the PEL
    /// entry's.
    pub consumer: Cow<'a, [u8]>,
    /// The entry's ID.
    pub id: StreamId,
    /// `TIME`: the delivery time, ms.
    pub delivery_time: u64,
    /// `RETRYCOUNT`: the delivery count.
    pub delivery_count: u64,
    /// `LASTID`: the group's last-delivered ID (for a read, from before
    /// the read, as 8.6.3 sends it).
    pub last_id: StreamId,
}

impl<'a> XclaimEffect<'a> {
    /// The command's argument vector, `[0]` its name `idmp.xclaim`.
    pub fn argv(&self) -> ReplArgv<'a> {
        vec![
            Cow::Borrowed(b"idmp.xclaim"),
            Cow::Borrowed(self.key),
            Cow::Borrowed(self.group),
            self.consumer.clone(),
            Cow::Borrowed(b"0"),
            Cow::Owned(self.id.to_bytes()),
            Cow::Borrowed(b"TIME"),
            Cow::Owned(num(self.delivery_time)),
            Cow::Borrowed(b"RETRYCOUNT"),
            Cow::Owned(num(self.delivery_count)),
            Cow::Borrowed(b"FORCE"),
            Cow::Borrowed(b"JUSTID"),
            Cow::Borrowed(b"LASTID"),
            Cow::Owned(self.last_id.to_bytes()),
        ]
    }
}

/// Queues the [`XclaimEffect`] of `nack` (entry `id`) for propagation.
/// `consumer` is the command's own consumer argument, borrowed when the
/// PEL entry names it (every delivery and claim), copied otherwise.
pub fn propagate_xclaim<'a>(
    fx: &mut Effects<'a>,
    key: &'a [u8],
    group: &'a [u8],
    consumer: &'a [u8],
    id: StreamId,
    nack: &Nack,
    last_id: StreamId,
) {
    let consumer = if nack.consumer() == consumer {
        Cow::Borrowed(consumer)
    } else {
        Cow::Owned(nack.consumer().to_vec())
    };
    fx.replicate.push(Propagation::Xclaim(XclaimEffect {
        key,
        group,
        consumer,
        id,
        delivery_time: nack.delivery_time,
        delivery_count: nack.delivery_count,
        last_id,
    }));
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
    fx.push_argv(vec![
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
    fx.push_argv(vec![
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
