"""Writes a minimal dbn model with h5py, following docs/FORMAT.md, for python_interop_test.cpp.

Usage: write_minimal_model.py MODEL
Two layers: gaussian -> bernoulli [4, 3] with sigma, bernoulli -> relu [3, 2]. Values are
float32(m * 0.01 - 0.05) for the m-th element (row-major) of each array, sigma 0.5 + 0.25 m.
Layer 1's unit names are fixed-length strings (numpy.bytes_), which readers must accept too.
"""
import sys

import h5py
import numpy as np


def values(shape):
    return (np.arange(int(np.prod(shape))).reshape(shape) * 0.01 - 0.05).astype(np.float32)


def main():
    with h5py.File(sys.argv[1], "w") as f:
        f.attrs["format"] = "dbn-model"
        f.attrs["format_version"] = 1
        f.attrs["library_version"] = "h5py " + h5py.__version__
        f.attrs["n_layers"] = 2

        g = f.create_group("layers/0")
        g.attrs["visible_units"] = "gaussian"
        g.attrs["hidden_units"] = "bernoulli"
        g["weights"] = values((4, 3))
        g["visible_bias"] = values((4,))
        g["hidden_bias"] = values((3,))
        g["visible_sigma"] = (0.5 + 0.25 * np.arange(4)).astype(np.float32)

        g = f.create_group("layers/1")
        g.attrs["visible_units"] = np.bytes_("bernoulli")
        g.attrs["hidden_units"] = np.bytes_("relu")
        g["weights"] = values((3, 2))
        g["visible_bias"] = values((3,))
        g["hidden_bias"] = values((2,))


if __name__ == "__main__":
    main()
