#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz harnesses into tests/fuzz/seeds/<harness>/.

Usage: make_seeds.py [--dbn PATH_TO_DBN_PROGRAM]

Small valid files of each format (a few KB at most): IDX files of several element types and
ranks, raw and gzip; CSV files with and without header, labels, CRLF, tabs, semicolons and blanks;
NumPy .npy files of several types, orders and ranks; HDF5 data files (float32
and float64, 1-D and 2-D, chunked and deflated, with a labels dataset); the configurations of
models/ and a few small ones; inputs of the fine-tune settings harness; and model files. With
--dbn, the model seeds are made by the program itself (pretrain on 4x4 bars-and-stripes, then
fine-tune); without it only the h5py-written model of tests/io/write_minimal_model.py is made.
Deterministic: the same files every time (the gzip header carries no time stamp).
"""
import argparse
import gzip
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SEEDS = os.path.join(HERE, "seeds")

IDX_TYPES = {np.uint8: 0x08, np.int8: 0x09, np.dtype(">i2"): 0x0B, np.dtype(">i4"): 0x0C,
             np.dtype(">f4"): 0x0D, np.dtype(">f8"): 0x0E}


def folder(name):
    path = os.path.join(SEEDS, name)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def idx_bytes(array, dtype):
    code = IDX_TYPES[dtype if dtype in IDX_TYPES else np.dtype(dtype)]
    header = struct.pack(">BBBB", 0, 0, code, array.ndim)
    header += b"".join(struct.pack(">I", n) for n in array.shape)
    return header + np.asarray(array).astype(dtype).tobytes()


def idx_seeds():
    out = folder("fuzz_idx")
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, size=(4, 3, 3))
    files = {
        "images-u8-3d": idx_bytes(images, np.uint8),
        "labels-u8-1d": idx_bytes(np.array([0, 1, 2, 9]), np.uint8),
        "i8-2d": idx_bytes(rng.integers(-128, 128, size=(3, 5)), np.int8),
        "i16-2d": idx_bytes(rng.integers(-1000, 1000, size=(3, 4)), np.dtype(">i2")),
        "i32-1d": idx_bytes(np.array([5, -3, 7]), np.dtype(">i4")),
        "f32-2d": idx_bytes(rng.standard_normal((3, 4)), np.dtype(">f4")),
        "f64-4d": idx_bytes(rng.standard_normal((2, 2, 2, 2)), np.dtype(">f8")),
        "empty-2d": idx_bytes(np.zeros((0, 4)), np.uint8),
    }
    files["images-u8-3d.gz"] = gzip.compress(files["images-u8-3d"], mtime=0)
    files["f32-2d.gz"] = gzip.compress(files["f32-2d"], mtime=0)
    for name, data in files.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


def csv_seeds():
    out = folder("fuzz_csv")
    files = {
        "plain.csv": "0.5,1,2\n3,4.25,-5\n6e-3,7,8\n",
        "header.csv": "a,b,label\n0.1,0.2,1\n0.3,0.4,0\n",
        "crlf-blank.csv": "1,2\r\n\r\n3,4\r\n5,6",
        "labels.csv": "1\n2\n3\n0\n",
        "one-row.csv": "-1.5e10,0,1e-30,+2\n",
        "spaces.csv": " 1 , 2 ,3\n4,5 , 6\n",
        "tabs.csv": "a\tb\tlabel\n0.5\t1\t2\n3\t4\t0\n",
        "semicolon-quoted.csv": '\ufeff"a";"b"\r\n"1.5";"2"\r\n3;"4"\r\n',
        "savetxt.csv": "# a b label\n1.000000000000000000e+00 2.5e-01 3.0e+00\n 4  5\t6\n",
    }
    for name, text in files.items():
        with open(os.path.join(out, name), "w", newline="") as f:
            f.write(text)


def npy_seeds():
    out = folder("fuzz_npy")
    rng = np.random.default_rng(3)
    arrays = {
        "f32-2d": rng.standard_normal((3, 4)).astype(np.float32),
        "f64-fortran": np.asfortranarray(rng.standard_normal((4, 3))),
        "u8-images": rng.integers(0, 255, (2, 3, 3)).astype(np.uint8),
        "i64-labels": np.array([0, 3, 1, 2], dtype=np.int64),
        "i16-big-endian": rng.integers(-500, 500, (3, 2)).astype(">i2"),
        "bool": rng.random((2, 5)) < 0.5,
    }
    for name, array in arrays.items():
        np.save(os.path.join(out, name + ".npy"), array)


def hdf5_seeds():
    out = folder("fuzz_hdf5_data")
    rng = np.random.default_rng(2)
    with h5py.File(os.path.join(out, "f32-labels.h5"), "w") as f:
        f["x"] = rng.standard_normal((5, 4)).astype(np.float32)
        f["labels"] = np.array([0, 1, 2, 1, 0], dtype=np.int32)
    with h5py.File(os.path.join(out, "f64-1d.h5"), "w") as f:
        f["x"] = rng.standard_normal(6)
    with h5py.File(os.path.join(out, "chunked-deflate.h5"), "w") as f:
        f.create_dataset("x", data=rng.integers(0, 255, (8, 3)).astype(np.uint8), chunks=(2, 3),
                         compression="gzip")
        f.create_dataset("labels", data=np.arange(8, dtype=np.int64), chunks=(4,),
                         compression="gzip")
    with h5py.File(os.path.join(out, "int16.h5"), "w") as f:
        f["x"] = rng.integers(-100, 100, (3, 2)).astype(np.int16)


def config_seeds():
    out = folder("fuzz_config")
    models = os.path.join(ROOT, "models")
    for name in sorted(os.listdir(models)):
        if name.endswith(".json"):
            shutil.copy(os.path.join(models, name), out)
    small = {
        "minimal.json": {"layers": [{"hidden": 3}]},
        "gaussian-hooks.json": {
            "name": "g", "seed": 3, "heldout_fraction": 0.2,
            "input": {"units": "gaussian", "standardize": True},
            "defaults": {"algorithm": "cd", "k": 2, "epochs": 1, "batch_size": 4},
            "layers": [{"hidden": 8, "hidden_units": "relu", "hook": "layernorm"}, {"hidden": 2}]},
        "checks.json": {
            "checks": {"enabled": True, "ais_steps": 100, "log_z": "ais", "dlogz": "auto"},
            "layers": [{"hidden": 4}, {"hidden": 4, "init": "turned_over", "guide": {"every": 2}}]},
    }
    for name, value in small.items():
        with open(os.path.join(out, name), "w") as f:
            json.dump(value, f)


def finetune_seeds():
    # FuzzedDataProvider reads the strings from the front and the numbers and flags from the back.
    out = folder("fuzz_finetune_config")
    seeds = {
        "classifier": b"classifier\\adam\\glorot\\" + bytes(40),
        "autoencoder": b"autoencoder\\sgd\\normal\\squared_error\\" + bytes(range(1, 60)),
        "empty-mode": b"\\" + bytes([0xFF] * 48),
    }
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


def model_seeds(dbn):
    out = folder("fuzz_model")
    subprocess.run([sys.executable, os.path.join(ROOT, "tests", "io", "write_minimal_model.py"),
                    os.path.join(out, "h5py-minimal.h5")], check=True)
    if dbn is None:
        return
    with tempfile.TemporaryDirectory() as tmp:
        config = os.path.join(tmp, "tiny.json")
        with open(config, "w") as f:
            json.dump({"name": "tiny", "seed": 5, "heldout_fraction": 0,
                       "input": {"units": "bernoulli", "scale": 1},
                       "defaults": {"epochs": 2, "batch_size": 10, "monitor_samples": 30},
                       "layers": [{"hidden": 4}, {"hidden": 3}]}, f)
        pretrained = os.path.join(out, "pretrained.h5")
        subprocess.run([dbn, "pretrain", "--config", config, "--data", "bars-and-stripes:4",
                        "--out", pretrained], check=True, stdout=subprocess.DEVNULL)
        subprocess.run([dbn, "finetune", pretrained, "--mode", "autoencoder",
                        "--data", "bars-and-stripes:4", "--epochs", "2",
                        "--out", os.path.join(out, "finetuned.h5")],
                       check=True, stdout=subprocess.DEVNULL)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dbn", help="the dbn program, to make the model seeds with it")
    args = parser.parse_args()
    idx_seeds()
    csv_seeds()
    npy_seeds()
    hdf5_seeds()
    config_seeds()
    finetune_seeds()
    model_seeds(args.dbn)


if __name__ == "__main__":
    main()
