//! The node index of a stream: its nodes in master-ID order, in chunks of
//! at most [`CHUNK`] nodes, each chunk a sorted vector with its first key.
//!
//! Nodes are appended at the end (IDs only grow), trimmed from the front,
//! and now and then removed from the middle (XDEL of a node's last live
//! entry). A `BTreeMap<StreamId, Node>` did all three in `O(log n)`, but its
//! half-full leaves and internal nodes cost about 178 bytes per node; the
//! host's radix tree costs about 32 to 46. Here a node costs its 24-byte
//! `Node` (whose key is in its buffer's header) and a share of its chunk's
//! spare capacity: chunks fill up completely as nodes are appended (their
//! capacity doubles up to [`CHUNK`]), so a long stream pays about 24.6
//! bytes a node and a one-node stream one chunk of four.
//!
//! Costs: the last node (every XADD) is one step away; finding a node is a
//! binary search of the chunks' first keys (contiguous) and then of one
//! chunk (reading each probed node's header); removing a node moves at most
//! one chunk's nodes (1.5 KiB), and an emptied chunk's slot moves the chunk
//! list (40 bytes per 64 nodes). A chunk that removals leave at a quarter
//! of its capacity gives half of it back, so removals cannot leave most of
//! the index empty.

use super::node::Node;
use crate::stream::id::StreamId;

/// Nodes per chunk when full: 64 x 24 bytes, one 1,536-byte allocation.
const CHUNK: usize = 64;

/// A run of nodes and the key of its first (never empty).
#[derive(Clone, Debug)]
struct Chunk {
    first: StreamId,
    nodes: Vec<Node>,
}

/// The nodes of a store, by master ID; no chunk is empty.
#[derive(Clone, Debug, Default)]
pub(super) struct NodeIndex {
    chunks: Vec<Chunk>,
    len: usize,
}

/// A position: chunk and offset in it; `(chunks.len(), 0)` is the end.
type Pos = (usize, usize);

impl NodeIndex {
    /// Number of nodes.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// The first node.
    pub(super) fn first(&self) -> Option<(StreamId, &Node)> {
        let n = self.chunks.first()?.nodes.first()?;
        Some((n.master_id(), n))
    }

    /// The first node, to change.
    pub(super) fn first_mut(&mut self) -> Option<(StreamId, &mut Node)> {
        let n = self.chunks.first_mut()?.nodes.first_mut()?;
        Some((n.master_id(), n))
    }

    /// The last node.
    pub(super) fn last(&self) -> Option<(StreamId, &Node)> {
        let n = self.chunks.last()?.nodes.last()?;
        Some((n.master_id(), n))
    }

    /// The last node, to change.
    #[inline]
    pub(super) fn last_mut(&mut self) -> Option<(StreamId, &mut Node)> {
        let n = self.chunks.last_mut()?.nodes.last_mut()?;
        Some((n.master_id(), n))
    }

    /// Appends a node, whose key must be above every key (the caller's
    /// guarantee; a node out of order is not stored).
    pub(super) fn push(&mut self, node: Node) {
        let key = node.master_id();
        if self.last().is_some_and(|(k, _)| k >= key) {
            debug_assert!(false, "node key out of order");
            return;
        }
        match self.chunks.last_mut() {
            Some(c) if c.nodes.len() < CHUNK => c.nodes.push(node),
            _ => {
                let mut nodes = Vec::with_capacity(4);
                nodes.push(node);
                self.chunks.push(Chunk { first: key, nodes });
            }
        }
        self.len += 1;
    }

    /// The first position whose key does not satisfy `below` (which holds
    /// for a prefix of the keys).
    fn partition(&self, below: impl Fn(StreamId) -> bool) -> Pos {
        // Chunks whose first key is below: the position is in the last of
        // them, or at its end (the start of the next chunk).
        let c = self.chunks.partition_point(|c| below(c.first));
        let Some(chunk) = c.checked_sub(1).and_then(|c| self.chunks.get(c)) else {
            return (0, 0);
        };
        let i = chunk.nodes.partition_point(|n| below(n.master_id()));
        if i < chunk.nodes.len() {
            (c - 1, i)
        } else {
            (c, 0)
        }
    }

    /// The position of the node keyed `key`.
    fn find(&self, key: StreamId) -> Option<Pos> {
        let (c, i) = self.partition(|k| k < key);
        let n = self.chunks.get(c)?.nodes.get(i)?;
        (n.master_id() == key).then_some((c, i))
    }

    /// The node keyed `key`, to change.
    pub(super) fn get_mut(&mut self, key: StreamId) -> Option<&mut Node> {
        let (c, i) = self.find(key)?;
        self.chunks.get_mut(c)?.nodes.get_mut(i)
    }

    /// The node with the greatest key not above `id`.
    pub(super) fn floor(&self, id: StreamId) -> Option<(StreamId, &Node)> {
        let (c, i) = self.partition(|k| k <= id);
        let n = match i.checked_sub(1) {
            Some(i) => self.chunks.get(c)?.nodes.get(i)?,
            None => self.chunks.get(c.checked_sub(1)?)?.nodes.last()?,
        };
        Some((n.master_id(), n))
    }

    /// The key after `key` (which need not be stored).
    pub(super) fn key_after(&self, key: StreamId) -> Option<StreamId> {
        let (c, i) = self.partition(|k| k <= key);
        self.chunks.get(c)?.nodes.get(i).map(Node::master_id)
    }

    /// Removes the node keyed `key`.
    pub(super) fn remove(&mut self, key: StreamId) -> Option<Node> {
        let (c, i) = self.find(key)?;
        self.remove_at(c, i)
    }

    /// Removes the first node.
    pub(super) fn remove_first(&mut self) -> Option<Node> {
        self.remove_at(0, 0)
    }

    fn remove_at(&mut self, c: usize, i: usize) -> Option<Node> {
        let chunk = self.chunks.get_mut(c)?;
        if i >= chunk.nodes.len() {
            return None;
        }
        let node = chunk.nodes.remove(i);
        match chunk.nodes.first() {
            None => {
                self.chunks.remove(c);
            }
            Some(first) => {
                chunk.first = first.master_id();
                let (len, cap) = (chunk.nodes.len(), chunk.nodes.capacity());
                if len * 4 <= cap && cap > 4 {
                    chunk.nodes.shrink_to(len * 2);
                }
            }
        }
        self.len -= 1;
        Some(node)
    }

    /// Every node, in key order.
    pub(super) fn iter(&self) -> Range<'_> {
        self.between((0, 0), (self.chunks.len(), 0))
    }

    /// The nodes keyed `from` or above.
    pub(super) fn range_from(&self, from: StreamId) -> Range<'_> {
        self.between(self.partition(|k| k < from), (self.chunks.len(), 0))
    }

    /// The nodes keyed `to` or below.
    pub(super) fn range_to(&self, to: StreamId) -> Range<'_> {
        self.between((0, 0), self.partition(|k| k <= to))
    }

    /// The node keyed `key`, if any, as a range.
    pub(super) fn range_key(&self, key: StreamId) -> Range<'_> {
        match self.find(key) {
            Some((c, i)) => self.between((c, i), (c, i + 1)),
            None => Range::default(),
        }
    }

    /// The nodes from position `a` up to, not including, `b`.
    fn between(&self, a: Pos, b: Pos) -> Range<'_> {
        let chunks = self.chunks.as_slice();
        if a >= b {
            return Range::default();
        }
        let nodes = |c: usize| chunks.get(c).map(|c| c.nodes.as_slice());
        let (head, middle, tail): (&[Node], &[Chunk], &[Node]) = if a.0 == b.0 {
            let head = nodes(a.0).and_then(|n| n.get(a.1..b.1));
            (head.unwrap_or_default(), &[], &[])
        } else {
            let head = nodes(a.0).and_then(|n| n.get(a.1..));
            let middle = chunks.get(a.0 + 1..b.0);
            let tail = nodes(b.0).and_then(|n| n.get(..b.1));
            (
                head.unwrap_or_default(),
                middle.unwrap_or_default(),
                tail.unwrap_or_default(),
            )
        };
        Range {
            inner: head
                .iter()
                .chain(middle.iter().flat_map(chunk_nodes as ChunkNodes))
                .chain(tail.iter()),
        }
    }

    /// Heap bytes of the index itself (the nodes' buffers not included).
    pub(super) fn heap_bytes(&self) -> usize {
        self.chunks.capacity() * std::mem::size_of::<Chunk>()
            + self
                .chunks
                .iter()
                .map(|c| c.nodes.capacity() * std::mem::size_of::<Node>())
                .sum::<usize>()
    }

    /// Every node (tests).
    #[cfg(test)]
    pub(super) fn values(&self) -> impl Iterator<Item = &Node> {
        self.iter().map(|(_, n)| n)
    }

    /// Every node, to change (tests).
    #[cfg(test)]
    pub(super) fn iter_mut(&mut self) -> impl Iterator<Item = (StreamId, &mut Node)> {
        self.chunks
            .iter_mut()
            .flat_map(|c| c.nodes.iter_mut())
            .map(|n| (n.master_id(), n))
    }
}

fn chunk_nodes(c: &Chunk) -> std::slice::Iter<'_, Node> {
    c.nodes.iter()
}

type ChunkNodes = for<'a> fn(&'a Chunk) -> std::slice::Iter<'a, Node>;

type Inner<'a> = std::iter::Chain<
    std::iter::Chain<
        std::slice::Iter<'a, Node>,
        std::iter::FlatMap<std::slice::Iter<'a, Chunk>, std::slice::Iter<'a, Node>, ChunkNodes>,
    >,
    std::slice::Iter<'a, Node>,
>;

/// Nodes of the index in key order, from either end, with their keys.
#[derive(Clone, Debug)]
pub(super) struct Range<'a> {
    inner: Inner<'a>,
}

impl Default for Range<'_> {
    fn default() -> Self {
        let none: &[Node] = &[];
        let no_chunks: &[Chunk] = &[];
        Range {
            inner: none
                .iter()
                .chain(no_chunks.iter().flat_map(chunk_nodes as ChunkNodes))
                .chain(none.iter()),
        }
    }
}

impl<'a> Iterator for Range<'a> {
    type Item = (StreamId, &'a Node);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next().map(|n| (n.master_id(), n))
    }
}

impl DoubleEndedIterator for Range<'_> {
    #[inline]
    fn next_back(&mut self) -> Option<Self::Item> {
        self.inner.next_back().map(|n| (n.master_id(), n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn id(n: u64) -> StreamId {
        StreamId::new(n, 0)
    }

    fn node(n: u64) -> Node {
        Node::new(id(n), &[b"f", format!("{n}").as_bytes()])
    }

    fn keys<'a>(r: impl Iterator<Item = (StreamId, &'a Node)>) -> Vec<u64> {
        r.map(|(k, _)| k.ms).collect()
    }

    /// The index against a `BTreeMap` of the same keys, after every step of
    /// appends, front removals and removals anywhere, over sizes that cross
    /// chunk boundaries.
    #[test]
    fn behaves_as_a_sorted_map() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut rnd = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n.max(1)
        };
        for round in 0..40 {
            let mut ix = NodeIndex::default();
            let mut model: BTreeMap<u64, ()> = BTreeMap::new();
            let mut next = 10u64;
            for _ in 0..(50 + round * 20) {
                match rnd(10) {
                    0..=5 => {
                        next += 1 + rnd(3) * 5;
                        ix.push(node(next));
                        model.insert(next, ());
                    }
                    6 => {
                        let got = ix.remove_first().is_some();
                        assert_eq!(got, model.pop_first().is_some());
                    }
                    _ => {
                        let k = rnd(next + 2);
                        assert_eq!(ix.remove(id(k)).is_some(), model.remove(&k).is_some());
                    }
                }
                assert_eq!(ix.len(), model.len());
                assert!(ix.chunks.iter().all(|c| !c.nodes.is_empty()
                    && c.nodes.len() <= CHUNK
                    && c.first == c.nodes[0].master_id()));
                let all: Vec<u64> = model.keys().copied().collect();
                assert_eq!(keys(ix.iter()), all);
                assert_eq!(
                    keys(ix.iter().rev()),
                    all.iter().rev().copied().collect::<Vec<_>>()
                );
                assert_eq!(ix.first().map(|(k, _)| k.ms), all.first().copied());
                assert_eq!(ix.last().map(|(k, _)| k.ms), all.last().copied());
                for _ in 0..8 {
                    let q = rnd(next + 3);
                    let from: Vec<u64> = model.range(q..).map(|(k, _)| *k).collect();
                    let to: Vec<u64> = model.range(..=q).map(|(k, _)| *k).collect();
                    assert_eq!(keys(ix.range_from(id(q))), from);
                    assert_eq!(
                        keys(ix.range_to(id(q)).rev()),
                        to.iter().rev().copied().collect::<Vec<_>>()
                    );
                    assert_eq!(ix.floor(id(q)).map(|(k, _)| k.ms), to.last().copied());
                    assert_eq!(
                        ix.key_after(id(q)).map(|k| k.ms),
                        model.range(q + 1..).next().map(|(k, _)| *k)
                    );
                    let one = keys(ix.range_key(id(q)));
                    assert_eq!(
                        one,
                        if model.contains_key(&q) {
                            vec![q]
                        } else {
                            vec![]
                        }
                    );
                    assert_eq!(ix.get_mut(id(q)).is_some(), model.contains_key(&q));
                    // A range walked from both ends meets in the middle.
                    let mut r = ix.range_from(id(q));
                    let (mut front, mut back) = (vec![], vec![]);
                    while let Some((k, _)) = r.next() {
                        front.push(k.ms);
                        if let Some((k, _)) = r.next_back() {
                            back.push(k.ms);
                        }
                    }
                    back.reverse();
                    front.extend(back);
                    assert_eq!(front, from);
                }
            }
        }
    }

    #[test]
    fn long_index_costs_about_its_pairs() {
        let mut ix = NodeIndex::default();
        for n in 1..=10_000 {
            ix.push(node(n));
        }
        let per_node = ix.heap_bytes() as f64 / 10_000.0;
        assert!(per_node < 26.0, "{per_node}");
        // Removing all but every 16th node gives most of it back.
        for n in 1..=10_000 {
            if n % 16 != 0 {
                ix.remove(id(n));
            }
        }
        assert!(ix.heap_bytes() < 625 * 24 * 3, "{}", ix.heap_bytes());
    }
}
