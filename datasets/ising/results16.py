#!/usr/bin/env python3
"""Reproduces the L = 16 tables of datasets/ising/README.md: at T = 1.8, 2.269 and 3.0, a 256-256
RBM and a 256-256-256 DBN trained on 10,000 samples (ising:L=16,T=...,n=10000,seed=1; PCD-1,
10 epochs, batch 50, learning rate 0.01: modest, to keep each run to a few minutes on 2 cores),
evaluated on 2,000 other samples (seed 2) by AIS (the RBM's log-likelihood, the DBN's bound, the
checks between layers) against the data's exact mean log p; then 2,000 model samples (dbn sample,
1,000 Gibbs steps) measured by dbn dataset ising-observables against the exact values and 10,000
generator samples. Usage: /usr/bin/python3 datasets/ising/results16.py [path/to/dbn] [out-dir]
[--table-only]
(the JSON of every eval and observables run is kept in out-dir, default a temporary folder;
--table-only prints the tables again from the JSON in out-dir)."""
import json
import pathlib
import subprocess
import sys
import tempfile
import time

root = pathlib.Path(__file__).resolve().parents[2]


def run(*args):
    p = subprocess.run([dbn, *map(str, args)], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"dbn {' '.join(map(str, args))} failed ({p.returncode}): {p.stderr}")
    return p.stdout


def fmt(x, d=3):
    return "-" if x is None else f"{x:.{d}f}"


table_only = "--table-only" in sys.argv  # print the tables from the JSON already in out-dir
if table_only:
    sys.argv.remove("--table-only")
dbn = sys.argv[1] if len(sys.argv) > 1 else str(root / "build" / "bin" / "dbn")
out = pathlib.Path(sys.argv[2]) if len(sys.argv) > 2 else pathlib.Path(tempfile.mkdtemp())
out.mkdir(parents=True, exist_ok=True)
likelihood, observables, seconds = [], [], {}
models = (("RBM 256-256", [256]), ("DBN 256-256-256", [256, 256]))
for t in (1.8, 2.269, 3.0):
    train = f"ising:L=16,T={t},n=10000,seed=1"
    test = f"ising:L=16,T={t},n=2000,seed=2"
    for name, hidden in models:
        tag = f"T{t}-{len(hidden)}"
        if table_only:
            continue
        t0 = time.time()
        cfg = {"name": "ising16", "seed": 1, "input": {"units": "bernoulli", "scale": 1},
               "defaults": {"algorithm": "pcd", "epochs": 10, "batch_size": 50,
                            "learning_rate": 0.01},
               "layers": [{"hidden": h} for h in hidden]}
        (out / f"{tag}.json").write_text(json.dumps(cfg))
        model = out / f"{tag}.h5"
        run("pretrain", "--config", out / f"{tag}.json", "--data", train, "--out", model,
            "--quiet", "--no-checks")
        ev = json.loads(run("eval", model, "--data", test, "--logz", "ais", "--json"))
        (out / f"{tag}-eval.json").write_text(json.dumps(ev, indent=1))
        run("sample", model, "--count", 2000, "--steps", 1000, "--seed", 1,
            "--out", out / f"{tag}-samples.h5")
        ob = json.loads(run("dataset", "ising-observables", "--data",
                            f"{out / (tag + '-samples.h5')}:/binary", "--temperature", t,
                            "--json"))
        (out / f"{tag}-observables.json").write_text(json.dumps(ob, indent=1))
        (out / f"{tag}-seconds.txt").write_text(f"{time.time() - t0:.0f}")
        print(f"{tag}: {time.time() - t0:.0f} s", flush=True)

for t in (1.8, 2.269, 3.0):
    for name, hidden in models:
        tag = f"T{t}-{len(hidden)}"
        ev = json.loads((out / f"{tag}-eval.json").read_text())
        ob = json.loads((out / f"{tag}-observables.json").read_text())
        secs = (out / f"{tag}-seconds.txt").read_text().strip() if (out / f"{tag}-seconds.txt").exists() else "-"
        if "dbn_lower_bound" in ev and ev["dbn_lower_bound"] is not None:
            above = ev["dbn_lower_bound_low"] - 3 * ev["dbn_lower_bound_standard_error"] > ev["data_mean_log_prob"]
            bound = (f"{ev['dbn_lower_bound']:.3f} [{ev['dbn_lower_bound_low']:.3f}, "
                     f"{ev['dbn_lower_bound_high']:.3f}]{' **above the data**' if above else ''}")
        else:
            bound = "-"
        checks = "; ".join(
            f"{c['lower']}->{c['upper']}: D = {c['bound_change']:+.2f} [{c['bound_change_low']:+.2f}, "
            f"{c['bound_change_high']:+.2f}] ({c['delta_log_z_method']}) {c['verdict']}"
            for c in ev.get("checks", [])) or "-"
        likelihood.append(
            f"| {t} | {name} | {ev['data_mean_log_prob']:.3f} | {ev['mean_log_likelihood']:.3f} "
            f"[{ev['mean_log_likelihood_low']:.3f}, {ev['mean_log_likelihood_high']:.3f}] "
            f"| {ev['kl_data_model']:.3f} [{ev['kl_data_model_low']:.3f}, "
            f"{ev['kl_data_model_high']:.3f}] | {bound} | {checks} | {secs} s |")
        cells = []
        for key, d in (("energy", 4), ("magnetization", 4), ("specific_heat", 3),
                       ("susceptibility", 3)):
            o = ob[key]
            ref = o["exact"] if o["exact"] is not None else o["generator"]["value"]
            cells.append(f"{o['value']:.{d}f} +- {o['standard_error']:.{d}f} | {ref:.{d}f}")
        observables.append(f"| {t} | {name} | " + " | ".join(cells) + " |")

print(f"openblas_core: {ev.get('openblas_core')}\n")
print("| T | model | data mean log p | AIS mean log-lik [interval] | KL [interval] | DBN bound "
      "[interval] | checks between layers | time |")
print("|---|---|---|---|---|---|---|---|")
print("\n".join(likelihood))
print("\n| T | model | E/N | exact | abs m | generator | C | exact | chi | generator |")
print("|---|---|---|---|---|---|---|---|---|---|")
print("\n".join(observables))
print(f"\nJSON of every run: {out}")
