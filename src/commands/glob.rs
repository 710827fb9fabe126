//! Redis's glob matching (`stringmatchlen` in `util.c` of Redis 8.6.3), as
//! `CONFIG GET` applies it (case-insensitive): `*`, `?`, `[...]` with `^`,
//! ranges and `\` escapes. Ported line by line (index arithmetic included)
//! so that a pattern matches exactly what the server would match; no crate
//! implements Redis's dialect (its unterminated `[`, escapes inside classes,
//! the early stop of repeated `*`).

/// True when `pattern` matches `string`, ignoring ASCII case.
pub fn glob_match_nocase(pattern: &[u8], string: &[u8]) -> bool {
    let mut skip_longer = false;
    glob_impl(pattern, string, &mut skip_longer, 0)
}

/// True when the argument of CONFIG GET is a pattern (holds `[`, `*`, `?`).
pub fn is_pattern(arg: &[u8]) -> bool {
    arg.iter().any(|&c| matches!(c, b'[' | b'*' | b'?'))
}

/// C's `tolower` on a (signed) `char` promoted to `int`.
fn tolower(c: i32) -> i32 {
    if (i32::from(b'A')..=i32::from(b'Z')).contains(&c) {
        c + 32
    } else {
        c
    }
}

/// A byte as C's (signed) `char` promoted to `int`.
fn ch(c: u8) -> i32 {
    i32::from(c as i8)
}

fn glob_impl(pat: &[u8], st: &[u8], skip_longer: &mut bool, nesting: u32) -> bool {
    if nesting > 1000 {
        return false;
    }
    let at = |s: &[u8], i: usize| s.get(i).copied().unwrap_or(0);
    let (mut p, mut plen) = (0usize, pat.len());
    let (mut s, mut slen) = (0usize, st.len());
    while plen > 0 && slen > 0 {
        match at(pat, p) {
            b'*' => {
                while plen > 1 && at(pat, p + 1) == b'*' {
                    p += 1;
                    plen -= 1;
                }
                if plen == 1 {
                    return true;
                }
                while slen > 0 {
                    let rest = pat.get(p + 1..p + plen).unwrap_or_default();
                    let tail = st.get(s..s + slen).unwrap_or_default();
                    if glob_impl(rest, tail, skip_longer, nesting + 1) {
                        return true;
                    }
                    if *skip_longer {
                        return false;
                    }
                    s += 1;
                    slen -= 1;
                }
                *skip_longer = true;
                return false;
            }
            b'?' => {
                s += 1;
                slen -= 1;
            }
            b'[' => {
                p += 1;
                plen -= 1;
                let not = plen > 0 && at(pat, p) == b'^';
                if not {
                    p += 1;
                    plen -= 1;
                }
                let mut matched = false;
                loop {
                    if plen >= 2 && at(pat, p) == b'\\' {
                        p += 1;
                        plen -= 1;
                        if at(pat, p) == at(st, s) {
                            matched = true;
                        }
                    } else if plen == 0 {
                        p -= 1;
                        plen += 1;
                        break;
                    } else if at(pat, p) == b']' {
                        break;
                    } else if plen >= 3 && at(pat, p + 1) == b'-' {
                        let mut start = ch(at(pat, p));
                        let mut end = ch(at(pat, p + 2));
                        if start > end {
                            std::mem::swap(&mut start, &mut end);
                        }
                        let (start, end) = (tolower(start), tolower(end));
                        let c = tolower(ch(at(st, s)));
                        p += 2;
                        plen -= 2;
                        if c >= start && c <= end {
                            matched = true;
                        }
                    } else if tolower(ch(at(pat, p))) == tolower(ch(at(st, s))) {
                        matched = true;
                    }
                    p += 1;
                    plen -= 1;
                }
                if not {
                    matched = !matched;
                }
                if !matched {
                    return false;
                }
                s += 1;
                slen -= 1;
            }
            c => {
                let c = if c == b'\\' && plen >= 2 {
                    p += 1;
                    plen -= 1;
                    at(pat, p)
                } else {
                    c
                };
                if tolower(ch(c)) != tolower(ch(at(st, s))) {
                    return false;
                }
                s += 1;
                slen -= 1;
            }
        }
        p += 1;
        plen -= 1;
        if slen == 0 {
            while plen > 0 && at(pat, p) == b'*' {
                p += 1;
                plen -= 1;
            }
            break;
        }
    }
    plen == 0 && slen == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        glob_match_nocase(p.as_bytes(), s.as_bytes())
    }

    #[test]
    fn redis_dialect() {
        let name = "stream-idmp-duration";
        for p in [
            "stream-idmp-duration",
            "STREAM-IDMP-DURATION",
            "stream-idmp-*",
            "*idmp*",
            "*",
            "**",
            "stream-idmp-?uration",
            "stream-idmp-[a-e]uration",
            "stream-idmp-[^x]uration",
            "stream-idmp-[D]uration",
            "stream-idmp-[e-a]uration",
            "stream\\-idmp-duration",
            "*duration",
            "s*m*n",
            "stream-idmp-duration*",
            "stream-idmp-duration**",
            "stream-idmp-[\\d]uration",
        ] {
            assert!(m(p, name), "{p}");
        }
        for p in [
            "stream-idmp-",
            "stream-idmp-maxsize",
            "idmp.stream-idmp-duration",
            "*maxsize",
            "stream-idmp-[^d]uration",
            "stream-idmp-?",
            "?",
            "",
            "stream-idmp-duration?",
            "stream-idmp-[",
            "[",
            "stream-idmp-duratio",
        ] {
            assert!(!m(p, name), "{p}");
        }
        assert!(m("", ""));
        // as in Redis: the loop needs a character, so `*` does not match ""
        assert!(!m("*", ""));
        assert!(!m("?", ""));
        // an unterminated class matches on what it listed
        assert!(m("a[bc", "ab"));
        assert!(!m("a[bc", "ad"));
    }

    #[test]
    fn patterns() {
        assert!(is_pattern(b"stream-*"));
        assert!(is_pattern(b"a?b"));
        assert!(is_pattern(b"[a]"));
        assert!(!is_pattern(b"stream-idmp-duration"));
        assert!(!is_pattern(b"a\\b"));
    }

    #[test]
    fn abusive_patterns_end() {
        let p = "*a".repeat(2000);
        let s = "a".repeat(3000) + "b";
        assert!(!m(&p, &s));
    }
}
