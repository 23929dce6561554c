#!/usr/bin/python3
"""PCA baseline for the autoencoder's reconstruction error (README, "Fine-tuning results").

Fits PCA (numpy SVD of the centred training data) on Fashion-MNIST pixels scaled to [0, 1] (the
preprocessing of models/fashion-mnist-autoencoder.json) and reports, on the test images, the
mean squared reconstruction error per pixel (the figure `dbn finetune --test` and `dbn eval`
report for an autoencoder) and per image, for the given code sizes.

    /usr/bin/python3 scripts/pca_baseline.py [--code 30] [--json]
"""
import argparse
import gzip
import json
import sys
import time

import numpy as np

DATA = "/usr/share/datasets/fashion-mnist"


def read_idx_images(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    magic, n, rows, cols = np.frombuffer(raw[:16], dtype=">u4")
    if magic != 0x0803:
        sys.exit(f"{path}: not an IDX image file (magic {magic:#x})")
    return np.frombuffer(raw[16:], dtype=np.uint8).reshape(n, rows * cols)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--code", type=int, nargs="+", default=[30], help="code sizes (components)")
    ap.add_argument("--train", default=f"{DATA}/train-images-idx3-ubyte.gz")
    ap.add_argument("--test", default=f"{DATA}/t10k-images-idx3-ubyte.gz")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()

    t0 = time.time()
    train = read_idx_images(args.train).astype(np.float64) / 255.0
    test = read_idx_images(args.test).astype(np.float64) / 255.0
    mean = train.mean(axis=0)
    # Right singular vectors of the centred data = principal axes, largest variance first.
    _, _, vt = np.linalg.svd(train - mean, full_matrices=False)
    results = []
    for k in args.code:
        v = vt[:k].T                                  # [784, k]
        recon = (test - mean) @ v @ v.T + mean
        # Decoding into [0, 1] as the autoencoder's sigmoid outputs do: clipping only helps PCA.
        recon_clipped = np.clip(recon, 0.0, 1.0)
        mse = float(np.mean((recon - test) ** 2))
        mse_clipped = float(np.mean((recon_clipped - test) ** 2))
        results.append({"code": k, "reconstruction_error": mse,
                        "reconstruction_error_clipped": mse_clipped,
                        "squared_error_per_image": mse * test.shape[1]})
    seconds = time.time() - t0
    if args.json:
        print(json.dumps({"method": "pca", "test_rows": int(test.shape[0]), "results": results,
                          "seconds": seconds}, indent=2))
        return
    for r in results:
        print(f"PCA, {r['code']} components: test reconstruction error {r['reconstruction_error']:.6f} "
              f"per pixel ({r['squared_error_per_image']:.3f} per image; clipped to [0, 1]: "
              f"{r['reconstruction_error_clipped']:.6f}) on {test.shape[0]} images, {seconds:.1f}s")


if __name__ == "__main__":
    main()
