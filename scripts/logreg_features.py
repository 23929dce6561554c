#!/usr/bin/python3
"""Logistic regression (scikit-learn) on a DBN's top-layer features: the cross-check of
`dbn finetune --head-only` (README, "Fine-tuning results").

Reads two feature files written by `dbn features MODEL --data SPEC --out FILE.h5` (float32
/features [N, n_top], int32 /labels [N]), fits sklearn.linear_model.LogisticRegression
(multinomial, L2, lbfgs) on the first and reports the accuracy on the second.

    /usr/bin/python3 scripts/logreg_features.py TRAIN.h5 TEST.h5 [--C 1.0] [--max-iter 500]
"""
import argparse
import json
import time

import h5py
import numpy as np
from sklearn.linear_model import LogisticRegression


def load(path):
    with h5py.File(path, "r") as f:
        return np.asarray(f["features"][()], dtype=np.float64), np.asarray(f["labels"][()])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("train")
    ap.add_argument("test")
    ap.add_argument("--C", type=float, default=1.0, help="inverse L2 strength (sklearn's C)")
    ap.add_argument("--max-iter", type=int, default=500)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    t0 = time.time()
    x, y = load(args.train)
    xt, yt = load(args.test)
    clf = LogisticRegression(C=args.C, max_iter=args.max_iter)
    clf.fit(x, y)
    train_acc = float(clf.score(x, y))
    test_acc = float(clf.score(xt, yt))
    seconds = time.time() - t0
    if args.json:
        print(json.dumps({"method": "sklearn LogisticRegression", "C": args.C,
                          "n_features": int(x.shape[1]), "train_accuracy": train_acc,
                          "test_accuracy": test_acc, "iterations": int(np.max(clf.n_iter_)),
                          "seconds": seconds}, indent=2))
        return
    print(f"logistic regression (sklearn, C={args.C}) on {x.shape[1]} features: "
          f"train accuracy {train_acc:.4f}, test accuracy {test_acc:.4f} "
          f"({int(np.max(clf.n_iter_))} iterations, {seconds:.1f}s)")


if __name__ == "__main__":
    main()
