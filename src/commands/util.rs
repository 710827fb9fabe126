//! Small argument helpers shared by the command parsers: C-string views,
//! case-insensitive keywords, strict integers and the standard error texts.

use crate::stream::id::string2ll;

/// `ERR syntax error`.
pub const ERR_SYNTAX: &str = "ERR syntax error";
/// `ERR value is not an integer or out of range`.
pub const ERR_NOT_INT: &str = "ERR value is not an integer or out of range";
/// `ERR no such key`.
pub const ERR_NO_SUCH_KEY: &str = "ERR no such key";

/// The argument as the server's C code sees it: everything up to the first NUL.
pub fn cstr(arg: &[u8]) -> &[u8] {
    match arg.iter().position(|&c| c == 0) {
        Some(p) => arg.get(..p).unwrap_or(arg),
        None => arg,
    }
}

/// `strcasecmp(arg, kw) == 0` on the C-string view of `arg`.
pub fn is_kw(arg: &[u8], kw: &str) -> bool {
    cstr(arg).eq_ignore_ascii_case(kw.as_bytes())
}

/// The argument is exactly the one-character C string `c` (`opt[0]==c && opt[1]=='\0'`).
pub fn is_char(arg: &[u8], c: u8) -> bool {
    cstr(arg) == [c]
}

/// A decimal of at most `max_digits` digits, without sign or leading zero
/// (`0` itself is one): with `max_digits` up to 18 (19), every such
/// argument is a strict `i64` (`u64`) to `string2ll` (`string2ull`). For
/// the command filter's quick forms, which must accept nothing the parsers
/// refuse.
pub fn plain_decimal(b: &[u8], max_digits: usize) -> bool {
    match b {
        [b'0'] => true,
        [b'1'..=b'9', rest @ ..] => rest.len() < max_digits && rest.iter().all(u8::is_ascii_digit),
        _ => false,
    }
}

/// `getLongLongFromObjectOrReply`: a strict signed 64-bit integer.
pub fn parse_ll(arg: &[u8]) -> Result<i64, String> {
    string2ll(arg).ok_or_else(|| ERR_NOT_INT.to_string())
}

/// The lowercase command name for error messages.
pub fn lower_name(argv0: &[u8]) -> String {
    String::from_utf8_lossy(cstr(argv0)).to_ascii_lowercase()
}

/// `ERR wrong number of arguments for '<name>' command`.
pub fn arity_error(name: &str) -> String {
    format!("ERR wrong number of arguments for '{name}' command")
}

/// Checks a Redis command arity (`n` exact, `-n` at least `n`) against `argc`.
pub fn check_arity(argv: &[&[u8]], arity: i32, name: &str) -> Result<(), String> {
    let argc = argv.len() as i64;
    let a = i64::from(arity);
    let ok = if a >= 0 { argc == a } else { argc >= -a };
    if ok {
        Ok(())
    } else {
        Err(arity_error(name))
    }
}

/// Lossy text of an argument as `%s` would print it (C-string view).
pub fn show(arg: &[u8]) -> String {
    String::from_utf8_lossy(cstr(arg)).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_follow_strcasecmp() {
        assert!(is_kw(b"MaxLen", "maxlen"));
        assert!(is_kw(b"maxlen\0junk", "maxlen"));
        assert!(!is_kw(b"maxlenx", "maxlen"));
        assert!(is_char(b"~", b'~'));
        assert!(is_char(b"~\0x", b'~'));
        assert!(!is_char(b"~~", b'~'));
    }

    #[test]
    fn arity() {
        let argv: [&[u8]; 3] = [b"xadd", b"k", b"*"];
        assert!(check_arity(&argv, -3, "xadd").is_ok());
        assert_eq!(
            check_arity(&argv, -5, "xadd"),
            Err("ERR wrong number of arguments for 'xadd' command".to_string())
        );
        assert!(check_arity(&argv, 3, "x").is_ok());
        assert!(check_arity(&argv, 2, "x").is_err());
    }

    #[test]
    fn ints() {
        assert_eq!(parse_ll(b"-5"), Ok(-5));
        assert_eq!(parse_ll(b"007"), Err(ERR_NOT_INT.to_string()));
        assert_eq!(parse_ll(b"1\0"), Err(ERR_NOT_INT.to_string()));
    }
}
