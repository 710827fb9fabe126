//! The way out (issue 15): the argument vectors that rebuild a module stream
//! as a **native** Redis 8.6 stream, with commands native 8.6.3 understands
//! only (`XADD` with explicit IDs, `XSETID`, `XGROUP`, `XCLAIM`, `XCFGSET`,
//! `XIDMPRECORD`, and to remove placeholders `XTRIM`/`XDEL` or `XDELEX`).
//!
//! Two uses, one order:
//!
//! - [`Form::Convert`]: the migration mode on a host with native IDMP runs
//!   these through `RedisModule_Call` against a temporary key;
//! - [`Form::Aof`]: the AOF rewrite with `idmp.aof-rewrite-native yes` (and
//!   always in migration mode). The same file must also replay on Redis 7.x
//!   with the module, where the AOF loader runs no command filter: the bare
//!   `XADD`/`XSETID`/`XGROUP`/`XCLAIM` build a native stream, the module's
//!   `XCFGSET` converts it in place into a module stream, and from then on
//!   only commands the module registers under their own names may follow
//!   (`XIDMPRECORD`, `XDELEX`).
//!
//! Order:
//!
//! 1. `XADD key <id> f v ...` for every live entry **and every placeholder**
//!    (an ID a tracked iid or a pending entry names whose entry was deleted:
//!    native `XIDMPRECORD` and `XCLAIM ... FORCE` need the entry to exist),
//!    in ID order; a stream with neither is created as Redis does it,
//!    `XADD key MAXLEN 0 0-1 x y`;
//! 2. `XSETID key <last> ENTRIESADDED <n> MAXDELETEDID <id>`;
//! 3. per group `XGROUP CREATE key g <last> ENTRIESREAD <n>`, per consumer
//!    `XGROUP CREATECONSUMER`, per pending entry
//!    `XCLAIM key g owner 0 <id> TIME <t> RETRYCOUNT <n> FORCE JUSTID`;
//! 4. `XCFGSET key IDMP-DURATION <d> IDMP-MAXSIZE <m>`;
//! 5. `XIDMPRECORD key pid iid id` per tracked iid, oldest first;
//! 6. the placeholders go: Convert: `XTRIM key MINID = <first live>` for
//!    those below the first live entry (trimming leaves
//!    max-deleted-entry-id alone) and `XDEL` for the others; Aof:
//!    `XDELEX key KEEPREF IDS n ...` (known to both hosts).
//!
//! Deletions keep the pending entries that name them (`XDEL`/`XTRIM`'s
//! default, `XDELEX KEEPREF`) and never touch the IDMP maps.
//!
//! What cannot be expressed: the lifetime counters `iids-added` (native
//! `XIDMPRECORD` counts each record) and `iids-duplicates`, the consumers'
//! seen/active times, the iids' insertion times (native 8.6.3 ages an iid by
//! its entry ID's milliseconds), and records or pending entries naming an ID
//! above last-generated-id (no native command can make one; they are left
//! out).

use std::collections::BTreeSet;

use crate::stream::id::StreamId;
use crate::stream::Stream;

/// Where the commands will run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// Through `RedisModule_Call` on a host with native IDMP (exact removal
    /// of the placeholders with XTRIM/XDEL).
    Convert,
    /// In an AOF that replays both on native 8.6 and on 7.x with the module.
    Aof,
    /// [`Form::Aof`] written on a host whose own `XDELEX` its AOF loader runs
    /// (Redis 8.2/8.4 with the module: the module's is `idmp.xdelex`, and the
    /// loader runs no filter), so nothing can remove a placeholder once
    /// `XCFGSET` has made the stream a module stream there. The placeholders
    /// of pending entries go with `XDEL` before `XCFGSET` (then `XSETID`
    /// again: its max-deleted-entry-id and entries-added are exact), and
    /// records naming deleted entries are left out (README, "What does not
    /// move").
    AofHostXdelex,
}

/// The field/value of a placeholder entry (removed again at step 6).
pub const PLACEHOLDER: [&[u8]; 2] = [b"idmp-placeholder", b""];

/// The part of a key name Redis Cluster hashes: the first `{...}` with
/// something inside, else the whole name.
pub fn hash_tag(key: &[u8]) -> &[u8] {
    if let Some(open) = key.iter().position(|&b| b == b'{') {
        if let Some(len) = key[open + 1..].iter().position(|&b| b == b'}') {
            if len > 0 {
                return &key[open + 1..open + 1 + len];
            }
        }
    }
    key
}

/// The temporary key a conversion builds under: in the same cluster slot as
/// `key` whenever a name can be (not for the empty name, nor for a name with
/// a `}` but no hash tag).
pub fn temporary_key(key: &[u8]) -> Vec<u8> {
    const SUFFIX: &[u8] = b":idmp-migrate-tmp";
    let mut out = Vec::with_capacity(key.len() + SUFFIX.len() + 2);
    if !key.is_empty() && hash_tag(key).len() == key.len() && !key.contains(&b'}') {
        out.push(b'{');
        out.extend_from_slice(key);
        out.push(b'}');
    } else {
        out.extend_from_slice(key);
    }
    out.extend_from_slice(SUFFIX);
    out
}

fn num<T: ToString>(v: T) -> Vec<u8> {
    v.to_string().into_bytes()
}

/// The tracked records `(pid, iid, id)` that the rebuild carries (not
/// expired at `now_ms`, not above last-generated-id), oldest first.
pub fn carried_records(s: &Stream, now_ms: Option<u64>) -> Vec<(&[u8], &[u8], StreamId)> {
    s.idmp
        .records()
        .filter(|&(_, _, id, time)| {
            id <= s.last_id && !now_ms.is_some_and(|now| s.idmp.expired_at(time, now))
        })
        .map(|(p, i, id, _)| (p, i, id))
        .collect()
}

/// IDs that records or pending entries name, that hold no live entry and
/// are not above last-generated-id.
pub fn placeholders(s: &Stream, now_ms: Option<u64>) -> BTreeSet<StreamId> {
    placeholders_of(s, now_ms, true)
}

/// [`placeholders`], of the pending entries alone when `records` is false.
fn placeholders_of(s: &Stream, now_ms: Option<u64>, records: bool) -> BTreeSet<StreamId> {
    let mut out = BTreeSet::new();
    for (_, _, id) in carried_records(s, now_ms).into_iter().filter(|_| records) {
        out.insert(id);
    }
    for (_, g) in s.groups.iter() {
        for (id, _) in g.pel() {
            if id <= s.last_id {
                out.insert(id);
            }
        }
    }
    out.retain(|&id| s.store.get(id).is_none());
    out
}

/// The commands that rebuild `s` as a native stream at `key` (see the module
/// documentation for the order). `now_ms` leaves out iids expired then.
pub fn native_commands(
    key: &[u8],
    s: &Stream,
    now_ms: Option<u64>,
    form: Form,
) -> Vec<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let _ = for_each_native_command(key, s, now_ms, form, &mut |argv| {
        out.push(argv);
        Ok::<(), std::convert::Infallible>(())
    });
    out
}

/// [`native_commands`] one command at a time, without holding them all (a
/// conversion or an AOF rewrite of a large stream); stops at the first error
/// `emit` returns.
pub fn for_each_native_command<E>(
    key: &[u8],
    s: &Stream,
    now_ms: Option<u64>,
    form: Form,
    emit: &mut dyn FnMut(Vec<Vec<u8>>) -> Result<(), E>,
) -> Result<(), E> {
    let ghosts = placeholders_of(s, now_ms, form != Form::AofHostXdelex);
    let xadd = |id: StreamId, fields: &mut dyn Iterator<Item = &[u8]>| {
        let mut argv = vec![b"XADD".to_vec(), key.to_vec(), id.to_bytes()];
        argv.extend(fields.map(<[u8]>::to_vec));
        argv
    };
    // 1. Entries and placeholders, merged in ID order.
    let mut any = false;
    let mut g = ghosts.iter().copied().peekable();
    for e in s.store.range(StreamId::MIN, StreamId::MAX) {
        while let Some(id) = g.next_if(|&id| id < e.id()) {
            emit(xadd(id, &mut PLACEHOLDER.iter().copied()))?;
        }
        emit(xadd(
            e.id(),
            &mut e.fields().flat_map(|(f, v)| [f, v].into_iter()),
        ))?;
        any = true;
    }
    for id in g {
        emit(xadd(id, &mut PLACEHOLDER.iter().copied()))?;
        any = true;
    }
    if !any && ghosts.is_empty() {
        emit(vec![
            b"XADD".to_vec(),
            key.to_vec(),
            b"MAXLEN".to_vec(),
            b"0".to_vec(),
            b"0-1".to_vec(),
            b"x".to_vec(),
            b"y".to_vec(),
        ])?;
    }
    // 2. Stream metadata.
    emit(vec![
        b"XSETID".to_vec(),
        key.to_vec(),
        s.last_id.to_bytes(),
        b"ENTRIESADDED".to_vec(),
        num(s.entries_added),
        b"MAXDELETEDID".to_vec(),
        s.max_deleted_id.to_bytes(),
    ])?;
    // 3. Groups, consumers, pending entries.
    for (name, cg) in s.groups.iter() {
        emit(vec![
            b"XGROUP".to_vec(),
            b"CREATE".to_vec(),
            key.to_vec(),
            name.to_vec(),
            cg.last_id.to_bytes(),
            b"ENTRIESREAD".to_vec(),
            num(cg.entries_read),
        ])?;
        for c in cg.consumers() {
            emit(vec![
                b"XGROUP".to_vec(),
                b"CREATECONSUMER".to_vec(),
                key.to_vec(),
                name.to_vec(),
                c.name().to_vec(),
            ])?;
        }
        for (id, n) in cg.pel() {
            if id > s.last_id {
                continue;
            }
            emit(vec![
                b"XCLAIM".to_vec(),
                key.to_vec(),
                name.to_vec(),
                n.consumer().to_vec(),
                b"0".to_vec(),
                id.to_bytes(),
                b"TIME".to_vec(),
                num(n.delivery_time),
                b"RETRYCOUNT".to_vec(),
                num(n.delivery_count),
                b"FORCE".to_vec(),
                b"JUSTID".to_vec(),
            ])?;
        }
    }
    // (AofHostXdelex: the placeholders go while the stream is still native
    // on the host that replays it.)
    if form == Form::AofHostXdelex && !ghosts.is_empty() {
        remove_placeholders(key, s, &ghosts, emit)?;
    }
    // 4. Settings (before the records: a change clears them).
    let st = s.idmp.settings();
    emit(vec![
        b"XCFGSET".to_vec(),
        key.to_vec(),
        b"IDMP-DURATION".to_vec(),
        num(st.duration_secs),
        b"IDMP-MAXSIZE".to_vec(),
        num(st.maxsize),
    ])?;
    // 5. Records, oldest first.
    for (pid, iid, id) in carried_records(s, now_ms)
        .into_iter()
        .filter(|&(_, _, id)| form != Form::AofHostXdelex || s.store.get(id).is_some())
    {
        emit(vec![
            b"XIDMPRECORD".to_vec(),
            key.to_vec(),
            pid.to_vec(),
            iid.to_vec(),
            id.to_bytes(),
        ])?;
    }
    // 6. The placeholders go.
    if ghosts.is_empty() {
        return Ok(());
    }
    match form {
        Form::AofHostXdelex => {}
        Form::Aof => {
            let mut argv = vec![
                b"XDELEX".to_vec(),
                key.to_vec(),
                b"KEEPREF".to_vec(),
                b"IDS".to_vec(),
                num(ghosts.len()),
            ];
            argv.extend(ghosts.iter().map(|id| id.to_bytes()));
            emit(argv)?;
        }
        Form::Convert => remove_placeholders(key, s, &ghosts, emit)?,
    }
    Ok(())
}

/// Removes the placeholders exactly: `XTRIM key MINID = <first live>` for
/// those below the first live entry (a trim leaves max-deleted-entry-id
/// alone), `XDEL` for the others (deleted entries, so at or below it).
fn remove_placeholders<E>(
    key: &[u8],
    s: &Stream,
    ghosts: &BTreeSet<StreamId>,
    emit: &mut dyn FnMut(Vec<Vec<u8>>) -> Result<(), E>,
) -> Result<(), E> {
    let first_live = s
        .store
        .range(StreamId::MIN, StreamId::MAX)
        .next()
        .map(|e| e.id());
    let (lead, rest): (Vec<StreamId>, Vec<StreamId>) = ghosts
        .iter()
        .partition(|&&id| first_live.is_none_or(|f| id < f));
    if !lead.is_empty() {
        emit(match first_live {
            Some(f) => vec![
                b"XTRIM".to_vec(),
                key.to_vec(),
                b"MINID".to_vec(),
                b"=".to_vec(),
                f.to_bytes(),
            ],
            None => vec![
                b"XTRIM".to_vec(),
                key.to_vec(),
                b"MAXLEN".to_vec(),
                b"=".to_vec(),
                b"0".to_vec(),
            ],
        })?;
    }
    if !rest.is_empty() {
        let mut argv = vec![b"XDEL".to_vec(), key.to_vec()];
        argv.extend(rest.iter().map(|id| id.to_bytes()));
        emit(argv)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::idmp::IdmpSettings;
    use crate::stream::store::NodeLimits;

    fn argv(parts: &[&[u8]]) -> Vec<Vec<u8>> {
        parts.iter().map(|p| p.to_vec()).collect()
    }

    fn sample() -> Stream {
        let mut s = Stream::new(IdmpSettings {
            duration_secs: 300,
            maxsize: 5,
        });
        let l = NodeLimits::default();
        s.append(StreamId::new(1, 0), &[b"a", b"1"], l);
        s.append(StreamId::new(2, 0), &[b"b", b"2"], l);
        s.append(StreamId::new(3, 0), &[b"c", b"3"], l);
        s.append(StreamId::new(4, 0), &[b"d", b"4"], l);
        s.entries_added = 4;
        s.last_id = StreamId::new(4, 0);
        // 1-0 trimmed away, 3-0 deleted.
        s.delete(StreamId::new(1, 0));
        s.delete(StreamId::new(3, 0));
        s.max_deleted_id = StreamId::new(3, 0);
        s.refresh_first_id();
        s.idmp.record(b"p", b"i1", StreamId::new(1, 0), 1_000);
        s.idmp.record(b"p", b"i3", StreamId::new(3, 0), 1_001);
        s.idmp.record(b"q", b"j4", StreamId::new(4, 0), 1_002);
        s
    }

    #[test]
    fn temporary_keys_share_the_slot() {
        for key in [
            &b"s1"[..],
            b"{orders}a",
            b"a{b",
            b"x{y}z{w}",
            b"b\0{t}\xff",
            b"{",
        ] {
            let tmp = temporary_key(key);
            assert_ne!(tmp, key);
            assert_eq!(hash_tag(&tmp), hash_tag(key), "{key:?}");
        }
        assert_eq!(temporary_key(b"s1"), b"{s1}:idmp-migrate-tmp");
        assert_eq!(temporary_key(b"{orders}a"), b"{orders}a:idmp-migrate-tmp");
        // A '}' without a hash tag: no name shares the slot by its tag.
        assert_eq!(temporary_key(b"a}b"), b"a}b:idmp-migrate-tmp");
        assert_eq!(temporary_key(b"a{}b"), b"a{}b:idmp-migrate-tmp");
        assert_eq!(temporary_key(b""), b":idmp-migrate-tmp");
    }

    #[test]
    fn convert_form_uses_placeholders_and_removes_them_exactly() {
        let s = sample();
        let got = native_commands(b"k", &s, Some(1_500), Form::Convert);
        let want = vec![
            argv(&[b"XADD", b"k", b"1-0", b"idmp-placeholder", b""]),
            argv(&[b"XADD", b"k", b"2-0", b"b", b"2"]),
            argv(&[b"XADD", b"k", b"3-0", b"idmp-placeholder", b""]),
            argv(&[b"XADD", b"k", b"4-0", b"d", b"4"]),
            argv(&[
                b"XSETID",
                b"k",
                b"4-0",
                b"ENTRIESADDED",
                b"4",
                b"MAXDELETEDID",
                b"3-0",
            ]),
            argv(&[
                b"XCFGSET",
                b"k",
                b"IDMP-DURATION",
                b"300",
                b"IDMP-MAXSIZE",
                b"5",
            ]),
            argv(&[b"XIDMPRECORD", b"k", b"p", b"i1", b"1-0"]),
            argv(&[b"XIDMPRECORD", b"k", b"p", b"i3", b"3-0"]),
            argv(&[b"XIDMPRECORD", b"k", b"q", b"j4", b"4-0"]),
            argv(&[b"XTRIM", b"k", b"MINID", b"=", b"2-0"]),
            argv(&[b"XDEL", b"k", b"3-0"]),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn aof_form_removes_placeholders_with_xdelex() {
        let s = sample();
        let got = native_commands(b"k", &s, None, Form::Aof);
        assert_eq!(
            got.last(),
            Some(&argv(&[
                b"XDELEX", b"k", b"KEEPREF", b"IDS", b"2", b"1-0", b"3-0"
            ]))
        );
        // Only commands native 8.6.3 knows.
        for c in &got {
            assert!(
                [
                    &b"XADD"[..],
                    b"XSETID",
                    b"XGROUP",
                    b"XCLAIM",
                    b"XCFGSET",
                    b"XIDMPRECORD",
                    b"XDELEX"
                ]
                .contains(&c[0].as_slice()),
                "{:?}",
                String::from_utf8_lossy(&c[0])
            );
        }
    }

    #[test]
    fn empty_stream_and_groups() {
        let mut s = Stream::new(IdmpSettings::default());
        s.last_id = StreamId::new(9, 9);
        s.entries_added = 3;
        let g = s
            .groups
            .create(b"g", StreamId::new(9, 0), 2)
            .expect("group");
        g.insert_consumer(b"alice", 10, -1);
        g.insert_nack(StreamId::new(9, 0), b"alice", 1234, 3)
            .expect("nack");
        let got = native_commands(b"k", &s, None, Form::Convert);
        assert_eq!(
            got[0],
            argv(&[b"XADD", b"k", b"9-0", b"idmp-placeholder", b""])
        );
        assert!(got.contains(&argv(&[
            b"XGROUP",
            b"CREATE",
            b"k",
            b"g",
            b"9-0",
            b"ENTRIESREAD",
            b"2"
        ])));
        assert!(got.contains(&argv(&[
            b"XCLAIM",
            b"k",
            b"g",
            b"alice",
            b"0",
            b"9-0",
            b"TIME",
            b"1234",
            b"RETRYCOUNT",
            b"3",
            b"FORCE",
            b"JUSTID"
        ])));
        assert_eq!(
            got.last(),
            Some(&argv(&[b"XTRIM", b"k", b"MAXLEN", b"=", b"0"]))
        );
        let bare = Stream::new(IdmpSettings::default());
        let got = native_commands(b"k", &bare, None, Form::Aof);
        assert_eq!(
            got[0],
            argv(&[b"XADD", b"k", b"MAXLEN", b"0", b"0-1", b"x", b"y"])
        );
    }

    #[test]
    fn expired_and_out_of_range_records_are_left_out() {
        let mut s = sample();
        s.idmp.record(b"z", b"above", StreamId::new(99, 0), 1_003);
        let recs = |now| -> Vec<Vec<u8>> {
            native_commands(b"k", &s, now, Form::Aof)
                .into_iter()
                .filter(|c| c[0] == b"XIDMPRECORD")
                .map(|c| c[3].clone())
                .collect()
        };
        assert_eq!(recs(None).len(), 3);
        assert!(!placeholders(&s, None).contains(&StreamId::new(99, 0)));
        // duration 300 s: everything recorded at ~1 s is gone at 400 s.
        assert!(recs(Some(400_000)).is_empty());
    }
}
