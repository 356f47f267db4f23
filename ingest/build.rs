//! Builds the built-in extractors (`plugins/guests/{txt,html,office,pdf,eml}`) as
//! WebAssembly components and embeds them, with their manifests, in this crate, so that
//! the `akte` binary carries every parser of uploaded bytes as a sandboxed component.
//!
//! The components are built by a nested `cargo build --target wasm32-wasip2` into
//! `<target dir>/wasm`, the same directory `plugins/build-guests.sh` uses, so whichever
//! runs second finds the work done.

use std::{
    env,
    path::{Path, PathBuf},
    process::Command,
};

/// The built-in extractors: the guest crate's directory name in `plugins/guests/`.
const BUILTIN: &[&str] = &["txt", "html", "office", "pdf", "eml"];

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = manifest_dir.parent().expect("ingest/ lies in the workspace");
    let guests = root.join("plugins/guests");
    println!("cargo:rerun-if-changed={}", guests.display());
    println!("cargo:rerun-if-changed={}", root.join("wit").display());
    println!("cargo:rerun-if-changed={}", root.join(".cargo/config.toml").display());
    println!("cargo:rerun-if-env-changed=AKTE_BUILTIN_PLUGINS");

    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    // A directory of prebuilt components (<name>.wasm) replaces the nested build.
    let built = match env::var_os("AKTE_BUILTIN_PLUGINS") {
        Some(dir) => PathBuf::from(dir),
        None => build_guests(&guests, &out),
    };

    let mut code = String::from("/// The built-in extractors: (name, manifest TOML, component bytes).\n");
    code.push_str("pub(crate) static BUILTIN: &[(&str, &str, &[u8])] = &[\n");
    for name in BUILTIN {
        let wasm = built.join(format!("akte_guest_{name}.wasm"));
        let wasm = if wasm.exists() { wasm } else { built.join(format!("{name}.wasm")) };
        if !wasm.exists() {
            panic!("the built-in plugin {name} was not built: {} is missing", wasm.display());
        }
        let toml = guests.join(name).join("plugin.toml");
        println!("cargo:rerun-if-changed={}", wasm.display());
        code.push_str(&format!(
            "    ({name:?}, include_str!({:?}), include_bytes!({:?})),\n",
            toml.display().to_string(),
            wasm.display().to_string()
        ));
    }
    code.push_str("];\n");
    std::fs::write(out.join("builtin.rs"), code).expect("OUT_DIR is writable");
}

/// Runs the nested build; returns the directory holding `akte_guest_<name>.wasm`.
fn build_guests(guests: &Path, out: &Path) -> PathBuf {
    // OUT_DIR is <target>/<profile>/build/<package>-<hash>/out (one level deeper when
    // cross-compiling); the guests get <target>/wasm.
    let target = out
        .ancestors()
        .find(|p| p.join("CACHEDIR.TAG").exists())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| out.join("guests"));
    let wasm_target = target.join("wasm");
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    // From the repository root, where cargo finds .cargo/config.toml (the guests' rustflags,
    // the same as plugins/build-guests.sh uses).
    cmd.current_dir(guests.parent().and_then(Path::parent).expect("plugins/guests lies in the repository"))
        .arg("build")
        .arg("--locked")
        .arg("--release")
        .args(["--target", "wasm32-wasip2"])
        .arg("--manifest-path")
        .arg(guests.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &wasm_target);
    for name in BUILTIN {
        cmd.args(["-p", &format!("akte-guest-{name}")]);
    }
    // What the outer build sets for its own compilation must not leak into the guests'
    // (clippy's wrapper, host rustflags, the host target).
    for var in [
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "CARGO_PRIMARY_PACKAGE",
        "RUSTC",
        "RUSTDOC",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd.status().expect("cargo runs");
    if !status.success() {
        panic!(
            "building the built-in plugins for wasm32-wasip2 failed; is the target installed? \
             Run `bash scripts/setup.sh` (it runs `rustup target add wasm32-wasip2`)"
        );
    }
    wasm_target.join("wasm32-wasip2/release")
}
