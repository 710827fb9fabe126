//! Which clients may be queueing commands in a transaction (issue 13).
//!
//! The filter sees a command queued after MULTI long before it runs (at
//! EXEC, after the commands queued before it and after other clients'
//! commands), so [`crate::server::skip`] leaves nothing to the host for a
//! client that may be queueing: its decision could be stale by then.
//!
//! - Redis 7.0's filter cannot tell which client it filters. After any
//!   MULTI, every client's commands are routed ([`all`]) until the cron finds
//!   no client in a transaction (`CLIENT LIST`, flag `x`; looked at less
//!   often while transactions keep coming).
//! - Where the filter names its client (`RedisModule_CommandFilterGetClientId`:
//!   Redis 7.2+, Valkey), only the clients that sent MULTI are routed. Each
//!   stays listed until the cron finds it gone or out of its transaction
//!   (`RedisModule_GetClientInfoById`, flag MULTI, one look per listed client
//!   and tick). The cron decides, not the filter's EXEC or DISCARD: the server
//!   may refuse those (ACL, a busy script, a paused server), and the client
//!   then stays in its transaction. A MULTI the server refused is listed
//!   until the next tick, which costs its client the host's path, nothing
//!   more. Past [`MAX_CLIENTS`] listed clients, every client is routed again
//!   until `CLIENT LIST` finds no transaction.
//!
//! A client already in a transaction when the module is loaded (MODULE LOAD)
//! passed no MULTI through the filter: [`init`] asks `CLIENT LIST` once.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Mutex;

use redis_module::raw;

use crate::server::api;
use crate::server::call::{call_v, REPLY_STRING};

// The flags are read and written on the main thread only (the filter, the
// cron, INFO): relaxed, no locked instruction per MULTI.

/// Some client may be queueing.
static ANY: AtomicBool = AtomicBool::new(false);
/// Some client the filter could not name may be queueing: every client's
/// commands are routed.
static UNNAMED: AtomicBool = AtomicBool::new(false);
/// The clients that sent MULTI since the cron last found them out of a
/// transaction (when [`UNNAMED`] is off).
static CLIENTS: Mutex<Vec<u64>> = Mutex::new(Vec::new());
/// The most clients listed one by one; past it, every client is routed.
pub const MAX_CLIENTS: usize = 64;

/// The filter saw MULTI (or a command that may be MULTI) from `client` (0:
/// unknown). Called before the server runs it, so before the client can
/// queue anything.
pub fn saw_multi(client: u64) {
    ANY.store(true, Ordering::Relaxed);
    if client == 0 {
        UNNAMED.store(true, Ordering::Relaxed);
        return;
    }
    let Ok(mut list) = CLIENTS.lock() else {
        UNNAMED.store(true, Ordering::Relaxed);
        return;
    };
    if !list.contains(&client) {
        if list.len() >= MAX_CLIENTS {
            list.clear();
            UNNAMED.store(true, Ordering::Relaxed);
        } else {
            list.push(client);
        }
    }
}

/// Whether any client may be queueing.
pub fn any() -> bool {
    ANY.load(Ordering::Relaxed)
}

/// Whether every client's commands are routed (a transaction the filter
/// could not attribute), for INFO.
pub fn all() -> bool {
    UNNAMED.load(Ordering::Relaxed)
}

/// How many clients are listed one by one, for INFO.
pub fn listed() -> usize {
    CLIENTS.lock().map_or(0, |l| l.len())
}

/// Whether the client `client()` names (0: unknown) may be queueing the
/// command being filtered.
pub fn may_be_queueing(client: impl FnOnce() -> u64) -> bool {
    if !ANY.load(Ordering::Relaxed) {
        return false;
    }
    if UNNAMED.load(Ordering::Relaxed) {
        return true;
    }
    let id = client();
    id == 0 || CLIENTS.lock().map_or(true, |l| l.contains(&id))
}

/// Cron ticks to wait before the next `CLIENT LIST`, and the ticks waited.
static WAIT: AtomicU32 = AtomicU32::new(0);
static WAITED: AtomicU32 = AtomicU32::new(0);
/// The longest wait, in cron ticks (a few seconds at the default `hz`),
/// between two looks while clients stay in transactions.
const MAX_WAIT: u32 = 64;

/// One cron tick (only while [`any`]): looks at the clients that may be
/// queueing. True when none may be any more.
pub fn cron(ctx: *mut raw::RedisModuleCtx) -> bool {
    if UNNAMED.load(Ordering::Relaxed) {
        let waited = WAITED.fetch_add(1, Ordering::Relaxed) + 1;
        if waited < WAIT.load(Ordering::Relaxed) {
            return false;
        }
        WAITED.store(0, Ordering::Relaxed);
        if any_client_in_multi(ctx) != Some(false) {
            // Look less often while transactions keep coming.
            let w = WAIT.load(Ordering::Relaxed);
            WAIT.store((w * 2).clamp(1, MAX_WAIT), Ordering::Relaxed);
            return false;
        }
        // No client is queueing: nothing filtered so far runs later. (A
        // MULTI after this sets the flags before its client queues.)
        WAIT.store(0, Ordering::Relaxed);
        if let Ok(mut list) = CLIENTS.lock() {
            list.clear();
        }
        UNNAMED.store(false, Ordering::Relaxed);
        ANY.store(false, Ordering::Relaxed);
        return true;
    }
    let Ok(mut list) = CLIENTS.lock() else {
        return false;
    };
    list.retain(|&id| in_multi(id));
    if list.is_empty() {
        ANY.store(false, Ordering::Relaxed);
        return true;
    }
    false
}

/// Whether client `id` exists and is in a transaction.
fn in_multi(id: u64) -> bool {
    api::client_info(id)
        .is_some_and(|info| info.flags & u64::from(raw::REDISMODULE_CLIENTINFO_FLAG_MULTI) != 0)
}

/// Whether some client is in a transaction; `None` when CLIENT LIST fails.
fn any_client_in_multi(ctx: *mut raw::RedisModuleCtx) -> Option<bool> {
    let mut args = [api::create_string(ctx, b"LIST")];
    let reply = call_v(ctx, "CLIENT", "", &mut args);
    // (no automatic memory: the load's context is asked too)
    api::free_string(ctx, args[0]);
    let reply = reply?;
    let e = reply.elem();
    if e.kind() != REPLY_STRING {
        return None;
    }
    Some(lists_a_multi_client(e.bytes()))
}

/// Whether a CLIENT LIST text has a client with the MULTI flag (`x`).
pub fn lists_a_multi_client(text: &[u8]) -> bool {
    text.split(|&b| b == b'\n').any(|line| {
        line.windows(7)
            .position(|w| w == b" flags=")
            .and_then(|i| line.get(i + 7..))
            .is_some_and(|rest| rest.iter().take_while(|&&b| b != b' ').any(|&b| b == b'x'))
    })
}

/// At load: a client already in a transaction (the module loaded by MODULE
/// LOAD) queued without the filter seeing its MULTI.
pub fn init(ctx: *mut raw::RedisModuleCtx) {
    if any_client_in_multi(ctx) != Some(false) {
        saw_multi(0);
    }
}

#[cfg(test)]
mod tests {
    use super::lists_a_multi_client;

    #[test]
    fn client_list_flags() {
        let none = b"id=3 addr=127.0.0.1:1 laddr=x fd=8 name=flags=x age=0 idle=0 flags=N db=0 sub=0 cmd=client|list\n\
id=4 addr=127.0.0.1:2 laddr=x fd=9 name= age=0 idle=0 flags=M db=0 cmd=xadd\n";
        assert!(!lists_a_multi_client(none));
        let multi = b"id=3 addr=127.0.0.1:1 fd=8 name= age=0 idle=0 flags=N db=0\n\
id=5 addr=127.0.0.1:3 fd=10 name= age=1 idle=1 flags=x db=0 sub=0 multi=2\n";
        assert!(lists_a_multi_client(multi));
        assert!(lists_a_multi_client(
            b"id=6 addr=a fd=1 name=n flags=Mx db=0"
        ));
        assert!(!lists_a_multi_client(b""));
    }
}
