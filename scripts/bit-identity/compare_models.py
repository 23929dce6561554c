#!/usr/bin/python3
"""Compares two dbn model files: every dataset and attribute, bit for bit, except wall times and
the library version. Exit 1 and a list of differences when they differ.

With DBN_OLD_CHECK_NAMES=1 the first (older) file's /checks attributes are read under their
current names (docs/FORMAT.md lists the renames), so that a file written before the rename can
be compared with one written after it."""
import os, sys, h5py, numpy as np
RENAMES = {"free_energy_gap_se": "free_energy_gap_standard_error", "value": "log_z",
           "low": "log_z_low", "high": "log_z_high", "method": "log_z_method",
           "ess": "ais_effective_sample_size"}
SKIP = ("seconds", "library_version", "created", "time")
def skip(name): return any(s in name.lower() for s in SKIP)
def collect(f, rename=False):
    out = {}
    def visit(name, obj):
        for k, v in obj.attrs.items():
            if rename and name.startswith("checks/"): k = RENAMES.get(k, k)
            if not skip(k): out[name + "@" + k] = v
        if isinstance(obj, h5py.Dataset) and not skip(name):
            out[name] = obj[()]
    for k, v in f.attrs.items():
        if not skip(k): out["/@" + k] = v
    f.visititems(visit)
    return out
a = collect(h5py.File(sys.argv[1], "r"), os.environ.get("DBN_OLD_CHECK_NAMES") == "1")
b = collect(h5py.File(sys.argv[2], "r"))
bad = []
for k in sorted(set(a) | set(b)):
    if k not in a or k not in b: bad.append(f"only in one: {k}"); continue
    x, y = a[k], b[k]
    if isinstance(x, np.ndarray) and x.dtype.names:  # compound: compare field by field
        for n in x.dtype.names:
            if skip(n): continue
            if not np.array_equal(x[n], y[n], equal_nan=x[n].dtype.kind == 'f'): bad.append(f"{k}.{n}")
        continue
    try:
        eq = np.array_equal(np.asarray(x), np.asarray(y), equal_nan=np.asarray(x).dtype.kind == 'f')
    except TypeError:
        eq = np.array_equal(np.asarray(x), np.asarray(y))
    if not eq: bad.append(k)
print(("identical: %d entries" % len(a)) if not bad else "DIFFER: " + ", ".join(bad[:20]))
sys.exit(1 if bad else 0)
