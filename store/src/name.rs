//! The name of a content-addressed object: the 32 bytes of its keyed BLAKE3 hash.
//!
//! Names are written as 64 lowercase hex digits everywhere (journal entries, records,
//! manifests, the catalog cache, object paths, the API), and compared, sorted and hashed as
//! their bytes, which order the same way. A node holds a dozen names per Dokument in its
//! catalog (ops, pack members, contents, derived results); as 32 bytes in place each costs a
//! third of what a 64-character string on the heap did (24 bytes of `String`, 64 of text
//! and the allocator's share), and a name that is not 64 lowercase hex digits cannot exist.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

/// The name of a content-addressed object.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name([u8; 32]);

/// A text that is not an object name (64 lowercase hex digits).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an object name (64 lowercase hex digits)")]
pub struct NotAName(pub String);

impl Name {
    /// The name with these bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Name {
        Name(bytes)
    }

    /// The name that is this hash.
    pub fn from_hash(hash: blake3::Hash) -> Name {
        Name(*hash.as_bytes())
    }

    /// The name's 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The name written as 64 lowercase hex digits, `None` for anything else (upper case
    /// too: a name has one spelling). A table lookup per digit: opening a repository
    /// decodes every name of its catalog cache.
    pub fn parse(text: &str) -> Option<Name> {
        const INVALID: u8 = 0xff;
        const DIGITS: [u8; 256] = {
            let mut t = [INVALID; 256];
            let mut i = 0;
            while i < 10 {
                t[b'0' as usize + i] = i as u8;
                i += 1;
            }
            let mut i = 0;
            while i < 6 {
                t[b'a' as usize + i] = 10 + i as u8;
                i += 1;
            }
            t
        };
        let hex: &[u8; 64] = text.as_bytes().try_into().ok()?;
        let mut bytes = [0u8; 32];
        let mut bad = 0u8;
        for (b, pair) in bytes.iter_mut().zip(hex.chunks_exact(2)) {
            let (hi, lo) = (DIGITS[pair[0] as usize], DIGITS[pair[1] as usize]);
            bad |= hi | lo;
            *b = (hi << 4) | (lo & 0x0f);
        }
        // Every valid digit is below 16; INVALID sets the high bits.
        (bad & 0xf0 == 0).then_some(Name(bytes))
    }

    /// The 64 hex digits, written into a buffer on the stack.
    pub fn hex(&self) -> Hex {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 64];
        for (pair, b) in out.chunks_exact_mut(2).zip(self.0) {
            pair[0] = DIGITS[(b >> 4) as usize];
            pair[1] = DIGITS[(b & 0x0f) as usize];
        }
        Hex(out)
    }
}

/// A name's 64 hex digits (see [`Name::hex`]).
#[derive(Clone, Copy)]
pub struct Hex([u8; 64]);

impl Hex {
    /// The digits as text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("hex digits are ASCII")
    }
}

impl std::ops::Deref for Hex {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.hex().as_str())
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Name({})", self.hex().as_str())
    }
}

impl FromStr for Name {
    type Err = NotAName;
    fn from_str(text: &str) -> Result<Name, NotAName> {
        Name::parse(text).ok_or_else(|| NotAName(text.chars().take(80).collect()))
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        Name::parse(other).is_some_and(|n| n == *self)
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        *self == **other
    }
}

impl Serialize for Name {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.hex().as_str())
    }
}

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Name, D::Error> {
        struct Visit;
        impl de::Visitor<'_> for Visit {
            type Value = Name;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object name (64 lowercase hex digits)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Name, E> {
                Name::parse(v).ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
            }
        }
        d.deserialize_str(Visit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_reads_and_writes_its_hex_and_orders_like_it() {
        let names: Vec<Name> = (0u8..50).map(|i| Name::from_hash(blake3::hash(&[i]))).collect();
        for n in &names {
            let hex = blake3::Hash::from_bytes(*n.as_bytes()).to_hex();
            assert_eq!(n.to_string(), hex.as_str());
            assert_eq!(Name::parse(hex.as_str()), Some(*n));
            assert_eq!(serde_json::to_string(n).unwrap(), format!("\"{}\"", hex.as_str()));
            assert_eq!(serde_json::from_str::<Name>(&format!("\"{}\"", hex.as_str())).unwrap(), *n);
            assert!(*n == *hex.as_str());
        }
        let mut by_bytes = names.clone();
        by_bytes.sort();
        let mut by_text: Vec<String> = names.iter().map(Name::to_string).collect();
        by_text.sort();
        assert_eq!(by_bytes.iter().map(Name::to_string).collect::<Vec<_>>(), by_text);
    }

    #[test]
    fn anything_but_64_lowercase_hex_digits_is_not_a_name() {
        let good = Name::from_hash(blake3::hash(b"x")).to_string();
        assert!(Name::parse(&good).is_some());
        for bad in ["g", "G", "A", " ", "\u{e4}"] {
            let text = format!("{bad}{}", &good[bad.len()..]);
            assert_eq!(Name::parse(&text), None, "{text:?}");
        }
        for bad in [String::new(), good[..63].to_string(), format!("{good}0"), good.to_uppercase()] {
            assert_eq!(Name::parse(&bad), None, "{bad:?}");
            assert!(serde_json::from_value::<Name>(serde_json::Value::String(bad.clone())).is_err());
            assert!(bad.parse::<Name>().unwrap_err().to_string().contains("not an object name"));
        }
        assert!(serde_json::from_str::<Name>("42").is_err());
    }
}
