//! Randomised differential test against a native Redis 7.0 server: the same
//! XADD / XDEL / XTRIM sequence runs on a native stream and on [`Stream`],
//! and replies, XLEN, XINFO STREAM (radix-tree-keys, last-generated-id,
//! max-deleted-entry-id, entries-added, recorded-first-entry-id) and ranges
//! must agree. Needs a server, so it is ignored by default:
//!
//! ```text
//! redis-server --port 7100 --bind 127.0.0.1 --save '' --appendonly no &
//! STORE_ORACLE_PORT=7100 cargo test --no-default-features native_diff -- --ignored
//! ```

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;

use crate::stream::id::StreamId;
use crate::stream::idmp::IdmpSettings;
use crate::stream::store::{NodeLimits, TrimStrategy};
use crate::stream::stream::{AppendError, IdRequest, Stream, TrimArgs};

#[derive(Debug, Clone, PartialEq)]
enum Resp {
    Simple(Vec<u8>),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Resp>>),
}

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

    fn cmd(&mut self, args: &[&[u8]]) -> Resp {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
        self.w.write_all(&out).unwrap();
        self.read()
    }

    fn line(&mut self) -> Vec<u8> {
        let mut l = vec![];
        self.r.read_until(b'\n', &mut l).unwrap();
        l.truncate(l.len() - 2);
        l
    }

    fn read(&mut self) -> Resp {
        let l = self.line();
        let rest = &l[1..];
        let n = || String::from_utf8_lossy(rest).parse::<i64>().unwrap();
        match l[0] {
            b'+' => Resp::Simple(rest.to_vec()),
            b'-' => Resp::Error(String::from_utf8_lossy(rest).into_owned()),
            b':' => Resp::Int(n()),
            b'$' => {
                let len = n();
                if len < 0 {
                    return Resp::Bulk(None);
                }
                let mut b = vec![0; len as usize + 2];
                self.r.read_exact(&mut b).unwrap();
                b.truncate(len as usize);
                Resp::Bulk(Some(b))
            }
            b'*' => {
                let len = n();
                if len < 0 {
                    return Resp::Array(None);
                }
                Resp::Array(Some((0..len).map(|_| self.read()).collect()))
            }
            c => panic!("bad reply type {c}"),
        }
    }
}

/// xorshift64*: deterministic, seedable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn idb(i: StreamId) -> Vec<u8> {
    i.to_bytes()
}

fn entries_of(s: &Stream, rev: bool, a: StreamId, b: StreamId) -> Resp {
    let conv = |e: crate::stream::store::Entry<'_>| {
        let fields = e
            .fields()
            .flat_map(|(f, v)| [Resp::Bulk(Some(f.to_vec())), Resp::Bulk(Some(v.to_vec()))])
            .collect();
        Resp::Array(Some(vec![
            Resp::Bulk(Some(idb(e.id()))),
            Resp::Array(Some(fields)),
        ]))
    };
    let v: Vec<Resp> = if rev {
        s.store.rev_range(a, b).map(conv).collect()
    } else {
        s.store.range(a, b).map(conv).collect()
    };
    Resp::Array(Some(v))
}

fn info(c: &mut Conn) -> Vec<(String, Resp)> {
    let Resp::Array(Some(v)) = c.cmd(&[b"XINFO", b"STREAM", b"s"]) else {
        return vec![];
    };
    v.chunks(2)
        .map(|p| match &p[0] {
            Resp::Bulk(Some(k)) | Resp::Simple(k) => {
                (String::from_utf8_lossy(k).into_owned(), p[1].clone())
            }
            _ => panic!("bad xinfo"),
        })
        .collect()
}

fn value(pool: &mut Rng) -> Vec<u8> {
    match pool.below(8) {
        0 => vec![],
        1 => (pool.below(100_000) as i64 - 50_000)
            .to_string()
            .into_bytes(),
        2 => pool.next().to_string().into_bytes(),
        3 => vec![b'L'; pool.below(700) as usize],
        4 => b"007".to_vec(),
        5 => vec![0, 255, b'x'],
        _ => format!("v{}", pool.below(10)).into_bytes(),
    }
}

fn run_round(c: &mut Conn, seed: u64, ops: usize) {
    let mut rng = Rng(seed | 1);
    let max_bytes = [0usize, 50, 300, 1000, 4096][rng.below(5) as usize];
    let max_entries = [0usize, 1, 3, 10, 100][rng.below(5) as usize];
    let limits = NodeLimits {
        max_bytes,
        max_entries,
    };
    c.cmd(&[b"DEL", b"s"]);
    c.cmd(&[
        b"CONFIG",
        b"SET",
        b"stream-node-max-bytes",
        max_bytes.to_string().as_bytes(),
    ]);
    c.cmd(&[
        b"CONFIG",
        b"SET",
        b"stream-node-max-entries",
        max_entries.to_string().as_bytes(),
    ]);
    let mut s = Stream::new(IdmpSettings::default());
    let mut ever: Vec<StreamId> = vec![];
    let names: [&[u8]; 4] = [b"a", b"b", b"123", b""];
    for step in 0..ops {
        let ctx = format!("seed {seed} step {step} limits {limits:?}");
        let pick = |rng: &mut Rng, ever: &[StreamId]| -> StreamId {
            if ever.is_empty() {
                return StreamId::new(rng.below(3), 0);
            }
            let b = ever[rng.below(ever.len() as u64) as usize];
            match rng.below(4) {
                0 => b.incr().unwrap_or(b),
                1 => b.decr().unwrap_or(b),
                _ => b,
            }
        };
        match rng.below(10) {
            0..=5 => {
                let last = s.last_id;
                let (req, arg) = match rng.below(6) {
                    0 => {
                        let ms = last.ms + rng.below(2);
                        (IdRequest::AutoSeq(ms), format!("{ms}-*"))
                    }
                    1 => {
                        let i = StreamId::new(last.ms.saturating_sub(rng.below(2)), rng.below(3));
                        (IdRequest::Explicit(i), i.to_string())
                    }
                    _ => {
                        let i = StreamId::new(last.ms + 1 + rng.below(3), rng.below(5));
                        (IdRequest::Explicit(i), i.to_string())
                    }
                };
                let n = 1 + rng.below(3) as usize;
                let same = rng.below(2) == 0;
                let mut fields: Vec<Vec<u8>> = vec![];
                for k in 0..n {
                    let name = if same {
                        names[k].to_vec()
                    } else {
                        names[rng.below(4) as usize].to_vec()
                    };
                    fields.push(name);
                    fields.push(value(&mut rng));
                }
                let flat: Vec<&[u8]> = fields.iter().map(|v| v.as_slice()).collect();
                let mut args: Vec<&[u8]> = vec![b"XADD", b"s", arg.as_bytes()];
                args.extend(flat.iter().copied());
                let native = c.cmd(&args);
                let zero = matches!(req, IdRequest::Explicit(StreamId { ms: 0, seq: 0 }));
                let ours = match s.resolve_id(req, 0) {
                    _ if zero => {
                        Resp::Error("ERR The ID specified in XADD must be greater than 0-0".into())
                    }
                    Ok(i) => {
                        s.append(i, &flat, limits);
                        ever.push(i);
                        Resp::Bulk(Some(idb(i)))
                    }
                    Err(e @ AppendError::NotGreater) | Err(e @ AppendError::Exhausted) => {
                        Resp::Error(e.message().into())
                    }
                };
                assert_eq!(native, ours, "{ctx} XADD {arg}");
            }
            6 => {
                let k = 1 + rng.below(3);
                let ids: Vec<StreamId> = (0..k).map(|_| pick(&mut rng, &ever)).collect();
                let id_bytes: Vec<Vec<u8>> = ids.iter().map(|i| idb(*i)).collect();
                let mut args: Vec<&[u8]> = vec![b"XDEL", b"s"];
                args.extend(id_bytes.iter().map(|v| v.as_slice()));
                let native = c.cmd(&args);
                let n = ids.iter().filter(|i| s.delete(**i)).count();
                s.refresh_first_id();
                assert_eq!(native, Resp::Int(n as i64), "{ctx} XDEL {ids:?}");
            }
            7..=8 => {
                let approx = rng.below(2) == 0;
                let (strategy, sarg, kw): (TrimStrategy, String, &[u8]) = if rng.below(2) == 0 {
                    let n = rng.below(s.len() + 3);
                    (TrimStrategy::MaxLen(n), n.to_string(), b"MAXLEN")
                } else {
                    let i = pick(&mut rng, &ever);
                    (TrimStrategy::MinId(i), i.to_string(), b"MINID")
                };
                let mut args: Vec<&[u8]> = vec![b"XTRIM", b"s", kw];
                args.push(if approx { b"~" } else { b"=" });
                args.push(sarg.as_bytes());
                let lim_arg;
                let limit = if approx && rng.below(2) == 0 {
                    let l = rng.below(40);
                    lim_arg = l.to_string();
                    args.push(b"LIMIT");
                    args.push(lim_arg.as_bytes());
                    l
                } else if approx {
                    100 * max_entries as u64
                } else {
                    0
                };
                let native = c.cmd(&args);
                let n = s.trim(&TrimArgs {
                    strategy,
                    approx,
                    limit,
                });
                assert_eq!(
                    native,
                    Resp::Int(n as i64),
                    "{ctx} XTRIM {strategy:?} {approx} {limit}"
                );
            }
            _ => {
                let (a, b) = (pick(&mut rng, &ever), pick(&mut rng, &ever));
                let (ab, bb) = (idb(a), idb(b));
                let native = c.cmd(&[b"XRANGE", b"s", &ab, &bb]);
                assert_eq!(native, entries_of(&s, false, a, b), "{ctx} XRANGE {a} {b}");
                let native = c.cmd(&[b"XREVRANGE", b"s", &bb, &ab]);
                assert_eq!(
                    native,
                    entries_of(&s, true, a, b),
                    "{ctx} XREVRANGE {b} {a}"
                );
            }
        }
        if ever.is_empty() {
            continue;
        }
        let inf = info(c);
        let get = |k: &str| inf.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        if inf.is_empty() {
            // The key is gone only if nothing was ever added.
            panic!("{ctx}: native stream missing");
        }
        let bulk = |i: StreamId| Some(Resp::Bulk(Some(idb(i))));
        assert_eq!(get("length"), Some(Resp::Int(s.len() as i64)), "{ctx}");
        assert_eq!(
            get("radix-tree-keys"),
            Some(Resp::Int(s.store.node_count() as i64)),
            "{ctx} nodes"
        );
        assert_eq!(get("last-generated-id"), bulk(s.last_id), "{ctx}");
        assert_eq!(get("max-deleted-entry-id"), bulk(s.max_deleted_id), "{ctx}");
        assert_eq!(
            get("entries-added"),
            Some(Resp::Int(s.entries_added as i64)),
            "{ctx}"
        );
        assert_eq!(get("recorded-first-entry-id"), bulk(s.first_id), "{ctx}");
    }
    let native = c.cmd(&[b"XRANGE", b"s", b"-", b"+"]);
    assert_eq!(
        native,
        entries_of(&s, false, StreamId::MIN, StreamId::MAX),
        "seed {seed} final"
    );
}

#[test]
#[ignore = "needs a redis-server 7.0: STORE_ORACLE_PORT=<port>"]
fn native_diff() {
    let Ok(port) = std::env::var("STORE_ORACLE_PORT") else {
        return;
    };
    let mut c = Conn::new(port.parse().unwrap());
    let rounds: u64 = std::env::var("STORE_ORACLE_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(200);
    for seed in 1..=rounds {
        run_round(&mut c, seed.wrapping_mul(0x9E37_79B9_7F4A_7C15), 300);
    }
    c.cmd(&[b"DEL", b"s"]);
}
