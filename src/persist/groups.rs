//! Persistence of consumer groups: the RDB section (inside encoding 0, in
//! the slot that held a zero group count) and the AOF-rewrite commands.
//!
//! # RDB section
//!
//! ```text
//! group count G
//! G x { name bytes,                      (strictly ascending)
//!       last_id.ms, last_id.seq,
//!       entries_read                     (two's complement: -1 is u64::MAX)
//!       consumer count C,
//!       C x { name bytes,                (strictly ascending)
//!             seen_time, active_time     (active_time two's complement) }
//!       PEL count P,
//!       P x { id.ms, id.seq,             (strictly ascending)
//!             consumer index (< C), delivery_time, delivery_count } }
//! ```
//!
//! # AOF rewrite
//!
//! As Redis 7.0's `rewriteStreamObject`, under module names: per group
//! `idmp.xgroup CREATE key group last ENTRIESREAD n`, per consumer
//! `idmp.xgroup CREATECONSUMER key group name`, per pending entry
//! `idmp.xclaim key group consumer 0 id TIME t RETRYCOUNT n FORCE JUSTID`,
//! plus the trusted-only `DELETEDOK` for a pending entry whose stream entry
//! was deleted (7.0's rewrite loses those; the module keeps them), then per
//! consumer the trusted-only `idmp.xgroup SETCONSUMERTIME key group name
//! seen active` (7.0's replay resets seen-time to the load time).

use super::rdb::{CodecError, RdbRead, RdbWrite};
use crate::stream::groups::Groups;
use crate::stream::id::StreamId;
use crate::stream::Stream;

fn corrupt(what: &str) -> CodecError {
    CodecError::new(format!("idmp-strm: corrupt payload: {what}"))
}

fn write_id(w: &mut impl RdbWrite, id: StreamId) {
    w.write_u64(id.ms);
    w.write_u64(id.seq);
}

fn read_id(r: &mut impl RdbRead) -> Result<StreamId, CodecError> {
    let ms = r.read_u64()?;
    let seq = r.read_u64()?;
    Ok(StreamId::new(ms, seq))
}

/// Writes the groups section.
pub fn save_groups(g: &Groups, w: &mut impl RdbWrite) {
    w.write_u64(g.len() as u64);
    for (name, cg) in g.iter() {
        w.write_bytes(name);
        write_id(w, cg.last_id);
        w.write_u64(cg.entries_read as u64);
        let names: Vec<&[u8]> = cg.consumers().map(|c| c.name()).collect();
        w.write_u64(names.len() as u64);
        for c in cg.consumers() {
            w.write_bytes(c.name());
            w.write_u64(c.seen_time);
            w.write_u64(c.active_time as u64);
        }
        w.write_u64(cg.pending());
        for (id, n) in cg.pel() {
            write_id(w, id);
            let index = names.binary_search(&n.consumer()).unwrap_or(0);
            w.write_u64(index as u64);
            w.write_u64(n.delivery_time);
            w.write_u64(n.delivery_count);
        }
    }
}

/// Reads a time or count that is a signed 64-bit value on a native stream
/// (`mstime_t`, and XCLAIM's TIME / RETRYCOUNT in the AOF rewrite): larger
/// ones cannot come from a server and could not be rewritten.
fn read_signed(r: &mut impl RdbRead, what: &str) -> Result<u64, CodecError> {
    let v = r.read_u64()?;
    if i64::try_from(v).is_err() {
        return Err(corrupt(&format!("{what} {v} out of range")));
    }
    Ok(v)
}

/// Reads the groups section into `s.groups` (which must be empty).
pub fn load_groups(r: &mut impl RdbRead, s: &mut Stream) -> Result<(), CodecError> {
    let count = r.read_u64()?;
    let mut prev_group: Option<Vec<u8>> = None;
    for _ in 0..count {
        let name = r.read_bytes()?;
        if prev_group.as_ref().is_some_and(|p| *p >= name) {
            return Err(corrupt("consumer group names not in ascending order"));
        }
        let last_id = read_id(r)?;
        let entries_read = r.read_u64()? as i64;
        if entries_read < -1 {
            return Err(corrupt("group entries_read out of range"));
        }
        let cg = s
            .groups
            .create(&name, last_id, entries_read)
            .ok_or_else(|| corrupt("duplicate consumer group"))?;
        let consumers = r.read_u64()?;
        let mut names: Vec<Vec<u8>> = Vec::new();
        for _ in 0..consumers {
            let c = r.read_bytes()?;
            if names.last().is_some_and(|p| *p >= c) {
                return Err(corrupt("consumer names not in ascending order"));
            }
            let seen = read_signed(r, "consumer seen time")?;
            let active = r.read_u64()? as i64;
            if !cg.insert_consumer(&c, seen, active) {
                return Err(corrupt("duplicate consumer"));
            }
            names.push(c);
        }
        let pel = r.read_u64()?;
        let mut prev: Option<StreamId> = None;
        for _ in 0..pel {
            let id = read_id(r)?;
            if prev.is_some_and(|p| id <= p) {
                return Err(corrupt("PEL IDs not in ascending order"));
            }
            prev = Some(id);
            let index = r.read_u64()?;
            let owner = usize::try_from(index)
                .ok()
                .and_then(|i| names.get(i))
                .ok_or_else(|| corrupt(&format!("consumer index {index} out of range")))?;
            let time = read_signed(r, "PEL delivery time")?;
            let deliveries = read_signed(r, "PEL delivery count")?;
            cg.insert_nack(id, owner, time, deliveries)
                .map_err(|_| corrupt("bad PEL entry"))?;
        }
        prev_group = Some(name);
    }
    Ok(())
}

fn num<T: ToString>(v: T) -> Vec<u8> {
    v.to_string().into_bytes()
}

/// The AOF-rewrite commands of the groups of `s` under `key`.
pub fn rewrite_groups(key: &[u8], s: &Stream) -> Vec<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    for (name, cg) in s.groups.iter() {
        out.push(vec![
            b"idmp.xgroup".to_vec(),
            b"CREATE".to_vec(),
            key.to_vec(),
            name.to_vec(),
            cg.last_id.to_bytes(),
            b"ENTRIESREAD".to_vec(),
            num(cg.entries_read),
        ]);
        for c in cg.consumers() {
            out.push(vec![
                b"idmp.xgroup".to_vec(),
                b"CREATECONSUMER".to_vec(),
                key.to_vec(),
                name.to_vec(),
                c.name().to_vec(),
            ]);
        }
        for (id, n) in cg.pel() {
            let mut argv = vec![
                b"idmp.xclaim".to_vec(),
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
            ];
            if s.store.get(id).is_none() {
                argv.push(b"DELETEDOK".to_vec());
            }
            out.push(argv);
        }
        // Last: the claims above refreshed the consumers' seen-time.
        for c in cg.consumers() {
            out.push(vec![
                b"idmp.xgroup".to_vec(),
                b"SETCONSUMERTIME".to_vec(),
                key.to_vec(),
                name.to_vec(),
                c.name().to_vec(),
                num(c.seen_time),
                num(c.active_time),
            ]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::aof::rewrite_commands;
    use super::super::rdb::{load_stream, save_stream, ENCODING_VERSION};
    use super::*;
    use crate::commands::testkit::{ctx, run, run_args};
    use crate::stream::store::NodeLimits;

    #[derive(Clone, Debug)]
    enum Item {
        U(u64),
        B(Vec<u8>),
    }

    #[derive(Default)]
    struct Buf(Vec<Item>);

    impl RdbWrite for Buf {
        fn write_u64(&mut self, v: u64) {
            self.0.push(Item::U(v));
        }
        fn write_bytes(&mut self, b: &[u8]) {
            self.0.push(Item::B(b.to_vec()));
        }
    }

    struct Reader(std::vec::IntoIter<Item>);

    impl RdbRead for Reader {
        fn read_u64(&mut self) -> Result<u64, CodecError> {
            match self.0.next() {
                Some(Item::U(v)) => Ok(v),
                _ => Err(CodecError::new("truncated")),
            }
        }
        fn read_bytes(&mut self) -> Result<Vec<u8>, CodecError> {
            match self.0.next() {
                Some(Item::B(b)) => Ok(b),
                _ => Err(CodecError::new("truncated")),
            }
        }
    }

    fn sample() -> Stream {
        let mut s = None;
        let c = ctx(5_000);
        for l in [
            "XADD s 1-1 a 1",
            "XADD s 2-1 b 2",
            "XADD s 3-1 c 3",
            "XADD s 4-1 d 4",
            "XGROUP CREATE s g 0",
            "XGROUP CREATE s h $ ENTRIESREAD 4",
            "XGROUP CREATE s empty 0",
            "XREADGROUP GROUP g alice COUNT 2 STREAMS s >",
            "XREADGROUP GROUP g bob STREAMS s >",
            "XCLAIM s g carol 0 2-1 RETRYCOUNT 9 IDLE 100",
            "XGROUP CREATECONSUMER s g idle",
            "XDEL s 1-1",
        ] {
            run(&mut s, l, &c);
        }
        s.unwrap()
    }

    fn save(s: &Stream) -> Vec<Item> {
        let mut b = Buf::default();
        save_stream(s, &mut b);
        b.0
    }

    fn load(items: Vec<Item>) -> Result<Stream, CodecError> {
        load_stream(
            &mut Reader(items.into_iter()),
            ENCODING_VERSION,
            NodeLimits::default(),
        )
    }

    #[test]
    fn rdb_round_trip_keeps_every_group_detail() {
        let s = sample();
        let back = load(save(&s)).unwrap();
        assert_eq!(back.groups, s.groups);
        let g = back.groups.get(b"g").unwrap();
        let n = g.nack(StreamId::new(2, 1)).unwrap();
        assert_eq!(
            (n.consumer(), n.delivery_time, n.delivery_count),
            (&b"carol"[..], 4_900, 9)
        );
        assert_eq!(back.groups.get(b"h").unwrap().entries_read, 4);
        assert_eq!(back.groups.get(b"empty").unwrap().entries_read, -1);
    }

    #[test]
    fn every_truncation_fails_cleanly() {
        let items = save(&sample());
        for cut in 0..items.len() {
            assert!(load(items[..cut].to_vec()).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn corrupt_group_sections_are_refused() {
        let s = sample();
        let items = save(&s);
        // Find the PEL consumer index of the first PEL entry of group "g"
        // and point it past the consumers.
        let pos = items
            .iter()
            .position(|i| matches!(i, Item::B(b) if b == b"g"))
            .unwrap();
        let mut bad = items.clone();
        // name, last(2), entries_read, consumer count (4 consumers x 3), PEL count, id(2), index
        let index_at = pos + 1 + 2 + 1 + 1 + 4 * 3 + 1 + 2;
        assert!(matches!(bad[index_at], Item::U(_)));
        bad[index_at] = Item::U(99);
        let e = load(bad).unwrap_err();
        assert!(e.to_string().contains("consumer index 99"), "{e}");
        // Group names out of order.
        let mut bad = items.clone();
        if let Item::B(b) = &mut bad[pos] {
            *b = b"zzz".to_vec();
        }
        assert!(load(bad).is_err());
        // entries_read below -1.
        let mut bad = items;
        bad[pos + 3] = Item::U((-2i64) as u64);
        assert!(load(bad).is_err());
    }

    #[test]
    fn aof_rewrite_rebuilds_groups() {
        let s = sample();
        let cmds = rewrite_commands(b"s", &s);
        let mut c = ctx(5_000);
        c.trusted = true;
        let mut slot = None;
        for argv in &cmds {
            let (out, _) = run_args(&mut slot, argv, &c, false);
            assert!(!out.starts_with('-'), "{argv:?}: {out}");
        }
        let back = slot.unwrap();
        let view = |g: &Groups| -> Vec<_> {
            g.iter()
                .map(|(n, cg)| {
                    (
                        n.to_vec(),
                        cg.last_id,
                        cg.entries_read,
                        cg.pel()
                            .map(|(i, x)| {
                                (i, x.consumer().to_vec(), x.delivery_time, x.delivery_count)
                            })
                            .collect::<Vec<_>>(),
                        cg.consumers()
                            .map(|c| (c.name().to_vec(), c.pel().collect::<Vec<_>>()))
                            .collect::<Vec<_>>(),
                    )
                })
                .collect()
        };
        assert_eq!(view(&back.groups), view(&s.groups));
        assert_eq!(back.groups, s.groups, "times included");
        assert!(cmds
            .iter()
            .any(|a| a.first().map(Vec::as_slice) == Some(&b"idmp.xclaim"[..])));
        // The pending entry of the deleted 1-1 is kept (DELETEDOK).
        assert!(back
            .groups
            .get(b"g")
            .unwrap()
            .nack(StreamId::new(1, 1))
            .is_some());
        // DELETEDOK is refused from clients.
        let mut slot = Some(back);
        let (out, _) = run(&mut slot, "XCLAIM s g x 0 1-1 FORCE DELETEDOK", &ctx(5_000));
        assert_eq!(out, "-ERR Unrecognized XCLAIM option 'DELETEDOK'\r\n");
    }

    /// Found by the `rdb_load` fuzz target: a PEL delivery time above
    /// i64::MAX (9511602412746780487) loaded, and the AOF rewrite's
    /// `idmp.xclaim ... TIME 9511602412746780487` was refused by the loader,
    /// so such an RDB could not be rewritten. Times and counts are signed
    /// on a native stream; larger ones are now a corrupt payload.
    #[test]
    fn times_and_counts_above_i64_are_corrupt() {
        let s = sample();
        let mut w = Buf::default();
        save_stream(&s, &mut w);
        // Every u64 equal to a saved delivery time, made too large in turn.
        let times: Vec<u64> = s
            .groups
            .iter()
            .flat_map(|(_, g)| g.pel().map(|(_, n)| n.delivery_time).collect::<Vec<_>>())
            .collect();
        assert!(!times.is_empty());
        let mut hit = 0;
        for (i, item) in w.0.iter().enumerate() {
            if matches!(item, Item::U(v) if times.contains(v)) {
                let mut bad = w.0.clone();
                bad[i] = Item::U(1 << 63);
                let mut r = Reader(bad.into_iter());
                if let Err(e) = load_stream(&mut r, ENCODING_VERSION, NodeLimits::default()) {
                    assert!(e.message.contains("out of range"), "{e}");
                    hit += 1;
                }
            }
        }
        assert!(hit > 0);
        // The largest signed value still loads.
        let mut ok = w.0.clone();
        for item in ok.iter_mut() {
            if matches!(item, Item::U(v) if times.contains(v)) {
                *item = Item::U(i64::MAX as u64);
                break;
            }
        }
        let mut r = Reader(ok.into_iter());
        assert!(load_stream(&mut r, ENCODING_VERSION, NodeLimits::default()).is_ok());
    }
}
