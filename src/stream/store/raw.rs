//! Node-level access for persistence (RDB, replication of a whole value):
//! walk the nodes with their tombstones and rebuild the same nodes, so that
//! node boundaries, and with them approximate trimming, survive a reload as
//! they do for a native stream (whose RDB stores the listpacks as they are).

use super::iter::Entry;
use super::node::{Node, FLAG_DELETED};
use super::validate::validate;
use super::EntryStore;
use crate::stream::id::StreamId;

/// A view of one node.
#[derive(Clone, Copy, Debug)]
pub struct NodeView<'a> {
    master_id: StreamId,
    node: &'a Node,
}

impl<'a> NodeView<'a> {
    /// The node's key: the ID of its first entry (live or deleted).
    pub fn master_id(&self) -> StreamId {
        self.master_id
    }

    /// Live entries in the node.
    pub fn live(&self) -> u64 {
        self.node.live()
    }

    /// Entries flagged deleted in the node.
    pub fn deleted(&self) -> u64 {
        self.node.deleted()
    }

    /// The node's buffer as it is in memory (layout in the `node` module):
    /// what RDB encoding 3 writes, and [`EntryStore::adopt_node`] takes back.
    pub fn bytes(&self) -> &'a [u8] {
        self.node.bytes()
    }

    /// Number of master fields (kept in the node's header, which
    /// [`NodeView::bytes`] leaves out).
    pub fn master_count(&self) -> usize {
        self.node.master_count()
    }

    /// Every entry of the node in ID order, with its deleted flag.
    pub fn entries(&self) -> RawEntries<'a> {
        RawEntries {
            master_id: self.master_id,
            node: self.node,
            pos: self.node.first_pos(),
        }
    }
}

/// Iterates a node's entries, tombstones included: `(entry, deleted)`.
#[derive(Clone, Debug)]
pub struct RawEntries<'a> {
    master_id: StreamId,
    node: &'a Node,
    pos: usize,
}

impl<'a> Iterator for RawEntries<'a> {
    type Item = (Entry<'a>, bool);

    fn next(&mut self) -> Option<Self::Item> {
        let raw = self.node.entry_at(self.master_id, self.pos)?;
        self.pos = raw.next;
        Some((raw.entry, raw.flags & FLAG_DELETED != 0))
    }
}

/// Iterates the nodes of a store in ID order.
#[derive(Clone, Debug)]
pub struct NodeIter<'a> {
    inner: super::index::Range<'a>,
}

impl<'a> Iterator for NodeIter<'a> {
    type Item = NodeView<'a>;

    fn next(&mut self) -> Option<NodeView<'a>> {
        let (k, node) = self.inner.next()?;
        Some(NodeView { master_id: k, node })
    }
}

impl EntryStore {
    /// The nodes in ID order (for persistence).
    pub fn nodes(&self) -> NodeIter<'_> {
        NodeIter {
            inner: self.nodes.iter(),
        }
    }

    /// ID of the first entry, deleted or not (`streamGetEdgeID(s,1,0,..)`,
    /// which XADD/XTRIM use to rewrite an approximate MINID for propagation).
    pub fn first_id_any(&self) -> Option<StreamId> {
        self.nodes.first().map(|(k, _)| k)
    }

    /// ID of the last entry, deleted or not.
    pub fn last_id_any(&self) -> Option<StreamId> {
        let (_, node) = self.nodes.last()?;
        node.last_id()
    }

    /// Takes a node buffer (as [`NodeView::bytes`] gave it) as the new last
    /// node, keyed `master_id`, after `validate` proved
    /// every invariant the readers rely on; its counters are recomputed from
    /// its entries. Fails, changing nothing, when the buffer is inconsistent
    /// or `master_id` is not greater than every stored ID.
    pub fn adopt_node(
        &mut self,
        master_id: StreamId,
        master_count: u64,
        buf: Vec<u8>,
    ) -> Result<(), &'static str> {
        if self.last_id_any().is_some_and(|last| master_id <= last) {
            return Err("node IDs out of order");
        }
        let node = validate(master_id, master_count, buf)?;
        let length = self
            .length
            .checked_add(node.live())
            .ok_or("too many entries")?;
        if let Some((_, tail)) = self.nodes.last_mut() {
            tail.shrink();
        }
        self.nodes.push(node);
        self.length = length;
        Ok(())
    }

    /// Rebuilds a stored entry (for persistence): appended to the tail node,
    /// or as the first entry of a new node when `new_node` is set or there is
    /// no node; `deleted` stores it as a tombstone. No node limits apply.
    /// Returns false, changing nothing, when `id` is not greater than every
    /// stored ID (deleted ones included).
    pub fn append_raw(
        &mut self,
        id: StreamId,
        fields: &[&[u8]],
        deleted: bool,
        new_node: bool,
    ) -> bool {
        if self.last_id_any().is_some_and(|last| id <= last) {
            return false;
        }
        let mut pushed = None;
        if let Some((master_id, tail)) = self.nodes.last_mut() {
            if new_node {
                tail.shrink();
            } else {
                let same = tail.same_fields(fields);
                tail.push(id, fields, same);
                pushed = Some(master_id);
            }
        }
        if pushed.is_none() {
            self.nodes.push(Node::new(id, fields));
        }
        let tail = self.nodes.last_mut().map(|(_, n)| n);
        match tail.and_then(|n| Some((n.entry_before(n.end_pos())?, n))) {
            Some((pos, node)) if deleted => {
                node.mark_deleted(pos);
            }
            _ => self.length += 1,
        }
        true
    }
}
