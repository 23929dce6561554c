#!/usr/bin/env python3
"""dbn eval under mpirun (issue 15), registered by tests/cli.cmake only in the MPI build.

  mpi_test.py --dbn BIN --mpirun MPIRUN --source-dir DIR --work-dir DIR --fashion-mnist DIR CASE

Cases:
  eval_matches_one_process  2 and 3 ranks give the JSON log Z records of one process, bit for bit
  killed_rank_ends_job      a rank killed mid-run ends the job with a non-zero status, no hang
"""
import argparse
import json
import os
import pathlib
import signal
import subprocess
import sys
import time

SKIP = 77


def env():
    e = dict(os.environ)
    e["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
    e["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
    return e


def model(a, work):
    out = work / "quick.h5"
    if not out.exists():
        subprocess.run([a.dbn, "pretrain", "--config", str(a.source_dir / "models" / "quick.json"),
                        "--data", str(a.train), "--limit", "2000", "--out", str(out)],
                       check=True, stdout=subprocess.DEVNULL, env=env(), timeout=600)
    return out


def eval_args(a, m):
    return [a.dbn, "eval", str(m), "--data", str(a.test), "--limit", "500", "--logz", "ais",
            "--ais-runs", "200", "--ais-steps", "quick", "--time-budget", "5", "--threads", "1",
            "--json"]


def figures(text):
    """The estimates of the JSON, without the wall times (which differ from run to run)."""
    j = json.loads(text)
    def strip(x):
        if isinstance(x, dict):
            return {k: strip(v) for k, v in x.items() if k != "seconds" and "seconds" not in k}
        if isinstance(x, list):
            return [strip(v) for v in x]
        return x
    return {k: strip(j[k]) for k in ("layers", "checks", "mean_log_likelihood", "dbn_lower_bound") if k in j}


def eval_matches_one_process(a, work):
    m = model(a, work)
    one = subprocess.run(eval_args(a, m), capture_output=True, text=True, env=env(), timeout=600)
    assert one.returncode == 0, one.stderr
    ref = figures(one.stdout)
    assert ref["layers"], "no log Z records"
    for ranks in (["-np", "2"], ["-np", "3", "--oversubscribe"]):
        r = subprocess.run([a.mpirun, *ranks, *eval_args(a, m)], capture_output=True, text=True,
                           env=env(), timeout=600)
        assert r.returncode == 0, f"{ranks}: status {r.returncode}: {r.stderr}"
        got = figures(r.stdout)  # one JSON object: only rank 0 prints
        assert got == ref, f"{ranks}: {json.dumps(got)[:600]}\n!=\n{json.dumps(ref)[:600]}"


def killed_rank_ends_job(a, work):
    m = model(a, work)
    args = eval_args(a, m)
    args[args.index("--ais-steps") + 1] = "default"  # long enough to be killed mid-run
    p = subprocess.Popen([a.mpirun, "-np", "2", *args], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True, env=env(), start_new_session=True)
    try:
        # Find a rank: mpirun's daemon starts the ranks in process groups of their own, so look
        # for a dbn process whose command line names this case's model (its work directory).
        victim = None
        deadline = time.time() + 60
        while victim is None and time.time() < deadline:
            time.sleep(1)
            out = subprocess.run(["ps", "-e", "-o", "pid=,args="], capture_output=True,
                                 text=True).stdout
            for line in out.splitlines():
                pid, _, args = line.strip().partition(" ")
                if args.startswith(str(a.dbn)) and str(m) in args and int(pid) != p.pid:
                    victim = int(pid)
                    break
        assert victim is not None, "no rank found"
        time.sleep(2)
        os.kill(victim, signal.SIGKILL)
        status = p.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        raise AssertionError("the job did not end within 60 s of a rank being killed")
    assert status != 0, "the job ended with status 0 after a rank was killed"


CASES = {f.__name__: f for f in (eval_matches_one_process, killed_rank_ends_job)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbn")
    ap.add_argument("--mpirun")
    ap.add_argument("--source-dir", type=pathlib.Path)
    ap.add_argument("--work-dir", type=pathlib.Path)
    ap.add_argument("--fashion-mnist", type=pathlib.Path)
    ap.add_argument("--list", action="store_true")
    ap.add_argument("case", nargs="?")
    a = ap.parse_args()
    if a.list:
        print(";".join(CASES))
        return 0
    a.train = a.fashion_mnist / "train-images-idx3-ubyte.gz"
    a.test = a.fashion_mnist / "t10k-images-idx3-ubyte.gz"
    if not a.train.exists() or not a.test.exists():
        print(f"skipped: no Fashion-MNIST in {a.fashion_mnist}")
        return SKIP
    a.work_dir.mkdir(parents=True, exist_ok=True)
    CASES[a.case](a, a.work_dir)
    print("passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
