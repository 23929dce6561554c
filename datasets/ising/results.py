#!/usr/bin/env python3
"""Reproduces the L = 8 table of datasets/ising/README.md: RBMs of a few hidden sizes on 10,000
Ising samples at three temperatures, evaluated on 5,000 other samples with exact log Z and with
AIS. Usage: /usr/bin/python3 datasets/ising/results.py [path/to/dbn] (default build/bin/dbn)."""
import json
import pathlib
import subprocess
import sys
import tempfile

root = pathlib.Path(__file__).resolve().parents[2]
dbn = sys.argv[1] if len(sys.argv) > 1 else str(root / "build" / "bin" / "dbn")


def run(*args):
    p = subprocess.run([dbn, *map(str, args)], capture_output=True, text=True, check=True)
    return p.stdout


print("| T | hidden | data mean log p | exact mean log-lik | KL (exact) | AIS mean log-lik [interval] | AIS - exact |")
print("|---|---|---|---|---|---|---|")
with tempfile.TemporaryDirectory() as tmp:
    tmp = pathlib.Path(tmp)
    for t in (1.8, 2.269, 3.0):
        train = f"ising:L=8,T={t},n=10000,seed=1"
        test = f"ising:L=8,T={t},n=5000,seed=2"
        for h in (4, 8, 16, 20):
            cfg = {"name": "ising8", "seed": 1, "input": {"units": "bernoulli", "scale": 1},
                   "defaults": {"algorithm": "pcd", "epochs": 30, "batch_size": 50,
                                "learning_rate": 0.01},
                   "layers": [{"hidden": h}]}
            (tmp / "c.json").write_text(json.dumps(cfg))
            run("pretrain", "--config", tmp / "c.json", "--data", train, "--out", tmp / "m.h5",
                "--quiet", "--no-checks")
            ex = json.loads(run("eval", tmp / "m.h5", "--data", test, "--logz", "exact", "--json"))
            ais = json.loads(run("eval", tmp / "m.h5", "--data", test, "--logz", "ais", "--json"))
            lo, hi = ais["mean_log_likelihood_low"], ais["mean_log_likelihood_high"]
            print(f"| {t} | {h} | {ex['data_mean_log_prob']:.3f} | {ex['mean_log_likelihood']:.3f} "
                  f"| {ex['kl_data_model']:.3f} | {ais['mean_log_likelihood']:.3f} "
                  f"[{lo:.3f}, {hi:.3f}] | {ais['mean_log_likelihood'] - ex['mean_log_likelihood']:+.4f} |",
                  flush=True)
