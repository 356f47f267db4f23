//! Host bindings generated from `wit/` by `wasmtime::component::bindgen!`, one module per world.
//!
//! The `types` and `log` interfaces are generated once (in `extractor`) and shared by the
//! other worlds through `with`, so the host implements `log` once.

#![allow(missing_docs)]

/// The `akte:plugin/extractor` world.
pub mod extractor {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "akte:plugin/extractor",
        exports: { default: async },
    });
}

/// The `akte:plugin/enricher` world.
pub mod enricher {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "akte:plugin/enricher",
        exports: { default: async },
        with: {
            "akte:plugin/types": super::extractor::akte::plugin::types,
            "akte:plugin/log": super::extractor::akte::plugin::log,
        },
    });
}

/// The `akte:plugin/validator` world.
pub mod validator {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "akte:plugin/validator",
        exports: { default: async },
        with: {
            "akte:plugin/types": super::extractor::akte::plugin::types,
            "akte:plugin/log": super::extractor::akte::plugin::log,
        },
    });
}
