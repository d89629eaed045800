//! A small in-isolate cache in front of KV for the hottest reads.
//!
//! A Worker isolate serves many requests; keeping the last few hundred
//! rendered answers in its memory saves a KV round trip on each. Entries live
//! at most `ttl_ms`, so another isolate's change is seen within that time
//! (KV itself takes up to 60 s to propagate, so this adds no new kind of
//! staleness); the isolate that makes a change drops its entries at once.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// An LRU-less bounded map with expiry: when full, expired entries are
/// dropped first, then everything (a rare, cheap reset beats bookkeeping).
pub struct HotCache<V> {
    map: RefCell<HashMap<String, (Rc<V>, i64)>>,
    max_entries: usize,
    ttl_ms: i64,
}

impl<V> HotCache<V> {
    /// A cache of at most `max_entries`, each kept `ttl_ms`.
    pub fn new(max_entries: usize, ttl_ms: i64) -> Self {
        Self { map: RefCell::new(HashMap::new()), max_entries, ttl_ms }
    }

    /// The live entry under `key` at `now_ms`.
    pub fn get(&self, key: &str, now_ms: i64) -> Option<Rc<V>> {
        let map = self.map.borrow();
        map.get(key).filter(|(_, exp)| *exp > now_ms).map(|(v, _)| Rc::clone(v))
    }

    /// Stores `value` under `key` until `now_ms + ttl`.
    pub fn put(&self, key: &str, value: Rc<V>, now_ms: i64) {
        let mut map = self.map.borrow_mut();
        if map.len() >= self.max_entries && !map.contains_key(key) {
            map.retain(|_, (_, exp)| *exp > now_ms);
            if map.len() >= self.max_entries {
                map.clear();
            }
        }
        map.insert(key.to_owned(), (value, now_ms + self.ttl_ms));
    }

    /// Drops `key`.
    pub fn remove(&self, key: &str) {
        self.map.borrow_mut().remove(key);
    }

    /// Number of entries, live or not.
    pub fn len(&self) -> usize {
        self.map.borrow().len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_the_cache_stays_bounded() {
        let c = HotCache::new(2, 100);
        c.put("a", Rc::new(1), 0);
        assert_eq!(c.get("a", 99).as_deref(), Some(&1));
        assert_eq!(c.get("a", 100), None);
        c.put("b", Rc::new(2), 50);
        c.put("c", Rc::new(3), 120); // "a" expired: dropped to make room
        assert_eq!(c.len(), 2);
        c.put("d", Rc::new(4), 130); // full of live entries: reset
        assert_eq!(c.len(), 1);
        assert_eq!(c.get("d", 130).as_deref(), Some(&4));
        c.remove("d");
        assert!(c.is_empty());
    }
}
