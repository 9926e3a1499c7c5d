//! What was computed from one generation of the replica ([`super::db::Db::generation`]),
//! kept until the next: the page data of [`super::db::Db::memo`] and the pages of
//! [`crate::web::kept`]. Only the newest generation's values are kept, since no older one
//! can ever serve again: a write frees them all.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

/// Values of the newest generation, under a budget of weight (entries, bytes).
pub struct Shelf<K, V> {
    budget: usize,
    inner: Mutex<Inner<K, V>>,
}

struct Inner<K, V> {
    generation: u64,
    values: HashMap<K, (V, usize)>,
    weight: usize,
}

impl<K: Eq + Hash, V: Clone> Shelf<K, V> {
    /// An empty shelf holding at most `budget` of weight.
    pub fn new(budget: usize) -> Self {
        Self { budget, inner: Mutex::new(Inner { generation: 0, values: HashMap::new(), weight: 0 }) }
    }

    /// The value kept under `key`, if the replica is still at the `generation` it was
    /// computed from.
    pub fn get(&self, key: &K, generation: u64) -> Option<V> {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.values.get(key).filter(|_| inner.generation == generation).map(|(v, _)| v.clone())
    }

    /// Keeps `value`, computed from `generation` (read before computing it) and weighing
    /// `weight`. A newer generation empties the shelf first; a value of an older one is
    /// stale already and not kept; past the budget, the shelf empties: each value costs one
    /// computation to make again.
    pub fn put(&self, key: K, generation: u64, value: V, weight: usize) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if generation > inner.generation {
            inner.generation = generation;
            inner.values.clear();
            inner.weight = 0;
        }
        if generation < inner.generation {
            return;
        }
        if inner.weight + weight > self.budget {
            inner.values.clear();
            inner.weight = 0;
        }
        inner.weight += weight;
        if let Some((_, old)) = inner.values.insert(key, (value, weight)) {
            inner.weight -= old;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Shelf;

    #[test]
    fn a_shelf_holds_the_newest_generation_within_its_budget() {
        let shelf = Shelf::new(3);
        shelf.put("a", 5, 1, 1);
        shelf.put("b", 5, 2, 1);
        assert_eq!((shelf.get(&"a", 5), shelf.get(&"b", 5)), (Some(1), Some(2)));
        assert_eq!(shelf.get(&"a", 6), None, "the replica changed");
        shelf.put("a", 5, 9, 1);
        assert_eq!(shelf.get(&"a", 5), Some(9), "replaced, weighed once");
        shelf.put("c", 5, 3, 1);
        assert_eq!(shelf.get(&"b", 5), Some(2), "within the budget");
        shelf.put("d", 5, 4, 1);
        assert_eq!((shelf.get(&"a", 5), shelf.get(&"d", 5)), (None, Some(4)), "past it, emptied");
        shelf.put("e", 4, 5, 1);
        assert_eq!(shelf.get(&"e", 4), None, "older than the shelf: stale");
        shelf.put("f", 6, 6, 1);
        assert_eq!((shelf.get(&"d", 5), shelf.get(&"f", 6)), (None, Some(6)), "a newer one empties it");
    }
}
