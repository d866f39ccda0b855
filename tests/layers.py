#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The layer map of HACKING.md, checked against every #include "..." in the tree.

lib/: each file has a rank and includes only headers of its rank or below; the
substrates (lib/substrates/) see the core only through ALLOWED_CORE. Outside lib/, a
folder includes only the folders it is allowed to (FOLDER_USES), and no lib/ header:
everything else goes through <orbit.h>.

Usage: layers.py SOURCE_ROOT. Prints each violation; exits 1 if there is one.
"""
import re
import sys
from pathlib import Path

# Lower ranks come first; a file may include its own rank and the ones below.
LIB_RANKS = {
    "macro": 0, "log": 0, "clock": 0, "backoff": 0, "id": 0, "version": 0,
    "region": 1,
    "lease": 2,
    "bell": 3,
    "ring-layout": 4,
    "ring": 5, "ring-handle": 5, "ring-wait": 5,
    "fleet": 6, "subject": 6,
}
SUBSTRATE_RANK = 7
# What the substrates use of the core beyond <orbit.h>: the base helpers, the ring's
# waits and pollers, the fleet's lease table, liveness, and the contest's subject table.
ALLOWED_CORE = {"macro", "log", "clock", "backoff", "ring", "fleet", "lease", "subject"}

# Folder -> folders whose headers it may include (its own always).
FOLDER_USES = {
    "common": set(),
    "common/measure": {"common"},
    "common/testing": {"common"},
    "tools": {"common", "common/measure"},
    "tools/demo": {"tools", "common"},
    "bench": {"common", "common/measure", "common/testing"},
    "tests": {"common", "common/testing"},
    "tests/consumers": set(),
    "fuzz": {"common", "common/testing"},
    "examples": set(),
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


# The source folders; build trees (build*/, debhelper's obj-*/) lie outside them.
SOURCE_FOLDERS = ("lib", "include", "common", "tools", "bench", "tests", "fuzz", "examples")


def sources(root):
    found = []
    for top in SOURCE_FOLDERS:
        for path in sorted((root / top).rglob("*")):
            if path.suffix in (".c", ".h", ".cc") and path.is_file():
                found.append(path.relative_to(root))
    return found


def lib_rank(path):
    if path.parts[:2] == ("lib", "substrates"):
        return SUBSTRATE_RANK
    return LIB_RANKS.get(path.stem)


def main():
    root = Path(sys.argv[1])
    files = sources(root)
    headers = {}  # basename -> folders holding it
    for f in files:
        if f.suffix == ".h":
            headers.setdefault(f.name, set()).add(str(f.parent))
    lib_headers = {f.name for f in files if f.parts[0] == "lib" and f.suffix == ".h"}
    paths = {f.as_posix() for f in files}
    errors = []

    for f in files:
        folder = str(f.parent)
        if f.parts[0] == "lib" and lib_rank(f) is None:
            errors.append(f"{f}: not placed in a layer (tests/layers.py, LIB_RANKS)")
            continue
        for name in INCLUDE.findall((root / f).read_text(errors="replace")):
            where = f"{f}: includes \"{name}\""
            if f.parts[0] == "lib":
                own, rank = lib_rank(f), None
                if (f.parent / name).as_posix() in paths:
                    rank = lib_rank(f.parent / name)
                elif "lib/" + name in paths:
                    rank = lib_rank(Path("lib") / name)
                elif "lib/substrates/" + name in paths:
                    rank = SUBSTRATE_RANK
                if rank is None:
                    errors.append(f"{where}, which is not a lib/ header")
                elif (own == SUBSTRATE_RANK and rank < SUBSTRATE_RANK
                      and Path(name).stem not in ALLOWED_CORE):
                    errors.append(f"{where}: substrates use only {sorted(ALLOWED_CORE)}")
                elif rank > own:
                    errors.append(f"{where}, a higher layer")
                continue
            if folder not in FOLDER_USES:
                errors.append(f"{f}: folder {folder} is not in tests/layers.py, FOLDER_USES")
                break
            if name in lib_headers:
                errors.append(f"{where}, a lib/ header: use <orbit.h>")
                continue
            found = headers.get(Path(name).name, set())
            if folder in found or (f.parent / name).as_posix() in paths:
                continue
            allowed = found & FOLDER_USES[folder]
            if not allowed:
                errors.append(f"{where}, from {sorted(found) or 'nowhere'}: "
                              f"{folder} may use {sorted(FOLDER_USES[folder]) or 'only itself'}")

    for e in errors:
        print(e)
    print(f"{len(files)} files checked, {len(errors)} violations")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
