//! OCFL 1.1: a storage root with one object per Akte, the Akte's journal as the object's
//! versions.
//!
//! ```text
//! 0=ocfl_1.1                                   storage root declaration
//! ocfl_layout.json                             names the layout extension
//! extensions/0003-hash-and-id-n-tuple-storage-layout/config.json
//! <3 hex>/<3 hex>/<3 hex>/urn%3auuid%3a<akte id>/   one object per Akte
//!     0=ocfl_object_1.1
//!     inventory.json, inventory.json.sha512   the head inventory and its digest
//!     v1/inventory.json, v1/inventory.json.sha512, v1/content/…
//!     v2/…
//! ```
//!
//! The object id is `urn:uuid:<Akte id>`: stable when the Aktenzeichen changes, and a
//! registered URN namespace. Objects are placed by the registered extension
//! 0003-hash-and-id-n-tuple-storage-layout (SHA-256 of the id, three tuples of three
//! characters, then the percent-encoded id), which third-party tools can resolve.
//!
//! Each journal entry that touches the Akte becomes one version (`created` is the
//! entry's time, `user` its actor, `message` a summary of its changes); the version's
//! state is the Akte directory of `meta` as it stood after that entry. Digests are
//! SHA-512; unchanged files are stored once.

mod export;
mod import;
pub mod inventory;

pub use export::export_ocfl;
pub use import::{import_ocfl, import_ocfl_gated};

use sha2::Digest;

/// The storage root declaration file and its content.
pub const ROOT_DECLARATION: (&str, &str) = ("0=ocfl_1.1", "ocfl_1.1\n");
/// The object declaration file and its content.
pub const OBJECT_DECLARATION: (&str, &str) = ("0=ocfl_object_1.1", "ocfl_object_1.1\n");
/// The storage layout extension we use.
pub const LAYOUT: &str = "0003-hash-and-id-n-tuple-storage-layout";
/// Inventory file name.
pub const INVENTORY: &str = "inventory.json";
/// Inventory sidecar file name.
pub const SIDECAR: &str = "inventory.json.sha512";

/// The OCFL object id of an Akte.
pub fn object_id(akte: uuid::Uuid) -> String {
    format!("urn:uuid:{akte}")
}

/// Where extension 0003 (SHA-256, tuple size 3, three tuples) puts an object, relative
/// to the storage root.
pub fn object_path(id: &str) -> String {
    hashed_path(id, 3, 3)
}

fn hashed_path(id: &str, tuple_size: usize, tuples: usize) -> String {
    let digest = hex::encode(sha2::Sha256::digest(id.as_bytes()));
    let mut encoded = String::new();
    for c in id.chars() {
        if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
            encoded.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                encoded.push_str(&format!("%{b:02x}"));
            }
        }
    }
    if encoded.len() > 100 {
        encoded = format!("{}-{digest}", &encoded[..100]);
    }
    let mut parts: Vec<&str> = (0..tuples).map(|i| &digest[i * tuple_size..(i + 1) * tuple_size]).collect();
    parts.push(&encoded);
    parts.join("/")
}

/// The sidecar's text for an inventory.
pub fn sidecar_text(inventory: &[u8]) -> String {
    format!("{} {INVENTORY}\n", crate::files::sha512_hex(inventory))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_0003_matches_the_extension() {
        // The example of the extension's specification.
        assert_eq!(object_path("object-01"), "3c0/ff4/240/object-01");
        assert_eq!(hashed_path("..hor/rib:le-$id", 3, 3), "487/326/d8c/%2e%2ehor%2frib%3ale-%24id");
        let long = "a".repeat(120);
        let p = object_path(&long);
        assert!(p.ends_with(&format!("{}-{}", "a".repeat(100), hex::encode(sha2::Sha256::digest(long.as_bytes())))));
    }
}
