//! Small XADD load generator for `make bench`, for the workloads that
//! redis-benchmark cannot express: XADD IDMP with a counter iid per producer
//! (every iid fresh) over 1 .. 100,000 producers.
//!
//! Built by `make bench` with `rustc -O bench/loadgen.rs` (std only, no crate),
//! so it never touches the library or its Cargo.toml.
//!
//! Usage:
//!   loadgen --port P --key K --mode plain|idmp|group|multi|del [--conns C] [--pipeline D]
//!           [--requests N] [--producers M] [--start S] [--fields F] [--value-size V]
//!           [--max-secs T]   (each connection stops sending after T seconds)
//!
//! In group mode each of the N requests is one consumer-group cycle per
//! connection c: `XREADGROUP GROUP g c<c> COUNT 10 STREAMS K >`, then `XACK K g`
//! with the IDs read (no pipelining: the XACK needs the IDs). When the group has
//! read everything, `XGROUP SETID K g 0` starts it over (not counted).
//!
//! Request number g (S <= g < S+N) is sent as
//!   idmp:  XADD K IDMP p<g % M, 8 digits> <g / M, 16 digits> * f0 v ... (fresh iid)
//!   plain: XADD K * f0 v ...
//!   multi: MULTI, XADD K * f0 v ..., EXEC
//!   del:   XADD K:<g> * f0 v ..., DEL K:<g>
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
    group: bool,
    /// Each request is MULTI, the XADD, EXEC.
    multi: bool,
    /// Each request is an XADD to key K:<g> (a new one-entry stream), then DEL K:<g>.
    del: bool,
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
        multi: false,
        del: false,
        group: false,
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
            "--mode" => match val.as_str() {
                "idmp" => o.idmp = true,
                "plain" => o.idmp = false,
                "group" => o.group = true,
                "multi" => o.multi = true,
                "del" => o.del = true,
                _ => return Err(format!("bad mode {val}")),
            },
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
    if o.multi {
        buf.extend_from_slice(b"*1\r\n");
        bulk(buf, b"MULTI");
    }
    let key = if o.del {
        format!("{}:{g}", o.key)
    } else {
        o.key.clone()
    };
    let n = 3 + if o.idmp { 3 } else { 0 } + 2 * o.fields;
    buf.extend_from_slice(format!("*{n}\r\n").as_bytes());
    bulk(buf, b"XADD");
    bulk(buf, key.as_bytes());
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
    if o.multi {
        buf.extend_from_slice(b"*1\r\n");
        bulk(buf, b"EXEC");
    }
    if o.del {
        buf.extend_from_slice(b"*2\r\n");
        bulk(buf, b"DEL");
        bulk(buf, key.as_bytes());
    }
}

/// Replies per request: MULTI's +OK, the XADD's +QUEUED and EXEC's array;
/// the XADD's ID and DEL's count; or the XADD's ID alone.
fn replies_per_request(o: &Opts) -> u64 {
    if o.multi {
        3
    } else if o.del {
        2
    } else {
        1
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

/// A RESP2 reply.
enum Value {
    Nil,
    Int,
    Str(Vec<u8>),
    Err(String),
    Arr(Vec<Value>),
}

/// Reads one whole reply, nested arrays included.
fn read_value(r: &mut BufReader<TcpStream>, line: &mut String) -> Result<Value, String> {
    line.clear();
    r.read_line(line).map_err(|e| e.to_string())?;
    let t = line.trim_end().to_string();
    let num = |t: &str| {
        t.get(1..)
            .unwrap_or("")
            .parse::<i64>()
            .map_err(|_| format!("bad reply {t}"))
    };
    match t.as_bytes().first() {
        Some(b'$') => {
            let len = num(&t)?;
            if len < 0 {
                return Ok(Value::Nil);
            }
            let mut buf = vec![0u8; len as usize + 2];
            r.read_exact(&mut buf).map_err(|e| e.to_string())?;
            buf.truncate(len as usize);
            Ok(Value::Str(buf))
        }
        Some(b'*') => {
            let len = num(&t)?;
            if len < 0 {
                return Ok(Value::Nil);
            }
            let mut items = Vec::new();
            for _ in 0..len {
                items.push(read_value(r, line)?);
            }
            Ok(Value::Arr(items))
        }
        Some(b':') => num(&t).map(|_| Value::Int),
        Some(b'+') => Ok(Value::Str(t.get(1..).unwrap_or("").as_bytes().to_vec())),
        Some(b'-') => Ok(Value::Err(t.get(1..).unwrap_or("").to_string())),
        _ => Err(format!("unexpected reply {t:?}")),
    }
}

/// The entry IDs of an XREADGROUP reply: [[key, [[id, fields], ...]], ...].
fn read_ids(v: &Value, out: &mut Vec<Vec<u8>>) {
    if let Value::Arr(streams) = v {
        for s in streams {
            if let Value::Arr(kv) = s {
                if let Some(Value::Arr(entries)) = kv.get(1) {
                    for e in entries {
                        if let Value::Arr(pair) = e {
                            if let Some(Value::Str(id)) = pair.first() {
                                out.push(id.clone());
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Sends one command given as arguments and reads its reply.
fn call(
    w: &mut TcpStream,
    r: &mut BufReader<TcpStream>,
    line: &mut String,
    buf: &mut Vec<u8>,
    args: &[&[u8]],
) -> Result<Value, String> {
    buf.clear();
    buf.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        bulk(buf, a);
    }
    w.write_all(buf).map_err(|e| e.to_string())?;
    read_value(r, line)
}

/// Group mode: `cycles` XREADGROUP + XACK cycles as consumer c<conn>.
fn group_worker(
    o: &Opts,
    conn: u64,
    cycles: u64,
    go: &Barrier,
) -> Result<(u64, u64, Option<String>), String> {
    let c = TcpStream::connect(("127.0.0.1", o.port));
    go.wait(); // every worker reaches the barrier, connected or not
    let s = c.map_err(|e| e.to_string())?;
    s.set_nodelay(true).map_err(|e| e.to_string())?;
    let mut w = s.try_clone().map_err(|e| e.to_string())?;
    let mut r = BufReader::with_capacity(1 << 16, s);
    let (mut line, mut buf, mut ids) = (String::new(), Vec::new(), Vec::new());
    let consumer = format!("c{conn}");
    let key = o.key.as_bytes();
    let (mut done, mut errors, mut first) = (0u64, 0u64, None);
    let mut note = |v: &Value, errors: &mut u64| {
        if let Value::Err(e) = v {
            *errors += 1;
            first.get_or_insert(e.clone());
        }
    };
    let t0 = Instant::now();
    let mut empty = 0u32;
    while done < cycles {
        if o.max_secs > 0.0 && t0.elapsed().as_secs_f64() >= o.max_secs {
            break;
        }
        let read_args: [&[u8]; 9] = [
            b"XREADGROUP",
            b"GROUP",
            b"g",
            consumer.as_bytes(),
            b"COUNT",
            b"10",
            b"STREAMS",
            key,
            b">",
        ];
        let v = call(&mut w, &mut r, &mut line, &mut buf, &read_args)?;
        note(&v, &mut errors);
        ids.clear();
        read_ids(&v, &mut ids);
        if ids.is_empty() {
            empty += 1;
            if empty > 1000 || errors > 0 {
                return Err(format!(
                    "XREADGROUP keeps answering nothing (errors: {errors}, {first:?})"
                ));
            }
            let v = call(
                &mut w,
                &mut r,
                &mut line,
                &mut buf,
                &[b"XGROUP", b"SETID", key, b"g", b"0"],
            )?;
            note(&v, &mut errors);
            continue;
        }
        empty = 0;
        let mut ack: Vec<&[u8]> = vec![b"XACK", key, b"g"];
        ack.extend(ids.iter().map(|i| i.as_slice()));
        let v = call(&mut w, &mut r, &mut line, &mut buf, &ack)?;
        note(&v, &mut errors);
        done += 1;
    }
    Ok((done, errors, first))
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
        for _ in 0..(end - g) * replies_per_request(o) {
            let err = if o.multi {
                match read_value(&mut r, &mut line)? {
                    Value::Err(e) => Some(e),
                    Value::Arr(v) => v.into_iter().find_map(|x| match x {
                        Value::Err(e) => Some(e),
                        _ => None,
                    }),
                    _ => None,
                }
            } else {
                read_reply(&mut r, &mut line)?
            };
            if let Some(e) = err {
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
        handles.push(thread::spawn(move || {
            if o2.group {
                group_worker(&o2, c, to - from, &go2)
            } else {
                worker(&o2, from, to, &go2)
            }
        }));
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
