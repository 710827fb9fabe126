//! Differential test against the native oracle: the recorded replies of Redis
//! 8.6.3 (`oracle_fixture.rs`, `oracle/regen.sh`) must be reproduced byte for
//! byte, in RESP2 and RESP3, XINFO STREAM's IDMP fields included.

use std::collections::HashMap;

use super::oracle_fixture::CASES;
use super::parse;
use super::reply::Reply;
use super::testkit::{ctx, words, Resp};
use crate::stream::stream::Stream;

fn run_all(resp3: bool) {
    let c = ctx(1000);
    let mut db: HashMap<Vec<u8>, Stream> = HashMap::new();
    for (line, r2, r3) in CASES {
        let expected = if resp3 { r3 } else { r2 };
        let args = words(line);
        let argv: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
        let mut r = Resp::new(resp3);
        match parse(&argv, &c) {
            Err(e) => r.error(&e),
            Ok(req) => {
                let key = req.key().map(|k| k.to_vec());
                let slot = key.as_ref().and_then(|k| db.get_mut(k));
                let fx = req.exec(slot, &c, &mut r);
                if fx.create {
                    let s = fx.new_stream.expect("created stream");
                    db.insert(key.expect("key"), *s);
                }
            }
        }
        assert_eq!(&r.out, expected, "{line} (resp3: {resp3})");
    }
}

#[test]
fn native_replies_resp2() {
    run_all(false);
}

#[test]
fn native_replies_resp3() {
    run_all(true);
}

/// Arguments with NUL bytes: the server compares keywords and parses IDs as C
/// strings, but looks subcommands up by their full length (recorded on 7.0.15).
#[test]
fn nul_bytes_as_the_native_server() {
    use super::testkit::run_args;
    let c = ctx(1000);
    let mut slot = None;
    let cases: &[(&[&[u8]], &str)] = &[
        (
            &[b"XADD", b"n", b"MAXLEN\x00x", b"1", b"1-1", b"f", b"v"],
            "$3\r\n1-1\r\n",
        ),
        (
            &[b"XADD", b"n", b"MAXLEN", b"~\x00", b"1", b"2-1", b"f", b"v"],
            "$3\r\n2-1\r\n",
        ),
        (
            &[b"XADD", b"n", b"MAXLEN", b"1\x00", b"*", b"f", b"v"],
            "-ERR value is not an integer or out of range\r\n",
        ),
        (&[b"XADD", b"n", b"5-1\x00zz", b"f", b"v"], "$3\r\n5-1\r\n"),
        (&[b"XDEL", b"n", b"5-1\x00zz"], ":1\r\n"),
        (
            &[b"XRANGE", b"n", b"-", b"+", b"COUNT\x00x", b"1"],
            "*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n",
        ),
        (
            &[b"XINFO", b"stream\x00", b"n"],
            "-ERR unknown subcommand 'stream'. Try XINFO HELP.\r\n",
        ),
        (
            &[b"XINFO", b"nope\x00zz", b"n"],
            "-ERR unknown subcommand 'nope'. Try XINFO HELP.\r\n",
        ),
        (
            &[b"XINFO", b"CONSUMERS", b"n", b"g\x00h"],
            "-NOGROUP No such consumer group 'g' for key name 'n'\r\n",
        ),
        (
            &[b"XSETID", b"n", b"9-9", b"ENTRIESADDED\x00", b"10"],
            "+OK\r\n",
        ),
    ];
    for (argv, want) in cases {
        let args: Vec<Vec<u8>> = argv.iter().map(|a| a.to_vec()).collect();
        let (out, _) = run_args(&mut slot, &args, &c, false);
        assert_eq!(&out, want, "{argv:?}");
    }
    let (out, _) = run_args(
        &mut slot,
        &[
            b"XINFO".to_vec(),
            b"STREAM".to_vec(),
            b"n".to_vec(),
            b"FULL\x00x".to_vec(),
        ],
        &c,
        false,
    );
    assert!(out.starts_with("*30\r\n"), "{out}");
}
