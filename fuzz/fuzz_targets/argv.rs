//! Arbitrary command lines against the parsers and the commands.
//!
//! Input: a flags byte (bit 0: the master is trusted, as the AOF loader and
//! a master link are; bit 1: RESP3; bits 2..: node limits), then lines split
//! on `\n`, arguments on ` `. A line whose first byte is below 40 names the
//! command by index (`idmp.` prefix for 20..40) and the rest are its
//! arguments; 40..64 advances the clock by 10^(b-40 mod 10) ms; anything
//! else is a literal argv.
//!
//! Each line is parsed with both a trusted and an untrusted context, run on
//! a missing key with both, and run with the master's context on the key
//! space the earlier lines built. When the master is untrusted (a real
//! master: clients' commands), what it propagates is replayed on a replica
//! (trusted, other module defaults), which must accept it and end in the
//! master's state. A trusted "master" fed arbitrary internal forms is not
//! checked that way: e.g. `XIDMPRECORD ... IDMPAT t` with `t` older than
//! iids the master reclaimed by its clock but the replica did not (IDMPAT
//! drives the replica's expiry) diverges by construction, and real
//! propagation never carries such a time. A blocked XREAD is resumed after
//! the next line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redis_idmp::commands::xread::BlockSpec;
use redis_idmp::commands::ExecCtx;
use redis_idmp::stream::idmp::IdmpSettings;
use redis_idmp::stream::NodeLimits;
use redis_idmp_fuzz::db::Db;
use redis_idmp_fuzz::ops::START_MS;
use redis_idmp_fuzz::sink::Sink;
use redis_idmp_fuzz::view::View;

const NAMES: [&str; 40] = [
    "XADD",
    "XRANGE",
    "XREVRANGE",
    "XLEN",
    "XDEL",
    "XTRIM",
    "XSETID",
    "XINFO",
    "XCFGSET",
    "XIDMPRECORD",
    "XREAD",
    "XREADGROUP",
    "XGROUP",
    "XACK",
    "XPENDING",
    "XCLAIM",
    "XAUTOCLAIM",
    "XDELEX",
    "XACKDEL",
    "idmpcounters",
    "idmp.xadd",
    "idmp.xrange",
    "idmp.xrevrange",
    "idmp.xlen",
    "idmp.xdel",
    "idmp.xtrim",
    "idmp.xsetid",
    "idmp.xinfo",
    "idmp.xcfgset",
    "idmp.xidmprecord",
    "idmp.xread",
    "idmp.xreadgroup",
    "idmp.xgroup",
    "idmp.xack",
    "idmp.xpending",
    "idmp.xclaim",
    "idmp.xautoclaim",
    "idmp.xdelex",
    "idmp.xackdel",
    "idmp.idmpcounters",
];

const LIMITS: [NodeLimits; 8] = [
    NodeLimits {
        max_bytes: 4096,
        max_entries: 100,
    },
    NodeLimits {
        max_bytes: 4096,
        max_entries: 1,
    },
    NodeLimits {
        max_bytes: 4096,
        max_entries: 2,
    },
    NodeLimits {
        max_bytes: 4096,
        max_entries: 3,
    },
    NodeLimits {
        max_bytes: 0,
        max_entries: 0,
    },
    NodeLimits {
        max_bytes: 64,
        max_entries: 0,
    },
    NodeLimits {
        max_bytes: 1,
        max_entries: 5,
    },
    NodeLimits {
        max_bytes: 4096,
        max_entries: 100,
    },
];

/// The replica's module defaults differ from the master's: a created
/// stream's settings must travel with the propagation.
const REPLICA_DEFAULTS: IdmpSettings = IdmpSettings {
    duration_secs: 33,
    maxsize: 2,
};

fn replicate(replica: &mut Db, cmds: &[Vec<Vec<u8>>], ctx: &ExecCtx) {
    if ctx.trusted {
        return;
    }
    let rc = ExecCtx {
        trusted: true,
        defaults: REPLICA_DEFAULTS,
        ..*ctx
    };
    for argv in cmds {
        let refs: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
        let mut sink = Sink::new(false);
        replica.run(&refs, &rc, &mut sink, None);
        assert_eq!(sink.errors, 0, "the replica refused {argv:?}");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let trusted = flags & 1 != 0;
    let resp3 = flags & 2 != 0;
    let limits = LIMITS[usize::from(flags >> 2) % LIMITS.len()];
    let mut now = START_MS;
    let mut master = Db::default();
    let mut replica = Db::default();
    let mut blocked: Option<(Vec<&[u8]>, BlockSpec)> = None;
    for line in rest.split(|&b| b == b'\n') {
        let Some((&head, body)) = line.split_first() else {
            continue;
        };
        let mut argv: Vec<&[u8]> = Vec::new();
        match head {
            0..=39 => {
                argv.push(NAMES[usize::from(head)].as_bytes());
                argv.extend(body.split(|&b| b == b' '));
            }
            40..=63 => {
                now += 10u64.pow(u32::from(head - 40) % 10);
                continue;
            }
            _ => argv.extend(line.split(|&b| b == b' ')),
        }
        now += 1;
        let ctx = ExecCtx {
            now_ms: now,
            limits,
            trusted,
            defaults: IdmpSettings::default(),
        };
        // Both contexts on a missing key.
        for trusted in [false, true] {
            let c = ExecCtx { trusted, ..ctx };
            Db::default().run(&argv, &c, &mut Sink::new(resp3), None);
        }
        // The master's context on the key space so far.
        let ran = master.run(&argv, &ctx, &mut Sink::new(resp3), None);
        replicate(&mut replica, &ran.replicate, &ctx);
        if let Some((bargv, spec)) = blocked.take() {
            let again = master.run(&bargv, &ctx, &mut Sink::new(resp3), Some(&spec));
            replicate(&mut replica, &again.replicate, &ctx);
            if let Some(spec) = again.block {
                blocked = Some((bargv, spec));
            }
        }
        if let Some(spec) = ran.block {
            blocked = Some((argv, spec));
        }
    }
    if trusted {
        return;
    }
    master.expire(now);
    replica.expire(now);
    let keys = |db: &Db| db.keys.keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&master), keys(&replica), "keys on the replica");
    for (k, m) in &master.keys {
        if let Some(r) = replica.keys.get(k) {
            assert_eq!(
                View::of(m).without_consumer_times(),
                View::of(r).without_consumer_times(),
                "the replica's stream {k:?}"
            );
        }
    }
});
