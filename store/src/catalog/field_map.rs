//! [`VecMap`]: a small map by name in one sorted vector, for the catalog's many small
//! maps (an object's fields, the derived results of a content).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A small map by name, sorted in one vector. Every node and command holds every object of
/// the repository: a B-tree map (`serde_json::Map`, `BTreeMap`) takes a node of about 540
/// to 630 bytes for even one entry, this takes what its entries take (56 bytes a field;
/// heaptrack of `akte ls` on 20,000 Dokumente: the objects' field maps were 25 of 85 MB,
/// the derived results 11). Lookups are binary searches over the few entries. Serialises
/// as a map.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VecMap<V>(Vec<(String, V)>);

/// An object's current fields.
pub type FieldMap = VecMap<Value>;

impl<V> Default for VecMap<V> {
    fn default() -> Self {
        VecMap(Vec::new())
    }
}

impl<V> VecMap<V> {
    /// No entries.
    pub fn new() -> Self {
        VecMap(Vec::new())
    }

    /// Entries already sorted by name, each name once (a B-tree's), shrunk to fit.
    fn from_sorted(entries: impl IntoIterator<Item = (String, V)>) -> Self {
        let mut v: Vec<(String, V)> = entries.into_iter().collect();
        v.shrink_to_fit();
        VecMap(v)
    }

    fn find(&self, name: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(name))
    }

    /// A field's value.
    pub fn get(&self, name: &str) -> Option<&V> {
        self.find(name).ok().map(|i| &self.0[i].1)
    }

    /// Whether the field is set.
    pub fn contains_key(&self, name: &str) -> bool {
        self.find(name).is_ok()
    }

    /// Sets a field; returns its value before.
    pub fn insert(&mut self, name: String, value: V) -> Option<V> {
        match self.find(&name) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, value)),
            Err(i) => {
                self.0.insert(i, (name, value));
                None
            }
        }
    }

    /// Removes a field; returns its value.
    pub fn remove(&mut self, name: &str) -> Option<V> {
        self.find(name).ok().map(|i| self.0.remove(i).1)
    }

    /// The fields by name.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&String, &V)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    /// The names, in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &String> {
        self.0.iter().map(|(k, _)| k)
    }

    /// The values, in the order of their names.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> {
        self.0.iter().map(|(_, v)| v)
    }

    /// How many fields are set.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Gives back the memory the vector grew by beyond its entries.
    pub(crate) fn shrink(&mut self) {
        self.0.shrink_to_fit();
    }
}

impl FieldMap {
    /// The fields as a JSON map.
    pub fn to_map(&self) -> Map<String, Value> {
        self.0.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }
}

impl From<Map<String, Value>> for FieldMap {
    fn from(map: Map<String, Value>) -> Self {
        // A `Map` iterates in key order.
        VecMap::from_sorted(map)
    }
}

impl From<FieldMap> for Map<String, Value> {
    fn from(fields: FieldMap) -> Self {
        fields.0.into_iter().collect()
    }
}

/// Equal to a JSON map with the same fields.
impl PartialEq<Map<String, Value>> for FieldMap {
    fn eq(&self, other: &Map<String, Value>) -> bool {
        self.len() == other.len() && self.iter().all(|(k, v)| other.get(k) == Some(v))
    }
}

/// `fields["title"]`, like a `serde_json::Map`: panics when the field is not set.
impl<V> std::ops::Index<&str> for VecMap<V> {
    type Output = V;

    fn index(&self, name: &str) -> &V {
        self.get(name).unwrap_or_else(|| panic!("no field {name}"))
    }
}

impl<'a, V> IntoIterator for &'a VecMap<V> {
    type Item = (&'a String, &'a V);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, (String, V)>, fn(&'a (String, V)) -> (&'a String, &'a V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl<V: Serialize> Serialize for VecMap<V> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for VecMap<V> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // A B-tree map sorts the names and keeps the last of a repeated one.
        Ok(VecMap::from_sorted(std::collections::BTreeMap::<String, V>::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn behaves_like_a_sorted_json_map() {
        let mut f = FieldMap::new();
        let mut m = Map::new();
        for (k, v) in
            [("title", json!("A")), ("az", json!(1)), ("title", json!("B")), ("zz", json!(null)), ("m", json!([1]))]
        {
            assert_eq!(f.insert(k.into(), v.clone()), m.insert(k.into(), v), "{k}");
        }
        assert_eq!(f.remove("az"), m.remove("az"));
        assert_eq!(f.remove("nope"), m.remove("nope"));
        assert_eq!(f.len(), m.len());
        assert_eq!(f.get("title"), Some(&json!("B")));
        assert!(f.contains_key("zz") && !f.contains_key("az"));
        assert_eq!(f.keys().collect::<Vec<_>>(), m.keys().collect::<Vec<_>>(), "names in order");
        assert_eq!(f.to_map(), m);
        assert_eq!(serde_json::to_string(&f).unwrap(), serde_json::to_string(&m).unwrap());
        let back: FieldMap = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back, f);
        assert_eq!(FieldMap::from(m.clone()), f);
        assert_eq!(Map::from(f), m);
    }
}
