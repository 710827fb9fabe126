//! Randomised differential test of the commands layer against a native Redis
//! 7.0 server: the same random XADD / XDEL / XTRIM / XSETID / XRANGE /
//! XREVRANGE / XLEN / XINFO STREAM sequence runs on a native stream and
//! through [`parse`] + [`Request::exec`]; the raw RESP replies must be equal
//! byte for byte (XINFO STREAM: the six IDMP fields removed and
//! `radix-tree-nodes`, which has no exact analogue, masked). Needs a server,
//! so it is ignored by default:
//!
//! ```text
//! redis-server --port 7300 --bind 127.0.0.1 --save '' --appendonly no &
//! CMDS_ORACLE_PORT=7300 cargo test --no-default-features commands::native_diff -- --ignored
//! ```

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;

use super::testkit::{ctx, Resp};
use super::{parse, Request};
use crate::stream::stream::Stream;

struct Conn {
    r: BufReader<TcpStream>,
    w: TcpStream,
}

impl Conn {
    fn new(port: u16) -> Conn {
        let w = TcpStream::connect(("127.0.0.1", port)).unwrap();
        Conn {
            r: BufReader::new(w.try_clone().unwrap()),
            w,
        }
    }

    fn cmd(&mut self, args: &[Vec<u8>]) -> String {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
        self.w.write_all(&out).unwrap();
        let mut s = Vec::new();
        self.read(&mut s);
        String::from_utf8_lossy(&s).into_owned()
    }

    fn read(&mut self, out: &mut Vec<u8>) {
        let mut l = vec![];
        self.r.read_until(b'\n', &mut l).unwrap();
        out.extend_from_slice(&l);
        let n: i64 = std::str::from_utf8(&l[1..l.len() - 2])
            .unwrap_or("0")
            .parse()
            .unwrap_or(0);
        match l[0] {
            b'$' if n >= 0 => {
                let mut b = vec![0u8; n as usize + 2];
                self.r.read_exact(&mut b).unwrap();
                out.extend_from_slice(&b);
            }
            b'*' | b'%' if n >= 0 => {
                let m = if l[0] == b'%' { 2 } else { 1 };
                for _ in 0..n * m {
                    self.read(out);
                }
            }
            _ => {}
        }
    }
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }
}

fn id_arg(r: &mut Rng, top: u64) -> String {
    let ms = top.saturating_sub(r.below(8)) + r.below(3);
    match r.below(6) {
        0 => format!("{ms}"),
        1 => format!("{ms}-*"),
        _ => format!("{ms}-{}", r.below(3)),
    }
}

fn bound(r: &mut Rng, top: u64) -> String {
    match r.below(6) {
        0 => "-".into(),
        1 => "+".into(),
        2 => format!("({}-{}", r.below(top + 2), r.below(3)),
        3 => format!("{}", r.below(top + 2)),
        _ => format!("{}-{}", r.below(top + 2), r.below(3)),
    }
}

fn trim_opts(r: &mut Rng, top: u64, out: &mut Vec<String>) {
    let maxlen = r.chance(50);
    out.push(if maxlen { "MAXLEN" } else { "MINID" }.into());
    match r.below(3) {
        0 => out.push("~".into()),
        1 => out.push("=".into()),
        _ => {}
    }
    if maxlen {
        out.push(r.below(30).to_string());
    } else {
        out.push(format!("{}-{}", r.below(top + 2), r.below(2)));
    }
    if r.chance(20) {
        out.push("LIMIT".into());
        out.push(r.below(20).to_string());
    }
}

fn command(r: &mut Rng, top: &mut u64) -> Vec<String> {
    let mut c: Vec<String> = Vec::new();
    match r.below(100) {
        0..=44 => {
            c.push("XADD".into());
            c.push("d".into());
            if r.chance(5) {
                c.push("NOMKSTREAM".into());
            }
            if r.chance(30) {
                trim_opts(r, *top, &mut c);
            }
            *top += r.below(3);
            c.push(id_arg(r, *top));
            for i in 0..=r.below(2) {
                c.push(format!("f{i}"));
                c.push("v".repeat(r.below(40) as usize + 1));
            }
        }
        45..=54 => {
            c.push("XDEL".into());
            c.push("d".into());
            for _ in 0..=r.below(3) {
                c.push(format!("{}-{}", r.below(*top + 2), r.below(3)));
            }
        }
        55..=62 => {
            c.push("XTRIM".into());
            c.push("d".into());
            trim_opts(r, *top, &mut c);
        }
        63..=72 => {
            let rev = r.chance(50);
            c.push(if rev { "XREVRANGE" } else { "XRANGE" }.into());
            c.push("d".into());
            c.push(bound(r, *top));
            c.push(bound(r, *top));
            if r.chance(40) {
                c.push("COUNT".into());
                c.push((r.below(6) as i64 - 1).to_string());
            }
        }
        73..=76 => c.extend(["XLEN".into(), "d".into()]),
        77..=81 => {
            c.push("XSETID".into());
            c.push("d".into());
            c.push(format!("{}-{}", *top + r.below(3), r.below(3)));
            if r.chance(40) {
                c.push("ENTRIESADDED".into());
                c.push(r.below(200).to_string());
            }
            if r.chance(30) {
                c.push("MAXDELETEDID".into());
                c.push(format!("{}-0", r.below(*top + 2)));
            }
        }
        82..=97 => {
            c.extend(["XINFO".into(), "STREAM".into(), "d".into()]);
            if r.chance(40) {
                c.push("FULL".into());
                if r.chance(50) {
                    c.push("COUNT".into());
                    c.push(r.below(5).to_string());
                }
            }
        }
        _ => c.extend(["DEL".into(), "d".into()]),
    }
    c
}

const IDMP_FIELDS: [&str; 6] = [
    "idmp-duration",
    "idmp-maxsize",
    "pids-tracked",
    "iids-tracked",
    "iids-added",
    "iids-duplicates",
];

/// Masks `radix-tree-nodes` and drops the IDMP fields (fixing the header).
fn normalise(out: &str, module: bool) -> String {
    if out.starts_with('-') || !out.contains("radix-tree-nodes") {
        return out.to_string();
    }
    let mut s = out.to_string();
    if let Some(p) = s.find("$16\r\nradix-tree-nodes\r\n:") {
        let start = p + "$16\r\nradix-tree-nodes\r\n:".len();
        let end = start + s[start..].find("\r\n").unwrap();
        s.replace_range(start..end, "N");
    }
    if module {
        for f in IDMP_FIELDS {
            let key = format!("${}\r\n{f}\r\n:", f.len());
            let p = s.find(&key).unwrap();
            let end = p + key.len() + s[p + key.len()..].find("\r\n").unwrap() + 2;
            s.replace_range(p..end, "");
        }
        let (head, rest) = s.split_once("\r\n").unwrap();
        let n: usize = head[1..].parse().unwrap();
        let fixed = if head.starts_with('%') { n - 6 } else { n - 12 };
        s = format!("{}{fixed}\r\n{rest}", &head[..1]);
    }
    s
}

#[test]
#[ignore]
fn commands_match_native() {
    let Ok(port) = std::env::var("CMDS_ORACLE_PORT") else {
        return;
    };
    let port: u16 = port.parse().unwrap();
    let rounds: u64 = std::env::var("CMDS_ORACLE_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    for round in 0..rounds {
        let resp3 = round % 2 == 1;
        let mut conn = Conn::new(port);
        if resp3 {
            conn.cmd(&[b"HELLO".to_vec(), b"3".to_vec()]);
        }
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (round + 1).wrapping_mul(0x2545_F491_4F6C_DD1D));
        let node_entries = [1u64, 2, 3, 5, 10, 100][rng.below(6) as usize];
        let node_bytes = [0u64, 64, 4096][rng.below(3) as usize];
        conn.cmd(&[
            b"CONFIG".to_vec(),
            b"SET".to_vec(),
            b"stream-node-max-entries".to_vec(),
            node_entries.to_string().into_bytes(),
        ]);
        conn.cmd(&[
            b"CONFIG".to_vec(),
            b"SET".to_vec(),
            b"stream-node-max-bytes".to_vec(),
            node_bytes.to_string().into_bytes(),
        ]);
        conn.cmd(&[b"DEL".to_vec(), b"d".to_vec()]);
        let mut c = ctx(1_000_000);
        c.limits.max_entries = node_entries as usize;
        c.limits.max_bytes = node_bytes as usize;
        let mut db: Option<Stream> = None;
        let mut top = 1u64;
        for step in 0..300 {
            let words = command(&mut rng, &mut top);
            let args: Vec<Vec<u8>> = words.iter().map(|w| w.as_bytes().to_vec()).collect();
            let native = conn.cmd(&args);
            let mine = if words[0] == "DEL" {
                let had = db.take().is_some();
                format!(":{}\r\n", u8::from(had))
            } else {
                let argv: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
                let mut r = Resp::new(resp3);
                match parse(&argv, &c) {
                    Err(e) => format!("-{e}\r\n"),
                    Ok(req) => {
                        let is_xadd = matches!(req, Request::Xadd(_));
                        let mut fx = req.exec(db.as_mut(), &c, &mut r);
                        if let Some(s) = fx.new_stream.take() {
                            assert!(is_xadd && fx.create);
                            db = Some(*s);
                        }
                        r.out
                    }
                }
            };
            assert_eq!(
                normalise(&mine, true),
                normalise(&native, false),
                "round {round} step {step} (resp3 {resp3}, nodes {node_entries}/{node_bytes}): {}",
                words.join(" ")
            );
        }
    }
}
