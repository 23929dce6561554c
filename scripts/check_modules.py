#!/usr/bin/env python3
"""Prints the module graph of the library and checks it (docs/ARCHITECTURE.md, "Modules").

A module is a folder lib/dbn/<module>/; module A depends on module B when a file of A has a line
`#include "dbn/B/..."`. The graph must be acyclic, and every edge must be one that the table
ALLOWED below permits (the module table of docs/ARCHITECTURE.md). Exit status 0 when both hold, else 1
with the cycle or the edges named.

Usage: check_modules.py [--root DIR] [--no-allowed]
  --root DIR     the repository (default: the folder above this script)
  --no-allowed   check acyclicity only, not the table
"""
import argparse
import pathlib
import re
import sys

# module -> the modules it may include (besides itself). Keep in step with docs/ARCHITECTURE.md.
ALLOWED = {
    "core": set(),
    "hdf5": {"core"},
    "mpi": {"core"},
    "units": {"core"},
    "rbm": {"core", "units"},
    "hooks": {"core"},
    "data": {"core", "hdf5"},
    "table": {"core", "hdf5"},
    "train": {"core", "units", "rbm"},
    "observe": {"train", "rbm", "core", "units"},
    "dbn": {"core", "rbm", "hooks", "data", "units"},
    "estimate": {"core", "units", "rbm", "dbn", "mpi"},
    "finetune": {"core", "dbn", "hooks", "data", "train", "units", "rbm"},
    "model": {"dbn", "train", "estimate", "finetune", "core", "units", "rbm", "hooks", "data",
              "mpi"},
    "pretrain": {"core", "dbn", "train", "estimate", "data", "hooks", "model", "units", "rbm",
                 "mpi"},
    "io": {"model", "hdf5", "data", "core", "dbn", "train", "estimate", "finetune", "units",
           "rbm", "hooks"},
    "features": {"model", "io", "data", "dbn", "core", "hdf5", "table"},
    "predict": {"model", "finetune", "estimate", "dbn", "data", "hdf5", "core", "rbm", "units",
                "hooks", "train", "table"},
    "sample": {"core", "units", "rbm", "dbn", "data", "hooks", "hdf5"},
    "picture": {"core", "dbn", "rbm", "model", "train", "finetune", "units", "hooks", "data",
                "estimate", "mpi"},
    "bench": {"train", "finetune", "estimate", "core", "rbm", "units", "dbn", "data", "features"},
}
# Transitive inclusion is implied by the table's "depends on" (a module that may use rbm may name
# units and core, whose types appear in rbm's interface): the sets above spell those out.

INCLUDE = re.compile(r'^\s*#\s*include\s*"dbn/([A-Za-z0-9_]+)/')


def module_graph(root):
    lib = root / "lib" / "dbn"
    graph = {}
    for path in sorted(lib.rglob("*")):
        if path.suffix not in (".hpp", ".cpp", ".h", ".in") or not path.is_file():
            continue
        module = path.relative_to(lib).parts[0]
        if len(path.relative_to(lib).parts) < 2:
            continue  # a file directly in lib/dbn belongs to no module
        deps = graph.setdefault(module, {})
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            m = INCLUDE.match(line)
            if m and m.group(1) != module:
                deps.setdefault(m.group(1), f"{path.relative_to(root)}:{number}")
    return graph


def find_cycle(graph):
    """Returns one cycle as a list of modules [a, b, ..., a], or None."""
    state = {}  # module -> 1 on the current path, 2 done
    path = []

    def visit(m):
        state[m] = 1
        path.append(m)
        for d in sorted(graph.get(m, {})):
            if state.get(d) == 1:
                return path[path.index(d):] + [d]
            if d not in state:
                c = visit(d)
                if c:
                    return c
        path.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state:
            c = visit(m)
            if c:
                return c
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=pathlib.Path,
                    default=pathlib.Path(__file__).resolve().parent.parent)
    ap.add_argument("--no-allowed", action="store_true")
    args = ap.parse_args()
    graph = module_graph(args.root)
    if not graph:
        print(f"no modules under {args.root / 'lib' / 'dbn'}", file=sys.stderr)
        return 1
    print("module graph (module: the modules it includes):")
    for m in sorted(graph):
        print(f"  {m}: {' '.join(sorted(graph[m])) or '-'}")
    status = 0
    cycle = find_cycle(graph)
    if cycle:
        print("CYCLE: " + " -> ".join(cycle))
        for a, b in zip(cycle, cycle[1:]):
            print(f"  {a} -> {b}: {graph[a][b]}")
        status = 1
    else:
        print("acyclic")
    if not args.no_allowed:
        bad = [(m, d) for m in sorted(graph) for d in sorted(graph[m])
               if m not in ALLOWED or d not in ALLOWED[m]]
        for m, d in bad:
            why = "unknown module" if m not in ALLOWED else "not in the allowed table"
            print(f"NOT ALLOWED: {m} -> {d} ({why}; first at {graph[m][d]})")
        if bad:
            status = 1
        else:
            print("every edge is allowed by the module table")
    return status


if __name__ == "__main__":
    sys.exit(main())
