#!/usr/bin/env python3
"""Reads a dbn model file with h5py alone and prints what another tool sees (docs/FORMAT.md)."""
import sys

import h5py
import numpy as np


def text(value):
    """h5py gives fixed-length string attributes (files written now) as bytes, variable-length
    ones (older files) as str."""
    return value.decode() if isinstance(value, bytes) else str(value)


def main(path):
    with h5py.File(path, "r") as f:
        attrs = f.attrs
        fmt = text(attrs["format"])
        print(f"h5py: {path}: format={fmt} format_version={int(attrs['format_version'])} "
              f"n_layers={int(attrs['n_layers'])}")
        for k in range(int(attrs["n_layers"])):
            g = f[f"layers/{k}"]
            w = g["weights"]
            print(f"h5py:   layers/{k}: {text(g.attrs['visible_units'])} -> {text(g.attrs['hidden_units'])}, "
                  f"weights {w.dtype} {w.shape}, |W| mean {np.abs(w[()]).mean():.4f}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
