//! An append-only Merkle tree as in RFC 9162 §2.1, kept as a compact frontier.
//!
//! Leaves are record hashes. The frontier holds the roots of the perfect
//! subtrees that make up the tree, so appending and computing the root cost
//! O(log n) and O(log n) memory.

use crate::format::{to_hash, Hash};
use ring::digest;

/// Hash of a leaf: `SHA-256(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(&[0x00]);
    ctx.update(data);
    to_hash(ctx.finish())
}

/// Hash of an interior node: `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(&[0x01]);
    ctx.update(left);
    ctx.update(right);
    to_hash(ctx.finish())
}

/// The incremental Merkle tree over record hashes.
#[derive(Debug, Clone, Default)]
pub struct MerkleFrontier {
    size: u64,
    /// Roots of perfect subtrees, largest (leftmost) first, with their heights.
    nodes: Vec<(u32, Hash)>,
}

impl MerkleFrontier {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends one leaf (a record hash).
    pub fn push(&mut self, record_hash: &Hash) {
        let mut node = (0u32, leaf_hash(record_hash));
        while let Some(&(height, left)) = self.nodes.last() {
            if height != node.0 {
                break;
            }
            self.nodes.pop();
            node = (height + 1, node_hash(&left, &node.1));
        }
        self.nodes.push(node);
        self.size += 1;
    }

    /// The Merkle tree head; the hash of the empty string for an empty tree.
    pub fn root(&self) -> Hash {
        let mut iter = self.nodes.iter().rev();
        match iter.next() {
            None => to_hash(digest::digest(&digest::SHA256, b"")),
            Some(&(_, last)) => iter.fold(last, |right, (_, left)| node_hash(left, &right)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The recursive definition from RFC 9162 §2.1.1, as a reference.
    fn mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => to_hash(digest::digest(&digest::SHA256, b"")),
            1 => leaf_hash(&leaves[0]),
            n => {
                let mut k = 1;
                while k * 2 < n {
                    k *= 2;
                }
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    #[test]
    fn frontier_matches_recursive_definition() {
        let leaves: Vec<Hash> = (0u8..40).map(|i| [i; 32]).collect();
        let mut frontier = MerkleFrontier::new();
        assert_eq!(frontier.root(), mth(&[]));
        for n in 1..=leaves.len() {
            frontier.push(&leaves[n - 1]);
            assert_eq!(frontier.root(), mth(&leaves[..n]), "size {n}");
        }
    }
}
