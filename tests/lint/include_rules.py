#!/usr/bin/env python3
"""The include rule of docs/DESIGN ("a process room never includes another
process room"), checked on what the compiler and the linker really used:

  * every object compiled from a file in monitor/, vcpu/ or devproc/ may
    depend on no header of another of those rooms. The headers come from
    the compiler's own dependency files (ninja -t deps), so an include that
    resolves through a -I path is caught as well as a "../vcpu/x.h";
  * every executable defined in one of those rooms links no object compiled
    from another room's sources, directly or through a static library
    (ninja -t query on the link step and on each library).

The ground floor (common/, ipc/, machine/, config/, policy/) and the
generated protobuf headers belong to no room and may be used by all; tests/
and bench/ are not rooms either.

Usage: include_rules.py SOURCE_ROOT BUILD_ROOT. Prints TAP; exits 1 on a
violation or when the build has no dependency record for an object it must
check (build first: meson compile, or meson test, which builds)."""
import json
import os
import subprocess
import sys

ROOMS = ("monitor", "vcpu", "devproc")


def ninja(build, *args):
    return subprocess.run(["ninja", "-C", build, "-t", *args], check=True,
                          capture_output=True, text=True).stdout


def place(path, src, build):
    """(area, path relative to it) of an absolute or build-relative path:
    area is 'src', 'build' or 'outside'."""
    p = os.path.normpath(os.path.join(build, path))
    for area, root in (("build", build), ("src", src)):
        rel = os.path.relpath(p, root)
        if not rel.startswith(".."):
            return area, rel
    return "outside", p


def room(rel):
    top = rel.split(os.sep, 1)[0]
    return top if top in ROOMS else None


def objects_by_source(src, build):
    """{object path relative to the build dir: source path relative to src}."""
    with open(os.path.join(build, "compile_commands.json")) as f:
        cmds = json.load(f)
    out = {}
    for c in cmds:
        area, rel = place(os.path.join(c["directory"], c["file"]), src, build)
        out[os.path.normpath(c["output"])] = (area, rel)
    return out


def header_deps(build):
    """{object: [dependency paths as ninja recorded them]} for every object
    that has a record."""
    deps, cur = {}, None
    for line in ninja(build, "deps").splitlines():
        if not line.strip():
            cur = None
        elif not line.startswith(" "):
            cur = os.path.normpath(line.split(":", 1)[0])
            deps[cur] = []
        elif cur is not None:
            deps[cur].append(line.strip())
    return deps


def link_inputs(build, target, seen=None):
    """Every object linked into target, through static libraries too."""
    seen = set() if seen is None else seen
    objs = []
    in_inputs = False
    for line in ninja(build, "query", target).splitlines():
        s = line.strip()
        if s.startswith("input:"):
            in_inputs = True
            continue
        if s.startswith("outputs:"):
            break
        if not in_inputs:
            continue
        s = s.lstrip("|").strip()
        if s.endswith(".o"):
            objs.append(os.path.normpath(s))
        elif s.endswith(".a") and not os.path.isabs(s) and s not in seen:
            seen.add(s)
            objs += link_inputs(build, s, seen)
    return objs


def main():
    src, build = (os.path.realpath(a) for a in sys.argv[1:3])
    srcs = objects_by_source(src, build)
    deps = header_deps(build)
    problems, checked = [], 0

    for obj, (area, rel) in sorted(srcs.items()):
        r = room(rel) if area == "src" else None
        if not r:
            continue
        if obj not in deps:
            problems.append(f"{obj} ({rel}): no dependency record; build first")
            continue
        checked += 1
        for d in deps[obj]:
            darea, drel = place(d, src, build)
            other = room(drel) if darea in ("src", "build") else None
            if other and other != r:
                problems.append(f"{rel} includes {drel} ({r}/ may not use {other}/)")

    with open(os.path.join(build, "meson-info", "intro-targets.json")) as f:
        targets = json.load(f)
    links = 0
    for t in targets:
        if t["type"] != "executable":
            continue
        _, where = place(t["defined_in"], src, build)
        r = room(where)
        if not r:
            continue
        for out in t["filename"]:
            exe = os.path.relpath(out, build)
            links += 1
            for obj in link_inputs(build, exe):
                area, rel = srcs.get(obj, ("unknown", obj))
                other = room(rel) if area == "src" else None
                if other and other != r:
                    problems.append(f"{exe} links {rel} ({r}/ may not use {other}/)")

    print("1..2")
    inc = [p for p in problems if " links " not in p]
    lnk = [p for p in problems if " links " in p]
    for n, (name, bad) in enumerate((("includes", inc), ("links", lnk)), 1):
        for p in bad:
            print(f"# {p}")
        ok = "ok" if not bad else "not ok"
        what = f"{checked} objects" if name == "includes" else f"{links} executables"
        print(f"{ok} {n} - no process room {name} another room's code ({what})")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
