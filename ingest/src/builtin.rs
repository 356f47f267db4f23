//! The built-in extractors, compiled to components by `build.rs` and embedded here.

use akte_plugins::{Manifest, Plugin, PluginHost};

use crate::Result;

include!(concat!(env!("OUT_DIR"), "/builtin.rs"));

/// Loads the built-in extractors into a host (compiled once, then from the host's cache).
pub fn builtin_extractors(host: &PluginHost) -> Result<Vec<Plugin>> {
    BUILTIN
        .iter()
        .map(|(name, manifest, wasm)| {
            let manifest = Manifest::from_toml(manifest).unwrap_or_else(|e| panic!("built-in manifest {name}: {e}"));
            Ok(host.load(manifest, wasm)?)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_builtin_is_a_component_with_a_valid_manifest() {
        assert_eq!(super::BUILTIN.len(), 5);
        for (name, manifest, wasm) in super::BUILTIN {
            let m = akte_plugins::Manifest::from_toml(manifest).unwrap();
            assert_eq!(&m.name, name);
            assert_eq!(m.world, akte_plugins::World::Extractor);
            // The component-model layer header: magic, then version 0x0d and layer 1.
            assert_eq!(&wasm[..8], b"\0asm\x0d\0\x01\0", "{name} is not a component");
        }
    }
}
