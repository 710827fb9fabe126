//! [`super::Request::needs_module_stream_on`]: which calls convert a native
//! stream, by what the host serves natively.

use super::testkit::{ctx, words};
use super::{parse, NativeFeatures};

fn needs(line: &str, native: NativeFeatures) -> bool {
    let args = words(line);
    let argv: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
    let c = ctx(1);
    match parse(&argv, &c) {
        Ok(r) => r.needs_module_stream_on(native),
        Err(e) => panic!("{line}: {e:?}"),
    }
}

const NONE: NativeFeatures = NativeFeatures {
    xdelex: false,
    xackdel: false,
    ref_options: false,
    claim: false,
};
const R82: NativeFeatures = NativeFeatures {
    xdelex: true,
    xackdel: true,
    ref_options: true,
    claim: false,
};
const R84: NativeFeatures = NativeFeatures { claim: true, ..R82 };

#[test]
fn without_native_features_the_7_0_rules_hold() {
    for line in [
        "xdelex s IDS 1 1-1",
        "xackdel s g IDS 1 1-1",
        "xadd s KEEPREF * f v",
        "xtrim s MAXLEN 1 DELREF",
        "xreadgroup GROUP g c CLAIM 10 STREAMS s >",
        "xadd s IDMP p i * f v",
        "xcfgset s IDMP-MAXSIZE 5",
    ] {
        assert!(needs(line, NONE), "{line}");
        let args = words(line);
        let argv: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
        let c = ctx(1);
        assert!(
            parse(&argv, &c).is_ok_and(|r| r.needs_module_stream()),
            "{line}"
        );
    }
    assert!(!needs("xadd s * f v", NONE));
}

#[test]
fn what_the_host_serves_stays_native() {
    for line in [
        "xdelex s IDS 1 1-1",
        "xackdel s g IDS 1 1-1",
        "xadd s KEEPREF * f v",
        "xtrim s MAXLEN 1 DELREF",
    ] {
        assert!(!needs(line, R82), "{line}");
    }
    assert!(needs("xreadgroup GROUP g c CLAIM 10 STREAMS s >", R82));
    assert!(!needs("xreadgroup GROUP g c CLAIM 10 STREAMS s >", R84));
    // Module-only features convert on every host.
    assert!(needs("xadd s KEEPREF IDMP p i * f v", R84));
    assert!(needs("xadd s IDMPAUTO p * f v", R84));
    assert!(needs("xcfgset s IDMP-MAXSIZE 5", R84));
    assert!(needs("xidmprecord s p i 1-1", R84));
}
