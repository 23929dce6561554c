#!/usr/bin/env python3
"""Run `dbn bench` and the reference peers on the same data, shape and kernel, in one invocation.

Peers (from ../shared/peers relative to the repository root, as in CI):
  * numpy_rbm.py   - a hand-written NumPy CD-1 loop (float32, minibatch 100);
  * sklearn_rbm.py - scikit-learn's BernoulliRBM (PCD-1), from Debian's python3-sklearn.
Both train a 784-500 RBM for one epoch over the 60,000 Fashion-MNIST training images, as
`dbn bench` does. Machines are shared and noisy, so the three run in alternating rounds (one
timed epoch each per round) and the medians over rounds are compared.

The BLAS kernel: --kernel NAME sets OPENBLAS_CORETYPE=NAME for every program; --kernel detected
removes OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, so the peers run OpenBLAS's own choice and dbn
its own (it switches to a better kernel when the CPU has one; DBN_KEEP_BLAS_KERNEL=1 stops it).
The kernel each program actually used is printed next to its time.

Run with Debian's interpreter (python3-numpy, python3-sklearn, python3-threadpoolctl), e.g.
    /usr/bin/python3 scripts/bench_peers.py --dbn build/bin/dbn --kernel SkylakeX --rounds 6
Prints a table, and with --json one JSON object on stdout.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEERS = os.path.join(os.path.dirname(REPO), "shared", "peers")


def run_json(cmd, env, label):
    print(f"[bench_peers] {label}: {' '.join(cmd)}", file=sys.stderr, flush=True)
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        sys.stderr.write(p.stderr)
        raise SystemExit(f"{label} failed with status {p.returncode}")
    lines = [l for l in p.stdout.splitlines() if l.strip().startswith("{")]
    return json.loads(lines[-1])


def blas_arch(peer_json):
    libs = (peer_json.get("blas") or {}).get("libraries") or []
    return ",".join(str(l.get("architecture")) for l in libs) or "?"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dbn", default=os.path.join(REPO, "build", "bin", "dbn"), help="the dbn program")
    p.add_argument("--peers", default=PEERS, help="folder of numpy_rbm.py and sklearn_rbm.py")
    p.add_argument("--kernel", default=None,
                   help="OPENBLAS_CORETYPE for every program, or 'detected' (default: the current environment)")
    p.add_argument("--rounds", type=int, default=3, help="alternating rounds (the issue's table uses 6)")
    p.add_argument("--threads", type=int, default=0, help="threads for all programs (0: their default)")
    p.add_argument("--skip-sklearn", action="store_true")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    args = p.parse_args(argv)

    env = dict(os.environ)
    if args.kernel == "detected":
        env.pop("OPENBLAS_CORETYPE", None)
        env.pop("OPENBLAS_L2_SIZE", None)
    elif args.kernel:
        env["OPENBLAS_CORETYPE"] = args.kernel
    if args.threads > 0:
        env["OPENBLAS_NUM_THREADS"] = str(args.threads)
    py = sys.executable or "/usr/bin/python3"

    dbn_cmd = [args.dbn, "bench", "--json", "--runs", "1", "--no-ais"]
    if args.threads > 0:
        dbn_cmd += ["--threads", str(args.threads)]
    numpy_cmd = [py, os.path.join(args.peers, "numpy_rbm.py"), "--runs", "1"]
    sklearn_cmd = [py, os.path.join(args.peers, "sklearn_rbm.py"), "--runs", "1"]

    rounds = {"dbn": [], "numpy": [], "sklearn": []}
    for r in range(args.rounds):
        rounds["dbn"].append(run_json(dbn_cmd, env, f"round {r + 1} dbn"))
        rounds["numpy"].append(run_json(numpy_cmd, env, f"round {r + 1} numpy"))
        if not args.skip_sklearn:
            rounds["sklearn"].append(run_json(sklearn_cmd, env, f"round {r + 1} sklearn"))

    med = statistics.median
    d = rounds["dbn"]
    res = {
        "kernel_requested": args.kernel or env.get("OPENBLAS_CORETYPE") or "detected",
        "rounds": args.rounds,
        "dbn_kernel": d[0]["openblas_core"],
        "dbn_kernel_chosen_by": d[0].get("openblas_core_chosen_by"),
        "threads": d[0]["threads"],
        "gemm_gflops": med(x["gemm_gflops"] for x in d),
        "limit_s": med(x["limit_seconds_per_epoch"] for x in d),
        "dbn_cd1_s": med(x["cd1_seconds_per_epoch"] for x in d),
        "dbn_pcd1_s": med(x["pcd1_seconds_per_epoch"] for x in d),
        "dbn_cd1_1thread_s": med(x["cd1_seconds_per_epoch_1_thread"] for x in d)
        if d[0].get("cd1_seconds_per_epoch_1_thread") is not None else None,
        "dbn_fraction_of_limit": med(x["cd1_fraction_of_limit"] for x in d),
        "dbn_peak_rss_mib": max(x["peak_rss_mib"] for x in d),
        "numpy_s": med(x["s_per_epoch_median"] for x in rounds["numpy"]),
        "numpy_kernel": blas_arch(rounds["numpy"][0]),
    }
    if rounds["sklearn"]:
        res["sklearn_s"] = med(x["timing"]["s_per_epoch_median"] for x in rounds["sklearn"])
        res["sklearn_kernel"] = blas_arch(rounds["sklearn"][0])
    res["speedup_vs_numpy"] = res["numpy_s"] / res["dbn_cd1_s"]
    if "sklearn_s" in res:
        res["speedup_vs_sklearn"] = res["sklearn_s"] / res["dbn_cd1_s"]
    if res["dbn_cd1_1thread_s"]:
        res["thread_speedup"] = res["dbn_cd1_1thread_s"] / res["dbn_cd1_s"]

    rows = [
        ("dbn CD-1", res["dbn_kernel"], res["dbn_cd1_s"]),
        ("dbn PCD-1", res["dbn_kernel"], res["dbn_pcd1_s"]),
        ("numpy CD-1 loop", res["numpy_kernel"], res["numpy_s"]),
    ]
    if "sklearn_s" in res:
        rows.append(("scikit-learn BernoulliRBM (PCD-1)", res["sklearn_kernel"], res["sklearn_s"]))
    rows.append(("the five GEMMs at the best sgemm rate", res["dbn_kernel"], res["limit_s"]))
    print(f"784-500 RBM, batch 100, one epoch over 60,000 Fashion-MNIST rows, {res['threads']} threads, "
          f"medians of {args.rounds} rounds", file=sys.stderr)
    print(f"{'implementation':40s} {'kernel':12s} {'s/epoch':>8s} {'vs dbn CD-1':>12s}", file=sys.stderr)
    for name, kern, s in rows:
        print(f"{name:40s} {kern:12s} {s:8.3f} {s / res['dbn_cd1_s']:11.2f}x", file=sys.stderr)
    print(f"dbn CD-1 at {100 * res['dbn_fraction_of_limit']:.0f}% of the limit "
          f"({res['gemm_gflops']:.0f} GFLOP/s)"
          + (f"; 2 threads {res['thread_speedup']:.2f}x faster than 1" if res.get("thread_speedup") else ""),
          file=sys.stderr)
    if args.json:
        print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
