//! A bounded map of values kept for reuse across requests, shared by threads.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

/// At most `CAPACITY` values by key; when full, a new key empties it first (no eviction order to
/// keep up: what is used again is kept again at once). A poisoned lock keeps and finds nothing.
pub struct Kept<K, V, const CAPACITY: usize> {
    map: Mutex<HashMap<K, Arc<V>>>,
}

impl<K, V, const CAPACITY: usize> Default for Kept<K, V, CAPACITY> {
    fn default() -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash, V, const CAPACITY: usize> Kept<K, V, CAPACITY> {
    pub fn get<Q: Eq + Hash + ?Sized>(&self, key: &Q) -> Option<Arc<V>>
    where
        K: Borrow<Q>,
    {
        self.map.lock().ok()?.get(key).cloned()
    }

    pub fn keep(&self, key: K, value: V) {
        self.keep_shared(key, Arc::new(value));
    }

    /// [`Self::keep`] for a value the caller goes on using.
    pub fn keep_shared(&self, key: K, value: Arc<V>) {
        if let Ok(mut map) = self.map.lock() {
            if map.len() >= CAPACITY && !map.contains_key(&key) {
                map.clear();
            }
            map.insert(key, value);
        }
    }

    /// How many values are kept now.
    pub fn len(&self) -> usize {
        self.map.lock().map_or(0, |map| map.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn forget<Q: Eq + Hash + ?Sized>(&self, key: &Q)
    where
        K: Borrow<Q>,
    {
        if let Ok(mut map) = self.map.lock() {
            map.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Kept;

    #[test]
    fn kept_values_stay_within_their_bound() {
        let kept = Kept::<u32, u32, 2>::default();
        kept.keep(1, 10);
        kept.keep(2, 20);
        kept.keep(2, 21);
        assert_eq!(
            (kept.get(&1).as_deref(), kept.get(&2).as_deref()),
            (Some(&10), Some(&21))
        );
        kept.keep(3, 30);
        assert_eq!((kept.get(&1), kept.get(&3).as_deref()), (None, Some(&30)));
        assert_eq!(kept.len(), 1);
        kept.forget(&3);
        assert_eq!(kept.get(&3), None);
        assert!(kept.is_empty());
    }
}
