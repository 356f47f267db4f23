//! Records the commit the binary was built from as `AKTE_COMMIT`, shown by `akte --version`
//! and in the server's start line, so that an operator (and a bug report) can name the exact
//! code: git's short hash, `AKTE_COMMIT` from the environment when a packager sets it, or
//! `unknown` outside a git checkout.

use std::{path::PathBuf, process::Command};

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn main() {
    println!("cargo:rerun-if-env-changed=AKTE_COMMIT");
    let commit = std::env::var("AKTE_COMMIT")
        .ok()
        .filter(|c| !c.is_empty())
        .or_else(|| git(&["rev-parse", "--short=12", "HEAD"]))
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=AKTE_COMMIT={commit}");
    // Built again when the checked-out commit moves: HEAD, the branches and the packed refs,
    // each where git keeps it (a worktree has its own HEAD and shares the refs). Only paths
    // that exist: cargo reruns a script on every build while one of its paths is missing.
    for name in ["HEAD", "refs/heads", "packed-refs"] {
        if let Some(path) = git(&["rev-parse", "--git-path", name]).map(PathBuf::from)
            && path.exists()
        {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
}
