#!/usr/bin/env python3
"""The layout's rules, checked on the source tree (ctest lint.layout):

1. A module is a top-level folder with a CMakeLists.txt (tests/ and deploy/
   aside); its public header is MODULE/MODULE.h. Every module has one.
2. Code in one module includes another module's public header only, never
   its other headers (*_internal.h or private ones). common/ is a set of
   small utilities, each header its own public interface, so any of its
   headers may be included.
3. No include circle between modules.
4. A unit test or fuzzer is named test_<module>_<unit> / fuzz_<module>_<unit>
   after an existing module (or "support", the test library), and includes
   private headers of its own module only.

Prints every violation; exit status 1 if there is any. Usage:
check_layout.py SOURCE_DIR"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
SHARED = {"common"}


def modules(root):
    out = []
    for name in sorted(os.listdir(root)):
        path = os.path.join(root, name)
        if name in ("tests", "deploy") or name.startswith(".") or name.startswith("build"):
            continue
        if os.path.isfile(os.path.join(path, "CMakeLists.txt")):
            out.append(name)
    return out


def sources(root, folder):
    for dirpath, _, files in os.walk(os.path.join(root, folder)):
        for f in files:
            if f.endswith((".c", ".h")):
                yield os.path.join(dirpath, f)


def includes(path):
    with open(path, errors="replace") as f:
        return INCLUDE.findall(f.read())


def cycle(graph):
    """One include circle between modules, as a list, or None."""
    state = {}

    def visit(node, stack):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if not state.get(nxt):
                found = visit(nxt, stack)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if not state.get(node):
            found = visit(node, [])
            if found:
                return found
    return None


def check(root):
    errors = []
    mods = modules(root)
    graph = {m: set() for m in mods}
    for m in mods:
        if m not in SHARED and not os.path.isfile(os.path.join(root, m, m + ".h")):
            errors.append("%s/: no public header %s/%s.h" % (m, m, m))
        for path in sources(root, m):
            rel = os.path.relpath(path, root)
            for inc in includes(path):
                other = inc.split("/")[0]
                if "/" not in inc or other not in mods or other == m:
                    continue
                graph[m].add(other)
                if other not in SHARED and inc != "%s/%s.h" % (other, other):
                    errors.append("%s: includes %s, which is private to %s/ (use %s/%s.h)" %
                                  (rel, inc, other, other, other))
    found = cycle(graph)
    if found:
        errors.append("include circle between modules: " + " -> ".join(found))
    for kind, folder in (("test", "tests/unit"), ("fuzz", "tests/fuzz")):
        for f in sorted(os.listdir(os.path.join(root, folder))):
            if not f.endswith(".c"):
                continue
            m = re.match(r"%s_([a-z0-9]+)_[a-z0-9_]+\.c$" % kind, f)
            own = m.group(1) if m else None
            if own not in mods and own != "support":
                errors.append("%s/%s: not named %s_<module>_<unit>.c after a module (%s)" %
                              (folder, f, kind, ", ".join(mods)))
                continue
            for inc in includes(os.path.join(root, folder, f)):
                other = inc.split("/")[0]
                if "/" in inc and other in mods and other not in SHARED and other != own \
                        and inc != "%s/%s.h" % (other, other):
                    errors.append("%s/%s: includes %s, private to %s/" % (folder, f, inc, other))
    return errors, graph


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    errors, graph = check(root)
    for e in errors:
        print("layout: " + e)
    print("layout: %d modules, %d dependencies between them, %d problem%s" % (
        len(graph), sum(len(v) for v in graph.values()), len(errors), "" if len(errors) == 1 else "s"))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
