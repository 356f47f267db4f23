#!/usr/bin/env python3
"""Checks that every crate Akte links is under a licence that fits EUPL-1.2.

Reads `cargo metadata` for the workspace's normal and build dependencies (test-only
crates are listed but not held to the rule) and evaluates each SPDX expression: an OR
needs one allowed side, an AND needs both. Exits 1 and names each crate that fails.
"""
import json
import re
import subprocess
import sys

# Permissive licences, and weak copyleft that EUPL-1.2 lists as compatible (MPL-2.0).
ALLOWED = {
    "MIT", "MIT-0", "Apache-2.0", "Apache-2.0 WITH LLVM-exception", "BSD-2-Clause", "BSD-3-Clause",
    "ISC", "Zlib", "Unicode-3.0", "Unicode-DFS-2016", "CC0-1.0", "MPL-2.0", "EUPL-1.2",
    "BSL-1.0", "0BSD", "Unlicense", "CDLA-Permissive-2.0", "OpenSSL",
}


def tokens(expr):
    return re.findall(r"\(|\)|[A-Za-z0-9.+-]+(?: WITH [A-Za-z0-9.+-]+)?", expr.replace("/", " OR "))


def allowed(expr):
    toks = tokens(expr)
    pos = 0

    def parse_or():
        nonlocal pos
        ok = parse_and()
        while pos < len(toks) and toks[pos] == "OR":
            pos += 1
            ok = parse_and() or ok
        return ok

    def parse_and():
        nonlocal pos
        ok = parse_atom()
        while pos < len(toks) and toks[pos] == "AND":
            pos += 1
            ok = parse_atom() and ok
        return ok

    def parse_atom():
        nonlocal pos
        t = toks[pos]
        pos += 1
        if t == "(":
            ok = parse_or()
            pos += 1
            return ok
        return t in ALLOWED

    return parse_or()


# The host binary's workspace, and the workspace of the built-in plugins (WebAssembly
# components that ship with Akte, so their dependencies count too).
MANIFESTS = ["Cargo.toml", "plugins/guests/Cargo.toml"]


def main():
    status = 0
    for manifest in MANIFESTS:
        status |= check(manifest)
    return status


def check(manifest):
    meta = json.loads(subprocess.check_output(
        ["cargo", "metadata", "--format-version", "1", "--locked", "--manifest-path", manifest]))
    packages = {p["id"]: p for p in meta["packages"]}
    nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
    workspace = set(meta["workspace_members"])
    # Walk normal and build edges from the workspace members: what ships in the binary.
    shipped, todo = set(), list(workspace)
    while todo:
        pid = todo.pop()
        if pid in shipped:
            continue
        shipped.add(pid)
        for dep in nodes[pid]["deps"]:
            kinds = {k["kind"] for k in dep["dep_kinds"]}
            if kinds & {None, "build"}:
                todo.append(dep["pkg"])
    bad = []
    for pid in sorted(shipped - workspace):
        p = packages[pid]
        lic = p.get("license")
        if not lic or not allowed(lic):
            bad.append(f"{p['name']} {p['version']}: {lic or 'no SPDX licence'}")
    for pid in workspace:
        if packages[pid].get("license") != "EUPL-1.2":
            bad.append(f"{packages[pid]['name']}: workspace crate not EUPL-1.2")
    if bad:
        print(f"{manifest}: licences that do not fit EUPL-1.2:", *bad, sep="\n  ")
        return 1
    print(f"{manifest}: {len(shipped - workspace)} shipped crates, all compatible with EUPL-1.2")
    return 0


if __name__ == "__main__":
    sys.exit(main())
