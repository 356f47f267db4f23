#!/usr/bin/env python3
"""Removes stale executables from a Cargo target directory.

Every build of the suite from a clone at a new path (as CI does) links a new set of test
and example binaries, hundreds of MB each with debug info, under new hashes; the old ones
are never used again and filled this machine's disk (45 GB in target/debug/deps after a
few weeks). For each name, this keeps the newest executable in `<profile>/deps` and
`<profile>/examples` and removes the others. Libraries and build-script outputs are left
alone, so nothing that a current build needs is lost; a removed binary is only relinked
if an older checkout asks for it again.

    python3 scripts/prune-target.py [TARGET_DIR]   (default: $CARGO_TARGET_DIR)
"""

import os
import re
import sys

HASHED = re.compile(r"^(.+)-[0-9a-f]{16}$")


def prune(directory: str) -> int:
    """Removes all but the newest executable per name in one directory; returns bytes freed."""
    newest: dict[str, list[tuple[float, str, int]]] = {}
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return 0
    for name in names:
        path = os.path.join(directory, name)
        match = HASHED.match(name)
        if not match or not os.path.isfile(path) or not os.access(path, os.X_OK):
            continue
        st = os.stat(path)
        newest.setdefault(match.group(1), []).append((st.st_mtime, path, st.st_size))
    freed = 0
    for versions in newest.values():
        versions.sort(reverse=True)
        for _, path, size in versions[1:]:
            os.remove(path)
            freed += size
    return freed


def main() -> None:
    target = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("CARGO_TARGET_DIR", "")
    if not target or not os.path.isdir(target):
        sys.exit(f"prune-target: no target directory {target!r}")
    freed = 0
    for root in (target, os.path.join(target, "wasm")):
        for profile in ("debug", "release"):
            for kind in ("deps", "examples"):
                freed += prune(os.path.join(root, profile, kind))
    print(f"prune-target: removed {freed / 2**30:.1f} GiB of stale executables", file=sys.stderr)


if __name__ == "__main__":
    main()
