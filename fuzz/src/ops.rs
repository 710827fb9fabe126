//! A compact encoding of commands that mostly succeed, for the structured
//! targets: each op is a byte choosing a command template, then bytes for
//! its parameters (missing bytes read as 0). Keys `s` and `t`, a few pids,
//! iids, groups and consumers, and IDs near the clock so that explicit IDs
//! meet the ones `*` generated.

/// The clock at the start of a run (ms).
pub const START_MS: u64 = 1_000_000;

/// One step of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// Run this argv.
    Cmd(Vec<Vec<u8>>),
    /// Advance the clock by this many ms.
    Tick(u64),
}

struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn next(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }
    fn pick<'s>(&mut self, from: &[&'s str]) -> &'s str {
        let i = usize::from(self.next()) % from.len().max(1);
        from.get(i).copied().unwrap_or_default()
    }
    /// An ID a little above or below the start of the clock.
    fn id(&mut self) -> String {
        let b = self.next();
        match b {
            0 => "0-0".to_string(),
            1 => "0".to_string(),
            255 => "18446744073709551615-18446744073709551615".to_string(),
            _ => format!("{}-{}", START_MS - 8 + u64::from(b / 4), b % 4),
        }
    }
}

const KEYS: &[&str] = &["s", "s", "s", "t"];
const PIDS: &[&str] = &["p", "q", "r"];
const IIDS: &[&str] = &["a", "b", "c", "d", "e"];
const GROUPS: &[&str] = &["g", "h"];
const CONSUMERS: &[&str] = &["c", "d", "e"];
const POLICY: &[&str] = &["", " KEEPREF", " DELREF", " ACKED"];
const CLAIM_OPTS: &[&str] = &[
    "",
    " FORCE",
    " JUSTID",
    " RETRYCOUNT 5",
    " IDLE 3",
    " TIME 500",
    " LASTID 1000010-0",
    " FORCE JUSTID",
];

/// Decodes `data` into ops; every input decodes.
pub fn decode(data: &[u8]) -> Vec<Op> {
    let mut b = Bytes(data);
    let mut ops = Vec::new();
    while !b.0.is_empty() {
        let op = b.next();
        let line = match op % 26 {
            0 | 1 => {
                let k = b.pick(KEYS);
                let n = 1 + b.next() % 3;
                let fields: Vec<String> = (0..n).map(|i| format!("f{i} v{}", b.next())).collect();
                format!("XADD {k} * {}", fields.join(" "))
            }
            2 => format!("XADD s IDMP {} {} * f v", b.pick(PIDS), b.pick(IIDS)),
            3 => format!("XADD s IDMPAUTO {} * f {}", b.pick(PIDS), b.next() % 4),
            4 => format!("XADD s MAXLEN ~ {} * f v", b.next() % 8),
            5 => format!("XADD s MINID {} * f v", b.id()),
            6 => format!(
                "XTRIM s MAXLEN{} {}{}{}",
                if b.next() % 2 == 0 { " ~" } else { "" },
                b.next() % 8,
                if b.next() % 2 == 0 { " LIMIT 2" } else { "" },
                b.pick(POLICY)
            ),
            7 => format!("XTRIM s MINID ~ {}{}", b.id(), b.pick(POLICY)),
            8 => format!("XDEL s {} {}", b.id(), b.id()),
            9 => format!(
                "XCFGSET s IDMP-DURATION {} IDMP-MAXSIZE {}",
                1 + u32::from(b.next()) * 3,
                1 + b.next() % 6
            ),
            10 => format!("XIDMPRECORD s {} {} {}", b.pick(PIDS), b.pick(IIDS), b.id()),
            11 => format!(
                "XSETID s {} ENTRIESADDED {} MAXDELETEDID {}",
                b.id(),
                b.next(),
                b.id()
            ),
            12 => format!(
                "XGROUP CREATE {} {} {} MKSTREAM ENTRIESREAD {}",
                b.pick(KEYS),
                b.pick(GROUPS),
                b.pick(&["0", "$", "1000000-0"]),
                i32::from(b.next()) - 2
            ),
            13 => format!("XGROUP SETID s {} {}", b.pick(GROUPS), b.id()),
            14 => format!(
                "XGROUP CREATECONSUMER s {} {}",
                b.pick(GROUPS),
                b.pick(CONSUMERS)
            ),
            15 => format!(
                "XGROUP DELCONSUMER s {} {}",
                b.pick(GROUPS),
                b.pick(CONSUMERS)
            ),
            16 => format!("XGROUP DESTROY s {}", b.pick(GROUPS)),
            17 | 18 => format!(
                "XREADGROUP GROUP {} {} COUNT {}{} STREAMS s {}",
                b.pick(GROUPS),
                b.pick(CONSUMERS),
                b.next() % 4,
                if b.next() % 3 == 0 { " NOACK" } else { "" },
                b.pick(&[">", ">", "0", "1000002-1"])
            ),
            19 => format!("XACK s {} {} {}", b.pick(GROUPS), b.id(), b.id()),
            20 => format!(
                "XCLAIM s {} {} {} {} {}{}",
                b.pick(GROUPS),
                b.pick(CONSUMERS),
                b.next() % 30,
                b.id(),
                b.id(),
                b.pick(CLAIM_OPTS)
            ),
            21 => format!(
                "XAUTOCLAIM s {} {} {} {} COUNT {}{}",
                b.pick(GROUPS),
                b.pick(CONSUMERS),
                b.next() % 30,
                b.id(),
                1 + b.next() % 4,
                if b.next() % 2 == 0 { " JUSTID" } else { "" }
            ),
            22 => format!("XDELEX s{} IDS 2 {} {}", b.pick(POLICY), b.id(), b.id()),
            23 => format!(
                "XACKDEL s {}{} IDS 1 {}",
                b.pick(GROUPS),
                b.pick(POLICY),
                b.id()
            ),
            24 => format!(
                "XREADGROUP GROUP {} {} COUNT {} CLAIM {} STREAMS s >",
                b.pick(GROUPS),
                b.pick(CONSUMERS),
                b.next() % 3,
                b.next() % 30
            ),
            _ => {
                // 10^(0..=8) ms: from the next ms to past every IDMP duration.
                ops.push(Op::Tick(10u64.pow(u32::from(b.next() % 9))));
                continue;
            }
        };
        ops.push(Op::Cmd(
            line.split(' ').map(|w| w.as_bytes().to_vec()).collect(),
        ));
    }
    ops
}
