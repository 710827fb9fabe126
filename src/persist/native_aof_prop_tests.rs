//! Property test of the way out: a stream made by random commands, rebuilt
//! from `native_commands` by the model (the same stream semantics as the
//! native hosts: the AOF replay on 7.x, the host's commands on 8.6), comes
//! back equal in everything the native form can carry.

use proptest::prelude::*;

use super::native_aof::{native_commands, placeholders, Form};
use crate::commands::testkit::{ctx, run_args, words};
use crate::stream::{Stream, StreamId};

fn op() -> impl Strategy<Value = String> {
    let id = (1u64..40).prop_map(|n| format!("{}-0", 1000 + 7 * n));
    let g = proptest::sample::select(vec!["g", "h"]);
    let c = proptest::sample::select(vec!["c", "d"]);
    let p = proptest::sample::select(vec!["p", "q", "r"]);
    prop_oneof![
        3 => Just("XADD s * f v".to_string()),
        6 => (p.clone(), 0u8..30).prop_map(|(p, i)| format!("XADD s IDMP {p} i{i} * f v{i}")),
        2 => id.clone().prop_map(|i| format!("XDEL s {i}")),
        1 => (0u8..8).prop_map(|n| format!("XTRIM s MAXLEN = {n}")),
        1 => id.clone().prop_map(|i| format!("XTRIM s MINID = {i}")),
        1 => (g.clone(), proptest::sample::select(vec!["0", "$"]))
            .prop_map(|(g, i)| format!("XGROUP CREATE s {g} {i} MKSTREAM")),
        1 => (g.clone(), c.clone()).prop_map(|(g, c)| format!("XGROUP CREATECONSUMER s {g} {c}")),
        3 => (g.clone(), c.clone(), 1u8..4)
            .prop_map(|(g, c, n)| format!("XREADGROUP GROUP {g} {c} COUNT {n} STREAMS s >")),
        1 => (g.clone(), id.clone()).prop_map(|(g, a)| format!("XACK s {g} {a}")),
        1 => (g.clone(), c.clone(), id.clone())
            .prop_map(|(g, c, a)| format!("XCLAIM s {g} {c} 0 {a}")),
        1 => (1u16..4, 1u16..20)
            .prop_map(|(d, m)| format!("XCFGSET s IDMP-DURATION {} IDMP-MAXSIZE {m}", d * 100)),
        1 => (p.clone(), 0u8..30, id.clone())
            .prop_map(|(p, i, a)| format!("XIDMPRECORD s {p} x{i} {a}")),
    ]
}

type Pending = Vec<(StreamId, Vec<u8>, u64, u64)>;
type GroupView = (Vec<u8>, StreamId, i64, Pending, Vec<Vec<u8>>);
type Entries = Vec<(StreamId, Vec<Vec<u8>>)>;
type View = (Entries, [StreamId; 2], u64, Vec<GroupView>);

/// Everything the native form carries (not: lifetime counters, consumers'
/// times, iids' insertion times).
fn view(s: &Stream) -> View {
    let entries = s
        .store
        .range(StreamId::MIN, StreamId::MAX)
        .map(|e| {
            (
                e.id(),
                e.fields()
                    .flat_map(|(f, v)| [f.to_vec(), v.to_vec()])
                    .collect(),
            )
        })
        .collect();
    let first = if s.is_empty() {
        StreamId::MIN
    } else {
        s.first_id
    };
    let groups = s
        .groups
        .iter()
        .map(|(n, g)| {
            (
                n.to_vec(),
                g.last_id,
                g.entries_read,
                g.pel()
                    .map(|(id, k)| (id, k.consumer().to_vec(), k.delivery_time, k.delivery_count))
                    .collect(),
                g.consumers().map(|c| c.name().to_vec()).collect(),
            )
        })
        .collect();
    (entries, [s.last_id, first], s.entries_added, groups)
}

fn records(s: &Stream) -> Vec<(Vec<u8>, Vec<u8>, StreamId)> {
    s.idmp
        .records()
        .map(|(p, i, id, _)| (p.to_vec(), i.to_vec(), id))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn native_form_rebuilds_the_stream(ops in proptest::collection::vec(op(), 1..60)) {
        let mut slot: Option<Stream> = None;
        let mut now = 1000;
        for line in &ops {
            now += 7;
            run_args(&mut slot, &words(line), &ctx(now), false);
        }
        let Some(s) = slot else { return Ok(()) };
        // The native forms leave out records naming IDs above last-generated-id.
        prop_assume!(records(&s).iter().all(|r| r.2 <= s.last_id));
        let mut loader = ctx(now);
        loader.trusted = true;
        for form in [Form::Convert, Form::Aof, Form::AofHostXdelex] {
            let mut back: Option<Stream> = None;
            for argv in native_commands(b"s", &s, Some(now), form) {
                let (out, _) = run_args(&mut back, &argv, &loader, false);
                prop_assert!(!out.starts_with('-'), "{:?} {:?}: {}", form,
                    argv.iter().map(|a| String::from_utf8_lossy(a).into_owned()).collect::<Vec<_>>(), out);
            }
            let b = back.expect("rebuilt");
            prop_assert_eq!(view(&b), view(&s), "{:?}", form);
            // AofHostXdelex leaves out records naming deleted entries.
            let want_records: Vec<_> = records(&s)
                .into_iter()
                .filter(|r| form != Form::AofHostXdelex || s.store.get(r.2).is_some())
                .collect();
            prop_assert_eq!(records(&b), want_records, "{:?}", form);
            prop_assert_eq!(b.idmp.settings(), s.idmp.settings());
            let want_md = match form {
                Form::Convert | Form::AofHostXdelex => s.max_deleted_id,
                // XDELEX of placeholders below the first entry (README, AOF).
                Form::Aof => {
                    let first = s.store.range(StreamId::MIN, StreamId::MAX).next().map(|e| e.id());
                    placeholders(&s, Some(now))
                        .into_iter()
                        .filter(|&id| first.is_none_or(|f| id < f))
                        .fold(s.max_deleted_id, StreamId::max)
                }
            };
            prop_assert_eq!(b.max_deleted_id, want_md, "{:?}", form);
        }
    }
}
