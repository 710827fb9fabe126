//! Differential test of the consumer-group commands against the native
//! oracle: the recorded replies of Redis 8.6.3 (`groups_oracle_fixture.rs`,
//! from `oracle/groups_seq.txt`) must be reproduced in RESP2 and RESP3, with
//! time-dependent values (idle and inactive times, seen-time, active-time,
//! delivery times) masked on both sides.

use std::collections::HashMap;

use super::groups_oracle_fixture::CASES;
use super::reply::Reply;
use super::testkit::{ctx, words, Resp};
use super::xread::{KeyLookup, XreadOutcome};
use super::{parse, CmdError, Request};
use crate::stream::stream::Stream;

/// A RESP value, kept as its protocol text.
#[derive(Clone, Debug, PartialEq)]
enum Val {
    Line(String),
    Bulk(String),
    Agg(char, usize, Vec<Val>),
}

fn parse_val(s: &str, pos: &mut usize) -> Val {
    let rest = &s[*pos..];
    let eol = rest.find("\r\n").unwrap();
    let line = &rest[..eol];
    *pos += eol + 2;
    let t = line.chars().next().unwrap();
    match t {
        '$' => {
            let n: i64 = line[1..].parse().unwrap();
            if n < 0 {
                return Val::Line(line.to_string());
            }
            let body = &s[*pos..*pos + n as usize];
            *pos += n as usize + 2;
            Val::Bulk(body.to_string())
        }
        '*' | '%' => {
            let n: i64 = line[1..].parse().unwrap();
            if n < 0 {
                return Val::Line(line.to_string());
            }
            let m = if t == '%' { 2 } else { 1 };
            let items = (0..n as usize * m).map(|_| parse_val(s, pos)).collect();
            Val::Agg(t, n as usize, items)
        }
        _ => Val::Line(line.to_string()),
    }
}

fn write_val(v: &Val, out: &mut String) {
    match v {
        Val::Line(l) => {
            out.push_str(l);
            out.push_str("\r\n");
        }
        Val::Bulk(b) => out.push_str(&format!("${}\r\n{}\r\n", b.len(), b)),
        Val::Agg(t, n, items) => {
            out.push_str(&format!("{t}{n}\r\n"));
            for i in items {
                write_val(i, out);
            }
        }
    }
}

const MASK: &str = ":<time>";

fn mask_rows(v: &mut Val) {
    if let Val::Agg(_, _, rows) = v {
        for r in rows {
            if let Val::Agg(_, _, cells) = r {
                match cells.len() {
                    4 => cells[2] = Val::Line(MASK.into()),
                    3 => cells[1] = Val::Line(MASK.into()),
                    _ => {}
                }
            }
        }
    }
}

/// Masks the values after `idle` / `seen-time` keys (and `inactive` /
/// `active-time` unless -1, never) and the times in
/// `pending` row lists, recursively.
fn mask(v: &mut Val) {
    if let Val::Agg(_, _, items) = v {
        let mut i = 0;
        while i < items.len() {
            let key = match &items[i] {
                Val::Bulk(k) => Some(k.clone()),
                _ => None,
            };
            if let (Some(k), true) = (key, i + 1 < items.len()) {
                let never = items[i + 1] == Val::Line(":-1".into());
                if k == "idle"
                    || k == "seen-time"
                    || ((k == "inactive" || k == "active-time") && !never)
                {
                    items[i + 1] = Val::Line(MASK.into());
                } else if k == "pending" {
                    mask_rows(&mut items[i + 1]);
                }
            }
            mask(&mut items[i]);
            i += 1;
        }
    }
}

fn normalize(line: &str, out: &str) -> String {
    let mut pos = 0;
    let mut v = parse_val(out, &mut pos);
    assert_eq!(pos, out.len(), "trailing bytes in {out:?}");
    let up = line.to_ascii_uppercase();
    if up.starts_with("XPENDING") && words(line).len() > 3 {
        mask_rows(&mut v);
    } else {
        mask(&mut v);
    }
    let mut s = String::new();
    write_val(&v, &mut s);
    s
}

struct Db<'a>(&'a mut HashMap<Vec<u8>, Stream>);

impl KeyLookup for Db<'_> {
    fn stream(&mut self, key: &[u8]) -> Result<Option<&mut Stream>, CmdError> {
        Ok(self.0.get_mut(key))
    }
}

fn run_all(resp3: bool) {
    let c = ctx(1_000_000);
    let mut db: HashMap<Vec<u8>, Stream> = HashMap::new();
    for (line, r2, r3) in CASES {
        let expected = if resp3 { r3 } else { r2 };
        let args = words(line);
        let argv: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
        let mut r = Resp::new(resp3);
        match parse(&argv, &c) {
            Err(e) => r.error(&e),
            Ok(Request::Xread(x)) => {
                let (outcome, _) = x.exec_multi(&mut Db(&mut db), &c, &mut r, None);
                assert_eq!(outcome, XreadOutcome::Replied, "{line}");
            }
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
        let got = r.out;
        assert_eq!(
            normalize(line, &got),
            normalize(line, expected),
            "{line} (resp3: {resp3})"
        );
    }
}

#[test]
fn native_group_replies_resp2() {
    run_all(false);
}

#[test]
fn native_group_replies_resp3() {
    run_all(true);
}
