//! Small XADD load generator for `make bench`, for the workloads that
//! redis-benchmark cannot express: XADD IDMP with a counter iid per producer
//! (every iid fresh) over 1 .. 100,000 producers.
//!
//! Built by `make bench` with `rustc -O bench/loadgen.rs` (std only, no crate),
//! so it never touches the library or its Cargo.toml.
//!
//! Usage:
//!   loadgen --port P --key K --mode plain|idmp [--conns C] [--pipeline D]
//!           [--requests N] [--producers M] [--start S] [--fields F] [--value-size V]
//!           [--max-secs T]   (each connection stops sending after T seconds)
//!
//! Request number g (S <= g < S+N) is sent as
//!   idmp:  XADD K IDMP p<g % M, 8 digits> <g / M, 16 digits> * f0 v ... (fresh iid)
//!   plain: XADD K * f0 v ...
//! so consecutive runs with S advanced by N never repeat an iid. It prints one
//! JSON line (ops = requests answered):
//! {"ops":..,"secs":..,"rps":..,"errors":..,"first_error":".."}.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Instant;

/// Command-line settings of one run.
#[derive(Clone)]
struct Opts {
    port: u16,
    key: String,
    idmp: bool,
    conns: u64,
    pipeline: u64,
    requests: u64,
    producers: u64,
    start: u64,
    fields: usize,
    value_size: usize,
    max_secs: f64,
}

fn parse_opts() -> Result<Opts, String> {
    let mut o = Opts {
        port: 6379,
        key: "loadgen".into(),
        idmp: false,
        conns: 8,
        pipeline: 16,
        requests: 100_000,
        producers: 1,
        start: 0,
        fields: 1,
        value_size: 1,
        max_secs: 0.0,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let val = it.next().ok_or(format!("missing value after {flag}"))?;
        let num = || val.parse::<u64>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--port" => o.port = num()? as u16,
            "--key" => o.key = val.clone(),
            "--mode" => {
                o.idmp = match val.as_str() {
                    "idmp" => true,
                    "plain" => false,
                    _ => return Err(format!("bad mode {val}")),
                }
            }
            "--conns" => o.conns = num()?.max(1),
            "--pipeline" => o.pipeline = num()?.max(1),
            "--requests" => o.requests = num()?,
            "--producers" => o.producers = num()?.max(1),
            "--start" => o.start = num()?,
            "--fields" => o.fields = num()?.max(1) as usize,
            "--value-size" => o.value_size = num()?.max(1) as usize,
            "--max-secs" => o.max_secs = val.parse::<f64>().map_err(|e| format!("{flag}: {e}"))?,
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    Ok(o)
}

/// Appends one RESP bulk string.
fn bulk(buf: &mut Vec<u8>, arg: &[u8]) {
    buf.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
    buf.extend_from_slice(arg);
    buf.extend_from_slice(b"\r\n");
}

/// Appends request number `g` as a RESP command.
fn command(buf: &mut Vec<u8>, o: &Opts, value: &[u8], g: u64) {
    let n = 3 + if o.idmp { 3 } else { 0 } + 2 * o.fields;
    buf.extend_from_slice(format!("*{n}\r\n").as_bytes());
    bulk(buf, b"XADD");
    bulk(buf, o.key.as_bytes());
    if o.idmp {
        bulk(buf, b"IDMP");
        bulk(buf, format!("p{:08}", g % o.producers).as_bytes());
        bulk(buf, format!("{:016}", g / o.producers).as_bytes());
    }
    bulk(buf, b"*");
    for f in 0..o.fields {
        bulk(buf, format!("f{f}").as_bytes());
        bulk(buf, value);
    }
}

/// Reads one reply; returns the error text if it is an error reply.
fn read_reply(r: &mut BufReader<TcpStream>, line: &mut String) -> Result<Option<String>, String> {
    line.clear();
    r.read_line(line).map_err(|e| e.to_string())?;
    let t = line.trim_end();
    match t.as_bytes().first() {
        Some(b'$') => {
            let len: i64 = t[1..].parse().map_err(|_| format!("bad reply {t}"))?;
            if len >= 0 {
                let mut skip = vec![0u8; len as usize + 2];
                r.read_exact(&mut skip).map_err(|e| e.to_string())?;
            }
            Ok(None)
        }
        Some(b'-') => Ok(Some(t[1..].to_string())),
        Some(b'+') | Some(b':') => Ok(None),
        _ => Err(format!("unexpected reply {t:?}")),
    }
}

/// Sends requests [from, to) over one connection, `pipeline` at a time.
/// Returns (requests answered, error replies, first error).
fn worker(
    o: &Opts,
    from: u64,
    to: u64,
    go: &Barrier,
) -> Result<(u64, u64, Option<String>), String> {
    let conn = TcpStream::connect(("127.0.0.1", o.port));
    go.wait(); // every worker reaches the barrier, connected or not
    let s = conn.map_err(|e| e.to_string())?;
    s.set_nodelay(true).map_err(|e| e.to_string())?;
    let mut w = s.try_clone().map_err(|e| e.to_string())?;
    let mut r = BufReader::with_capacity(1 << 16, s);
    let value = vec![b'v'; o.value_size];
    let mut buf = Vec::with_capacity(1 << 16);
    let mut line = String::new();
    let (mut errors, mut first) = (0u64, None);
    let t0 = Instant::now();
    let mut g = from;
    while g < to {
        if o.max_secs > 0.0 && t0.elapsed().as_secs_f64() >= o.max_secs {
            break;
        }
        let end = (g + o.pipeline).min(to);
        buf.clear();
        for i in g..end {
            command(&mut buf, o, &value, i);
        }
        w.write_all(&buf).map_err(|e| e.to_string())?;
        for _ in g..end {
            if let Some(e) = read_reply(&mut r, &mut line)? {
                errors += 1;
                first.get_or_insert(e);
            }
        }
        g = end;
    }
    Ok((g - from, errors, first))
}

fn main() {
    let o = match parse_opts() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("loadgen: {e}");
            std::process::exit(2);
        }
    };
    let go = Arc::new(Barrier::new(o.conns as usize + 1));
    let per = o.requests.div_ceil(o.conns);
    let mut handles = Vec::new();
    for c in 0..o.conns {
        let from = o.start + (c * per).min(o.requests);
        let to = o.start + ((c + 1) * per).min(o.requests);
        let (o2, go2) = (o.clone(), Arc::clone(&go));
        handles.push(thread::spawn(move || worker(&o2, from, to, &go2)));
    }
    go.wait();
    let t0 = Instant::now();
    let (mut ops, mut errors, mut first) = (0u64, 0u64, None::<String>);
    for h in handles {
        match h.join() {
            Ok(Ok((n, e, f))) => {
                ops += n;
                errors += e;
                if first.is_none() {
                    first = f;
                }
            }
            Ok(Err(e)) => {
                eprintln!("loadgen: {e}");
                std::process::exit(1);
            }
            Err(_) => {
                eprintln!("loadgen: a worker panicked");
                std::process::exit(1);
            }
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    let fe = first
        .unwrap_or_default()
        .replace('\\', "\\\\")
        .replace('"', "'");
    println!(
        "{{\"ops\":{},\"secs\":{:.6},\"rps\":{:.1},\"errors\":{},\"first_error\":\"{}\"}}",
        ops,
        secs,
        ops as f64 / secs.max(1e-9),
        errors,
        fe
    );
}
