"""Reads a dbn model with h5py and numpy only, with the code docs/FORMAT.md shows.

Usage: read_model.py MODEL N_ROWS FORMAT_MD
The functions `text` and `layer0_hidden` come from FORMAT_MD itself (section "Reading with h5py"),
so that the test checks the snippet users copy. Prints three lines for python_interop_test.cpp:
  format format_version n_layers
  the weight (1, 2) of layer 0, exactly (repr of the float32 value)
  layer-0 hidden values of the N_ROWS x n_visible input raw[i, j] = ((7 i + 3 j) % 11) / 10,
  row by row
"""
import sys

import h5py
import numpy as np

from doc_snippet import snippet


def main():
    path, rows, format_md = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    doc = {}
    exec(snippet(format_md, "Reading with h5py"), doc)
    text, layer0_hidden = doc["text"], doc["layer0_hidden"]
    with h5py.File(path, "r") as f:
        print(text(f.attrs["format"]), int(f.attrs["format_version"]), int(f.attrs["n_layers"]))
        n_visible = f["layers/0/weights"].shape[0]
        print(repr(float(f["layers/0/weights"][1, 2])))
    i, j = np.meshgrid(np.arange(rows), np.arange(n_visible), indexing="ij")
    raw = ((7 * i + 3 * j) % 11) / 10.0
    print(" ".join(repr(float(v)) for v in layer0_hidden(path, raw).ravel()))


if __name__ == "__main__":
    main()
