//! Borrowed views of entries and the range iterators (zero copy: every byte
//! slice points into a node buffer).

use super::node::{Node, FLAG_DELETED};
use super::varint;
use crate::stream::id::StreamId;

/// One entry, borrowed from its node.
#[derive(Clone, Copy, Debug)]
pub struct Entry<'a> {
    id: StreamId,
    count: usize,
    /// The encoded pairs (names omitted when `master` is set).
    data: &'a [u8],
    /// The node's encoded master names when the entry shares them.
    master: Option<&'a [u8]>,
}

impl<'a> Entry<'a> {
    pub(super) fn new(
        id: StreamId,
        count: usize,
        data: &'a [u8],
        master: Option<&'a [u8]>,
    ) -> Entry<'a> {
        Entry {
            id,
            count,
            data,
            master,
        }
    }

    /// The entry's ID.
    pub fn id(&self) -> StreamId {
        self.id
    }

    /// Number of field/value pairs.
    pub fn field_count(&self) -> usize {
        self.count
    }

    /// The field/value pairs in insertion order.
    pub fn fields(&self) -> FieldIter<'a> {
        FieldIter {
            left: self.count,
            data: self.data,
            pos: 0,
            master: self.master,
            mpos: 0,
        }
    }
}

/// Iterates the `(field, value)` pairs of an entry.
#[derive(Clone, Debug)]
pub struct FieldIter<'a> {
    left: usize,
    data: &'a [u8],
    pos: usize,
    master: Option<&'a [u8]>,
    mpos: usize,
}

impl<'a> FieldIter<'a> {
    fn read(&mut self) -> Option<(&'a [u8], &'a [u8])> {
        let field = match self.master {
            Some(m) => {
                let (f, next) = varint::get_bytes(m, self.mpos)?;
                self.mpos = next;
                f
            }
            None => {
                let (f, next) = varint::get_bytes(self.data, self.pos)?;
                self.pos = next;
                f
            }
        };
        let (value, next) = varint::get_bytes(self.data, self.pos)?;
        self.pos = next;
        Some((field, value))
    }
}

impl<'a> Iterator for FieldIter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let item = self.read();
        if item.is_none() {
            self.left = 0;
        }
        item
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.left))
    }
}

/// A position inside one node.
struct Cursor<'a> {
    master_id: StreamId,
    node: &'a Node,
    pos: usize,
}

/// Ascending iterator over the live entries of an inclusive ID range.
pub struct RangeIter<'a> {
    nodes: super::index::Range<'a>,
    cur: Option<Cursor<'a>>,
    start: StreamId,
    end: StreamId,
    done: bool,
}

impl<'a> RangeIter<'a> {
    pub(super) fn new(
        nodes: super::index::Range<'a>,
        start: StreamId,
        end: StreamId,
    ) -> RangeIter<'a> {
        RangeIter {
            nodes,
            cur: None,
            start,
            end,
            done: start > end,
        }
    }
}

impl<'a> Iterator for RangeIter<'a> {
    type Item = Entry<'a>;

    fn next(&mut self) -> Option<Entry<'a>> {
        while !self.done {
            let Some(cur) = self.cur.as_mut() else {
                match self.nodes.next() {
                    Some((k, node)) => {
                        if k > self.end {
                            self.done = true;
                        } else {
                            self.cur = Some(Cursor {
                                master_id: k,
                                node,
                                pos: node.first_pos(),
                            });
                        }
                    }
                    None => self.done = true,
                }
                continue;
            };
            let Some(raw) = cur.node.entry_at(cur.master_id, cur.pos) else {
                self.cur = None;
                continue;
            };
            cur.pos = raw.next;
            let id = raw.entry.id();
            if id > self.end {
                self.done = true;
            } else if id >= self.start && raw.flags & FLAG_DELETED == 0 {
                return Some(raw.entry);
            }
        }
        None
    }
}

/// Descending iterator over the live entries of an inclusive ID range.
pub struct RevRangeIter<'a> {
    nodes: std::iter::Rev<super::index::Range<'a>>,
    cur: Option<Cursor<'a>>,
    start: StreamId,
    end: StreamId,
    done: bool,
}

impl<'a> RevRangeIter<'a> {
    pub(super) fn new(
        nodes: super::index::Range<'a>,
        start: StreamId,
        end: StreamId,
    ) -> RevRangeIter<'a> {
        RevRangeIter {
            nodes: nodes.rev(),
            cur: None,
            start,
            end,
            done: start > end,
        }
    }
}

impl<'a> Iterator for RevRangeIter<'a> {
    type Item = Entry<'a>;

    fn next(&mut self) -> Option<Entry<'a>> {
        while !self.done {
            let Some(cur) = self.cur.as_mut() else {
                match self.nodes.next() {
                    Some((k, node)) => {
                        self.cur = Some(Cursor {
                            master_id: k,
                            node,
                            pos: node.end_pos(),
                        });
                    }
                    None => self.done = true,
                }
                continue;
            };
            let raw = cur
                .node
                .entry_before(cur.pos)
                .and_then(|pos| Some((pos, cur.node.entry_at(cur.master_id, pos)?)));
            let Some((pos, raw)) = raw else {
                // Past the node's first entry: every earlier node has smaller IDs.
                if cur.master_id < self.start {
                    self.done = true;
                }
                self.cur = None;
                continue;
            };
            cur.pos = pos;
            let id = raw.entry.id();
            if id < self.start {
                self.done = true;
            } else if id <= self.end && raw.flags & FLAG_DELETED == 0 {
                return Some(raw.entry);
            }
        }
        None
    }
}
