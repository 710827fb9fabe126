//! The translation of module-internal propagated commands into native
//! commands, for migration mode on a host with native IDMP (issue 15; the
//! glue is `server::translate`).
//!
//! | propagated | native |
//! |---|---|
//! | `idmp.xadd key [IDMPCFG d m] [IDMP pid iid IDMPAT t] [MAXLEN\|MINID = x] id f v ...` | `XADD key [trim] id f v ...`, `XCFGSET` (IDMPCFG), `XIDMPRECORD key pid iid id` |
//! | `idmp.xdel`, `idmp.xtrim`, `idmp.xsetid`, `idmp.xack` | the native command, same arguments |
//! | `idmp.xclaim ... [DELETEDOK]` | `XCLAIM ...` (DELETEDOK dropped) |
//! | `idmp.xgroup sub ...` | `XGROUP sub ...`; `SETCONSUMERTIME` is dropped (no native way) |
//! | `idmp.xidmprecord key pid iid id [IDMPAT t]` | `XIDMPRECORD key pid iid id` |
//! | `idmp.idmpcounters key added dups` | nothing: native has no way to set the lifetime counters |

/// The native commands one propagated module command stands for (the key
/// is argument 1, or 2 for `idmp.xgroup`).
pub fn translate(argv: &[&[u8]]) -> Vec<Vec<Vec<u8>>> {
    let Some((name, rest)) = argv.split_first() else {
        return Vec::new();
    };
    let name = name.to_ascii_lowercase();
    let owned = |cmd: &[u8], args: &[&[u8]]| -> Vec<Vec<u8>> {
        std::iter::once(cmd.to_vec())
            .chain(args.iter().map(|a| a.to_vec()))
            .collect()
    };
    match name.as_slice() {
        b"idmp.xadd" => translate_xadd(rest),
        b"idmp.xdel" => vec![owned(b"XDEL", rest)],
        b"idmp.xtrim" => vec![owned(b"XTRIM", rest)],
        b"idmp.xsetid" => vec![owned(b"XSETID", rest)],
        b"idmp.xack" => vec![owned(b"XACK", rest)],
        b"idmp.xclaim" => {
            let kept: Vec<&[u8]> = rest
                .iter()
                .copied()
                .filter(|a| !a.eq_ignore_ascii_case(b"DELETEDOK"))
                .collect();
            vec![owned(b"XCLAIM", &kept)]
        }
        // `idmp.xidmprecord key pid iid id [IDMPAT t]` (branch idmp's name
        // for the master's form): the native arity-5 command.
        b"idmp.xidmprecord" => rest
            .get(..4)
            .map(|a| vec![owned(b"XIDMPRECORD", a)])
            .unwrap_or_default(),
        b"idmp.xgroup" => match rest.first() {
            Some(sub) if sub.eq_ignore_ascii_case(b"SETCONSUMERTIME") => Vec::new(),
            _ => vec![owned(b"XGROUP", rest)],
        },
        _ => Vec::new(),
    }
}

fn translate_xadd(rest: &[&[u8]]) -> Vec<Vec<Vec<u8>>> {
    let Some((&key, mut args)) = rest.split_first() else {
        return Vec::new();
    };
    let mut cfg = None;
    let mut idmp = None;
    let mut xadd: Vec<Vec<u8>> = vec![b"XADD".to_vec(), key.to_vec()];
    loop {
        match args {
            [kw, d, m, tail @ ..] if kw.eq_ignore_ascii_case(b"IDMPCFG") => {
                cfg = Some((*d, *m));
                args = tail;
            }
            [kw, pid, iid, at, _t, tail @ ..]
                if kw.eq_ignore_ascii_case(b"IDMP") && at.eq_ignore_ascii_case(b"IDMPAT") =>
            {
                idmp = Some((*pid, *iid));
                args = tail;
            }
            [kw, op, v, tail @ ..]
                if kw.eq_ignore_ascii_case(b"MAXLEN") || kw.eq_ignore_ascii_case(b"MINID") =>
            {
                xadd.extend([kw.to_vec(), op.to_vec(), v.to_vec()]);
                args = tail;
            }
            _ => break,
        }
    }
    let Some((&id, _)) = args.split_first() else {
        return Vec::new();
    };
    xadd.extend(args.iter().map(|a| a.to_vec()));
    let mut out = vec![xadd];
    if let Some((d, m)) = cfg {
        out.push(vec![
            b"XCFGSET".to_vec(),
            key.to_vec(),
            b"IDMP-DURATION".to_vec(),
            d.to_vec(),
            b"IDMP-MAXSIZE".to_vec(),
            m.to_vec(),
        ]);
    }
    if let Some((pid, iid)) = idmp {
        out.push(vec![
            b"XIDMPRECORD".to_vec(),
            key.to_vec(),
            pid.to_vec(),
            iid.to_vec(),
            id.to_vec(),
        ]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(line: &str) -> Vec<String> {
        let argv: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
        translate(&argv)
            .into_iter()
            .map(|c| {
                c.iter()
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    }

    #[test]
    fn xadd_forms() {
        assert_eq!(t("idmp.xadd s 5-1 f v"), ["XADD s 5-1 f v"]);
        assert_eq!(
            t("idmp.xadd s IDMPCFG 100 50 IDMP p i IDMPAT 123 MAXLEN = 3 5-1 f v"),
            [
                "XADD s MAXLEN = 3 5-1 f v",
                "XCFGSET s IDMP-DURATION 100 IDMP-MAXSIZE 50",
                "XIDMPRECORD s p i 5-1"
            ]
        );
        assert!(t("idmp.xadd s").is_empty());
    }

    #[test]
    fn other_forms() {
        assert_eq!(t("idmp.xdel s 1-1 2-2"), ["XDEL s 1-1 2-2"]);
        assert_eq!(
            t("idmp.xclaim s g c 0 1-1 TIME 5 RETRYCOUNT 1 FORCE JUSTID DELETEDOK"),
            ["XCLAIM s g c 0 1-1 TIME 5 RETRYCOUNT 1 FORCE JUSTID"]
        );
        assert!(t("idmp.xgroup SETCONSUMERTIME s g c 1 2").is_empty());
        assert_eq!(
            t("idmp.xgroup CREATECONSUMER s g c"),
            ["XGROUP CREATECONSUMER s g c"]
        );
        assert!(t("idmp.idmpcounters s 4 5").is_empty());
        assert_eq!(
            t("idmp.xidmprecord s p i 1-1 IDMPAT 99"),
            ["XIDMPRECORD s p i 1-1"]
        );
        assert!(t("idmp.xidmprecord s p i").is_empty());
    }
}
