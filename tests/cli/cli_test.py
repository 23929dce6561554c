#!/usr/bin/python3
"""End-to-end tests of the `dbn` program, one case per CTest test (tests/cli.cmake).

    cli_test.py --list
    cli_test.py --dbn BUILD/bin/dbn --source-dir SRC --work-dir DIR CASE

Each case runs the program in its own empty work directory and checks the exit status, that a
failure names the problem on stderr, and that a failure leaves no output (nor a temporary file)
behind. Exit status: 0 pass, 1 fail, 77 skip (a data set or h5py is missing).
"""

import argparse
import gzip
import html.parser
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

SKIP = 77
EXIT_OK, EXIT_USAGE, EXIT_BAD_INPUT, EXIT_CHECK, EXIT_NUMERICAL = 0, 1, 2, 3, 4


class Skip(Exception):
    pass


class Env:
    def __init__(self, dbn, source_dir, work_dir, fashion_mnist):
        self.dbn = str(dbn)
        self.src = Path(source_dir)
        self.work = Path(work_dir)
        self.fashion = Path(fashion_mnist)

    def model_config(self, name):
        return str(self.src / "models" / name)

    def fashion_train(self):
        path = self.fashion / "train-images-idx3-ubyte.gz"
        if not path.is_file():
            raise Skip(f"{path} not found (apt-get install dataset-fashion-mnist)")
        return str(path)


ENV = None
CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


# ------------------------------------------------------------------------------------------------
# Helpers


def run(*args, timeout=60):
    """Runs dbn with `args` in the work directory; stdout is a pipe, so never a terminal."""
    cmd = [ENV.dbn] + [str(a) for a in args]
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, cwd=ENV.work, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"timed out after {timeout} s: {' '.join(cmd)}") from e
    p.seconds = time.monotonic() - t0
    p.out = p.stdout.decode("utf-8", "replace")
    p.err = p.stderr.decode("utf-8", "replace")
    p.cmd = " ".join(cmd)
    return p


def describe(p):
    return (f"command: {p.cmd}\nexit status: {p.returncode}\n--- stdout ---\n{p.out}"
            f"--- stderr ---\n{p.err}")


def check(cond, msg, p=None):
    if not cond:
        raise AssertionError(msg + ("\n" + describe(p) if p is not None else ""))


def expect_ok(p):
    check(p.returncode == EXIT_OK, f"expected exit status 0", p)
    check(p.err == "", "expected nothing on stderr", p)
    return p


def listing():
    """Every file below the work directory, relative."""
    return sorted(str(f.relative_to(ENV.work)) for f in ENV.work.rglob("*"))


def expect_failure(args, status, patterns, out=None, timeout=60):
    """Runs dbn, expecting exit `status`, every regex of `patterns` on stderr (case-insensitive),
    no new file in the work directory (no output, no temporary file), `out` not created."""
    before = listing()
    p = run(*args, timeout=timeout)
    check(p.returncode == status, f"expected exit status {status}", p)
    prefix = "dbn: usage error: " if status == EXIT_USAGE else "dbn: error: "
    check(p.err.startswith(prefix), f"expected stderr to start with {prefix!r}", p)
    for pat in patterns:
        check(re.search(pat, p.err, re.IGNORECASE), f"expected stderr to match {pat!r}", p)
    after = listing()
    check(after == before,
          f"files left behind: {sorted(set(after) - set(before))}, removed: "
          f"{sorted(set(before) - set(after))}", p)
    if out is not None:
        check(not (ENV.work / out).exists(), f"{out} exists after a failure", p)
    return p


def expect_plain(p):
    check("\r" not in p.out, "carriage return on stdout that is not a terminal", p)
    check("\x1b" not in p.out, "terminal escape sequence on stdout that is not a terminal", p)


def no_temp_files():
    left = [f for f in listing() if ".tmp" in f]
    check(not left, f"temporary files left behind: {left}")


def h5py_numpy():
    try:
        import h5py
        import numpy
    except ImportError as e:
        raise Skip(f"{sys.executable}: {e}")
    return h5py, numpy


def text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def info_json(model):
    p = expect_ok(run("info", model, "--json"))
    try:
        return json.loads(p.out)
    except json.JSONDecodeError as e:
        raise AssertionError(f"dbn info --json printed invalid JSON ({e})\n{describe(p)}")


def check_stack(info, sizes, epochs):
    """`dbn info --json` shows layers sizes[0]-sizes[1]-... each trained `epochs` epochs."""
    layers = info["layers"]
    check(info["n_layers"] == len(sizes) - 1 and len(layers) == len(sizes) - 1,
          f"expected {len(sizes) - 1} layers, got {info['n_layers']}: {info}")
    for k, layer in enumerate(layers):
        got = (layer["n_visible"], layer["n_hidden"])
        check(got == (sizes[k], sizes[k + 1]), f"layer {k}: sizes {got}, expected "
              f"{(sizes[k], sizes[k + 1])}")
        check(layer["weights_shape"] == [sizes[k], sizes[k + 1]],
              f"layer {k}: weights_shape {layer['weights_shape']}")
        mon = layer.get("monitors", [])
        check([m["epoch"] for m in mon] == list(range(1, epochs + 1)),
              f"layer {k}: monitors for epochs {[m['epoch'] for m in mon]}, expected 1..{epochs}")
        check(layer["training"]["epochs"] == epochs,
              f"layer {k}: training.epochs {layer['training']['epochs']}, expected {epochs}")
        for m in mon:
            check(isinstance(m["reconstruction_error"], float),
                  f"layer {k} epoch {m['epoch']}: reconstruction_error {m['reconstruction_error']}")


def check_model_file(path, sizes):
    """h5py reads `path`: format attributes and float32 weights of the right shapes."""
    h5py, np = h5py_numpy()
    with h5py.File(ENV.work / path, "r") as f:
        check(text(f.attrs["format"]) == "dbn-model", f"format {f.attrs['format']!r}")
        check(int(f.attrs["format_version"]) == 1, f"format_version {f.attrs['format_version']}")
        check(int(f.attrs["n_layers"]) == len(sizes) - 1, f"n_layers {f.attrs['n_layers']}")
        for k in range(len(sizes) - 1):
            w = f[f"layers/{k}/weights"]
            check(w.dtype == np.float32, f"/layers/{k}/weights dtype {w.dtype}")
            check(w.shape == (sizes[k], sizes[k + 1]), f"/layers/{k}/weights shape {w.shape}")
            check(np.all(np.isfinite(w[()])), f"/layers/{k}/weights not finite")
            check(f[f"layers/{k}/hidden_bias"].shape == (sizes[k + 1],), "hidden_bias shape")
            check(f[f"layers/{k}/visible_bias"].shape == (sizes[k],), "visible_bias shape")


def parameters(path):
    """Every dataset under /layers, as numpy arrays."""
    h5py, _ = h5py_numpy()
    out = {}
    with h5py.File(ENV.work / path, "r") as f:
        f["layers"].visititems(
            lambda name, obj: out.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset)
            else None)
    return out


def write_config(name, hidden, epochs=3, **defaults):
    cfg = {"name": Path(name).stem, "seed": 3, "input": {"units": "bernoulli", "scale": 1},
           "defaults": {"epochs": epochs, "batch_size": 20, "learning_rate": 0.05, **defaults},
           "layers": [{"hidden": h} for h in hidden]}
    (ENV.work / name).write_text(json.dumps(cfg, indent=2))
    return name


def write_csv(name, rows=200, cols=16, seed=0):
    _, np = h5py_numpy()
    x = (np.random.default_rng(seed).random((rows, cols)) < 0.3).astype(int)
    (ENV.work / name).write_text("".join(",".join(map(str, r)) + "\n" for r in x))
    return name


def csv_with_row(name, row_index, new_row):
    """A 16-column CSV whose line `row_index` (0-based) is replaced by `new_row`; earlier lines
    are numeric, so the header detection does not swallow the bad line."""
    write_csv(name)
    lines = (ENV.work / name).read_text().splitlines()
    lines[row_index] = new_row
    (ENV.work / name).write_text("\n".join(lines) + "\n")
    return name


def idx_images(n=100, rows=28, cols=28, seed=0):
    """Bytes of an IDX3 unsigned-byte image file."""
    _, np = h5py_numpy()
    pixels = np.random.default_rng(seed).integers(0, 256, size=(n, rows, cols), dtype=np.uint8)
    return struct.pack(">BBBBIII", 0, 0, 0x08, 3, n, rows, cols) + pixels.tobytes()


def small_model(name="good.h5"):
    """A valid model file, trained by the program itself (bars-and-stripes, a few epochs)."""
    expect_ok(run("pretrain", "--config", ENV.model_config("bars-and-stripes.json"),
                  "--data", "bars-and-stripes:4", "--epochs", "2", "--quiet", "--out", name))
    return name


# ------------------------------------------------------------------------------------------------
# Training and info


@case
def pretrain_fashion_mnist_and_info():
    data = ENV.fashion_train()
    p = expect_ok(run("pretrain", "--config", ENV.model_config("quick.json"), "--data", data,
                      "--limit", "2000", "--out", "q.h5"))
    expect_plain(p)
    check(re.search(r"2000 rows x 784 columns", p.out), "expected the data summary", p)
    check(re.search(r"saved q\.h5: 2 layers \(784-64-32\)", p.out), "expected the summary", p)
    check(listing() == ["q.h5"], f"expected only q.h5 in the work directory, got {listing()}")

    p = expect_ok(run("info", "q.h5"))
    expect_plain(p)
    check("784-64-32" in p.out and "layer 1: 64 bernoulli -> 32 bernoulli" in p.out,
          "expected the layers in dbn info", p)

    info = info_json("q.h5")
    check(info["format"] == "dbn-model" and info["trained"] is True, f"info: {info}")
    check(info["name"] == "quick" and info["seed"] == 1, f"name/seed: {info}")
    check_stack(info, [784, 64, 32], epochs=3)
    check_model_file("q.h5", [784, 64, 32])


@case
def pretrain_eval_finetune_eval():
    """The partition-function and fine-tuning paths end to end: eval --json before and after
    fine-tuning a classifier on a Fashion-MNIST subset."""
    data = ENV.fashion_train()
    expect_ok(run("pretrain", "--config", ENV.model_config("quick.json"), "--data", data,
                  "--limit", "2000", "--out", "q.h5"))
    info = info_json("q.h5")
    check(len(info["log_z"]) == 2 and len(info["checks"]) == 1, f"checks saved: {info}")
    # --time-budget: the runs added for the check stay well inside the case's 120 s, also under
    # the sanitizers (with the default 300 s they did not).
    p = expect_ok(run("eval", "q.h5", "--data", data, "--limit", "500", "--ais-steps", "quick",
                      "--time-budget", "20", "--json", timeout=120))
    e = json.loads(p.out)
    check(len(e["layers"]) == 2, f"log Z per layer: {e}")
    for layer in e["layers"]:
        check(layer["log_z_method"] in ("exact", "ais") and layer["log_z"] is not None
              and layer["log_z_high"] >= layer["log_z"], f"layer: {layer}")
    for key in ("mean_log_likelihood", "mean_log_likelihood_low", "mean_log_likelihood_high",
                "dbn_lower_bound"):
        check(key in e, f"missing {key}: {e}")
    check(len(e["checks"]) == 1 and {"lower", "upper", "free_energy_gap", "delta_log_z",
                                     "bound_change", "bound_change_low", "bound_change_high",
                                     "passed", "diagnostic"} <= set(e["checks"][0]),
          f"checks: {e['checks']}")
    expect_ok(run("finetune", "q.h5", "--data", data, "--limit", "2000", "--mode", "classifier",
                  "--epochs", "3", "--out", "t.h5", "--quiet", timeout=120))
    p = expect_ok(run("eval", "t.h5", "--data", data, "--limit", "1000", "--ais-steps", "quick",
                      "--time-budget", "20", "--json", timeout=120))
    e = json.loads(p.out)
    m = e["confusion_matrix"]
    check(len(m) == 10 and all(len(r) == 10 for r in m) and sum(map(sum, m)) == 1000,
          f"confusion matrix: {m}")
    # Ten classes: chance is 10%; three epochs on 2,000 images reach well above 50%.
    check(e["accuracy"] > 0.5, f"accuracy {e['accuracy']}")
    check(abs(e["accuracy"] - sum(m[i][i] for i in range(10)) / 1000) < 1e-12, "accuracy vs matrix")


@case
def data_formats_give_the_same_model():
    """The same 0/1 rows and labels as a comma CSV, numpy.savetxt output (blanks, a '#' header
    naming the label column), a gzip-compressed TSV, a semicolon CSV with a BOM, CRLF and quoted
    numbers, a float32 .npy, a Fortran-ordered float64 .npy and an HDF5 array of 4 x 4 images:
    pretraining gives the same parameters bit for bit (the values are exact in every format);
    finetune takes .npy labels and predict writes .npy. Bad ones are refused by name."""
    import gzip
    h5py, np = h5py_numpy()
    rng = np.random.default_rng(11)
    x = (rng.random((90, 16)) < 0.4).astype(np.float32)
    y = rng.integers(0, 3, 90)
    names = [f"px{i}" for i in range(16)] + ["label"]
    rows = [[*map(lambda v: str(int(v)), r), str(c)] for r, c in zip(x, y)]
    (ENV.work / "ref.csv").write_text(",".join(names) + "\n" + "".join(",".join(r) + "\n" for r in rows))
    np.savetxt(ENV.work / "saved.txt", np.c_[x, y], header=" ".join(names))
    with gzip.open(ENV.work / "tab.tsv.gz", "wt") as f:
        f.write("\t".join(names) + "\n" + "".join("\t".join(r) + "\n" for r in rows))
    (ENV.work / "semi.csv").write_bytes(("\ufeff" + ";".join(f'"{n}"' for n in names) + "\r\n" + "".join(
        ";".join(f'"{v}"' for v in r) + "\r\n" for r in rows)).encode())
    np.save(ENV.work / "x.npy", x)
    np.save(ENV.work / "xf.npy", np.asfortranarray(x.astype(np.float64)))
    np.save(ENV.work / "y.npy", y)
    with h5py.File(ENV.work / "img.h5", "w") as f:
        f["x"] = x.reshape(90, 4, 4)
        f["labels"] = y
    cfg = write_config("fmt.json", [8], epochs=2)
    common = ["--no-checks", "--no-checkpoint", "--quiet"]
    expect_ok(run("pretrain", "--config", cfg, "--data", "ref.csv", "--label-column", "label",
                  "--out", "ref.h5", *common))
    ref = parameters("ref.h5")
    for spec, extra in [("saved.txt", ["--label-column", "label"]),
                        ("tab.tsv.gz", ["--label-column", "label"]),
                        ("semi.csv", ["--label-column", "-1", "--delimiter", "semicolon"]),
                        ("x.npy", []), ("xf.npy", []), ("img.h5:/x", [])]:
        expect_ok(run("pretrain", "--config", cfg, "--data", spec, *extra, "--out", "m.h5",
                      *common))
        got = parameters("m.h5")
        check(got.keys() == ref.keys() and all(np.array_equal(got[k], ref[k]) for k in ref),
              f"{spec}: a different model from the same rows")
        (ENV.work / "m.h5").unlink()
    expect_ok(run("finetune", "ref.h5", "--mode", "classifier", "--data", "x.npy", "--labels",
                  "y.npy", "--epochs", "2", "--out", "c.h5", "--quiet"))
    expect_ok(run("predict", "c.h5", "--data", "xf.npy", "--out", "p.npy", "--quiet"))
    expect_ok(run("predict", "c.h5", "--data", "ref.csv", "--label-column", "label", "--out",
                  "p.h5", "--quiet"))
    with h5py.File(ENV.work / "p.h5", "r") as f:
        probs = f["probabilities"][()]
    check(np.array_equal(np.load(ENV.work / "p.npy"), probs), "npy and csv predictions differ")
    expect_ok(run("features", "ref.h5", "--data", "x.npy", "--out", "f.npy", "--quiet"))
    expect_ok(run("features", "ref.h5", "--data", "img.h5:/x", "--out", "f.h5", "--quiet"))
    with h5py.File(ENV.work / "f.h5", "r") as f:
        feats = f["features"][()]
    got = np.load(ENV.work / "f.npy")
    check(got.dtype == np.float32 and got.shape == (90, 8) and np.array_equal(got, feats),
          f"features .npy {got.dtype} {got.shape} differ from the .h5 ones")
    (ENV.work / "short.npy").write_bytes((ENV.work / "x.npy").read_bytes()[:300])
    expect_failure(["pretrain", "--config", cfg, "--data", "short.npy", "--out", "z.h5"],
                   EXIT_BAD_INPUT, [r"short\.npy: truncated: shape \(90, 16\) of <f4"], out="z.h5")
    expect_failure(["pretrain", "--config", cfg, "--data", "semi.csv", "--delimiter", "pipe",
                    "--out", "z.h5"], EXIT_BAD_INPUT, [r'delimiter: "pipe" is none of'], out="z.h5")
    expect_failure(["pretrain", "--config", cfg, "--data", "x.npy", "--delimiter", "tab",
                    "--out", "z.h5"], EXIT_BAD_INPUT, [r"--delimiter: x\.npy is not a CSV file"],
                   out="z.h5")
    (ENV.work / "cut.tsv.gz").write_bytes((ENV.work / "tab.tsv.gz").read_bytes()[:-12])
    expect_failure(["pretrain", "--config", cfg, "--data", "cut.tsv.gz", "--label-column", "label",
                    "--out", "z.h5"], EXIT_BAD_INPUT, [r"cut\.tsv\.gz: truncated gzip stream"],
                   out="z.h5")


@case
def labelled_csv_by_label_column():
    """A CSV whose last header column is `label`: refused without --label-column (never trained
    as a feature), then pretrain, finetune, eval and predict take it as the labels; the model
    equals, parameter for parameter, the one trained on the same rows without the column, and the
    config key input.label_column does what the flag does."""
    _, np = h5py_numpy()
    rng = np.random.default_rng(5)
    x = (rng.random((120, 16)) < 0.3).astype(int)
    y = rng.integers(0, 3, 120)
    header = ",".join(f"px{i}" for i in range(16))
    (ENV.work / "digits.csv").write_text(
        header + ",label\n" + "".join(",".join(map(str, r)) + f",{c}\n" for r, c in zip(x, y)))
    (ENV.work / "plain.csv").write_text(
        header + "\n" + "".join(",".join(map(str, r)) + "\n" for r in x))
    cfg = write_config("lab.json", [8], epochs=2)
    expect_failure(["pretrain", "--config", cfg, "--data", "digits.csv", "--out", "m.h5"],
                   EXIT_BAD_INPUT, [r'digits.csv: column 17 is named "label"', "--label-column"],
                   out="m.h5")
    expect_failure(["pretrain", "--config", cfg, "--data", "digits.csv", "--label-column", "lbl",
                    "--out", "m.h5"], EXIT_BAD_INPUT, [r'no column named "lbl"'], out="m.h5")
    common = ["--no-checks", "--no-checkpoint", "--quiet"]
    expect_ok(run("pretrain", "--config", cfg, "--data", "digits.csv", "--label-column", "label",
                  "--out", "m.h5", *common))
    expect_ok(run("pretrain", "--config", cfg, "--data", "plain.csv", "--out", "plain.h5",
                  *common))
    a, b = parameters("m.h5"), parameters("plain.h5")
    check(a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a),
          "the labelled CSV and the same rows without the label column gave different models")
    check(info_json("m.h5")["layers"][0]["n_visible"] == 16, "the label became a feature")
    # The config key, by index.
    keyed = json.loads((ENV.work / cfg).read_text())
    keyed["input"]["label_column"] = -1
    (ENV.work / "keyed.json").write_text(json.dumps(keyed))
    expect_ok(run("pretrain", "--config", "keyed.json", "--data", "digits.csv", "--out",
                  "keyed.h5", *common))
    c = parameters("keyed.h5")
    check(all(np.array_equal(a[k], c[k]) for k in a), "input.label_column -1 differs")
    expect_ok(run("finetune", "m.h5", "--data", "digits.csv", "--label-column", "label",
                  "--mode", "classifier", "--epochs", "2", "--no-checkpoint", "--quiet",
                  "--out", "f.h5"))
    p = expect_ok(run("eval", "f.h5", "--data", "digits.csv", "--label-column", "LABEL",
                      "--no-logz"))
    check("classifier accuracy" in p.out, "eval printed no accuracy", p)
    expect_ok(run("predict", "f.h5", "--data", "digits.csv", "--label-column", "16", "--out",
                  "p.csv", "--quiet"))
    lines = (ENV.work / "p.csv").read_text().splitlines()
    check(len(lines) == 121 and lines[0].startswith("label,predicted"), f"p.csv: {lines[:2]}")
    check([int(l.split(",")[0]) for l in lines[1:]] == list(y), "p.csv labels differ")
    # --labels from the same CSV, by name.
    expect_ok(run("finetune", "m.h5", "--data", "plain.csv", "--labels", "digits.csv",
                  "--label-column", "label", "--mode", "classifier", "--epochs", "1",
                  "--no-checkpoint", "--quiet", "--out", "f2.h5"))
    expect_failure(["eval", "f.h5", "--data", "bars-and-stripes:4", "--label-column", "label"],
                   EXIT_BAD_INPUT, [r"--label-column: .* is not a CSV file"])


@case
def strict_turns_a_failed_check_into_exit_3():
    """Layer 1 starts from large random weights and barely trains, so it models layer 0's hidden
    samples far worse than layer 0's own prior: D is about -23 nats with exact log Z (measured),
    a failed check. --strict exits 3 after saving; without it the run succeeds with a warning."""
    cfg = {"name": "fail", "seed": 3, "heldout_fraction": 0, "input": {"scale": 1},
           "checks": {"log_z": "exact"},
           "defaults": {"batch_size": 10, "learning_rate": 0.1, "algorithm": "pcd"},
           "layers": [{"hidden": 12, "epochs": 300, "sample_up": True},
                      {"hidden": 10, "epochs": 1, "learning_rate": 1e-6, "init_stddev": 3.0}]}
    (ENV.work / "fail.json").write_text(json.dumps(cfg))
    args = ["pretrain", "--config", "fail.json", "--data", "bars-and-stripes:4",
            "--validation", "bars-and-stripes:4"]
    p = run(*args, "--out", "strict.h5", "--strict")
    check(p.returncode == 3, "expected exit status 3", p)
    check("consistency check failed" in p.err and "FAILED" in p.out, "expected the failure", p)
    info = info_json("strict.h5")
    check(info["checks"][0]["passed"] is False and info["checks"][0]["bound_change_high"] < 0,
          f"the saved check: {info['checks']}")
    p = run(*args, "--out", "lenient.h5")
    check(p.returncode == 0 and "warning" in p.err, "expected success with a warning", p)


@case
def plain_output_when_not_a_terminal():
    p = expect_ok(run("pretrain", "--config", ENV.model_config("bars-and-stripes.json"),
                      "--data", "bars-and-stripes:4", "--epochs", "5", "--out", "bs.h5"))
    expect_plain(p)
    check(len(re.findall(r"epoch \d+/5", p.out)) == 5, "expected one line per epoch", p)
    expect_plain(expect_ok(run("info", "bs.h5")))


def run_on_a_terminal(args, columns=None, env=None):
    """Runs dbn with stdout on a pseudo-terminal of `columns` columns (None: a size of 0, which
    says nothing) and `env` added to the environment; stderr is a pipe."""
    import fcntl
    import pty
    import termios
    master, slave = pty.openpty()
    attrs = termios.tcgetattr(slave)
    attrs[1] &= ~termios.OPOST  # no "\n" -> "\r\n" translation by the terminal
    termios.tcsetattr(slave, termios.TCSANOW, attrs)
    if columns is not None:
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    cmd = [ENV.dbn] + [str(a) for a in args]
    environ = dict(os.environ)
    environ.pop("COLUMNS", None)
    environ.update(env or {})
    p = subprocess.Popen(cmd, cwd=ENV.work, stdin=subprocess.DEVNULL, stdout=slave,
                         stderr=subprocess.PIPE, env=environ)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the program closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    p.wait(timeout=60)
    p.out = b"".join(chunks).decode("utf-8", "replace")
    p.err = p.stderr.read().decode("utf-8", "replace")
    p.cmd = " ".join(cmd)
    return p


def redrawn_lines(out):
    """What lies between two '\r' on the terminal: the lines drawn over each other."""
    return re.findall(r"(?<=\r)[^\r\n]*(?=\r)", out)


@case
def progress_bar_on_a_terminal():
    # The control for the case above: on a terminal the progress line is redrawn with '\r'.
    p = run_on_a_terminal(["pretrain", "--config", ENV.model_config("bars-and-stripes.json"),
                           "--data", "bars-and-stripes:4", "--epochs", "5", "--out", "bs.h5"])
    check(p.returncode == 0 and p.err == "", "expected success", p)
    check(re.search(r"\r  layer 0/0 epoch 5/5 \[#+\] 100%", p.out),
          "expected a progress line redrawn with '\\r' on a terminal", p)
    check(len(re.findall(r"(?:^|\r)  layer 0 epoch \d/5: recon", p.out, re.MULTILINE)) == 5,
          "expected one summary line per epoch", p)


@case
def progress_line_fits_the_terminal_width():
    """At 60 columns every redraw of an 84-column line wrapped onto a new line: the redrawn line
    now stays within the terminal's width (its size, else COLUMNS, else 80 columns)."""
    args = ["pretrain", "--config", ENV.model_config("bars-and-stripes.json"), "--data",
            "bars-and-stripes:4", "--epochs", "3", "--out", "bs.h5"]
    for columns, env, width in [(60, {}, 60), (60, {"COLUMNS": "200"}, 60),
                                (None, {"COLUMNS": "50"}, 50), (None, {}, 80),
                                (None, {"COLUMNS": "junk"}, 80), (200, {}, 200)]:
        p = run_on_a_terminal(args, columns, env)
        check(p.returncode == 0 and p.err == "", "expected success", p)
        lines = redrawn_lines(p.out)
        check(any("epoch 3/3" in line for line in lines), f"{columns}/{env}: no live line", p)
        longest = max(len(line) for line in lines)
        check(longest < width, f"terminal {columns}, {env}: a live line of {longest} "
              f"characters", p)
        if width == 200:  # wide enough: the whole line, its 30-character bar and the time left
            check(re.search(r"\[#{30}\] 100%  layer time left \S+", p.out), "expected the "
                  "whole line", p)
        (ENV.work / "bs.h5").unlink()


@case
def reproducible_with_seed():
    _, np = h5py_numpy()
    runs = [("bars-and-stripes.json", "bars-and-stripes:4", ["--epochs", "5"])]
    if (ENV.fashion / "train-images-idx3-ubyte.gz").is_file():
        runs.append(("quick.json", ENV.fashion_train(), ["--limit", "2000"]))
    for config, data, extra in runs:
        def train(seed, out):
            expect_ok(run("pretrain", "--config", ENV.model_config(config), "--data", data,
                          *extra, "--seed", seed, "--quiet", "--out", out))
            return parameters(out)

        a, b, c = train(5, "a.h5"), train(5, "b.h5"), train(6, "c.h5")
        check(a.keys() == b.keys() and "0/weights" in a, f"{config}: datasets {sorted(a)}")
        for name in a:
            check(a[name].dtype == b[name].dtype and a[name].tobytes() == b[name].tobytes(),
                  f"{config}: /layers/{name} differs between two runs with --seed 5")
        check(not np.array_equal(a["0/weights"], c["0/weights"]),
              f"{config}: --seed 6 gave the same weights as --seed 5")
        check(info_json("a.h5")["seed"] == 5 and info_json("c.h5")["seed"] == 6,
              f"{config}: the seed is not recorded in the model")


@case
def bars_and_stripes():
    p = expect_ok(run("pretrain", "--config", ENV.model_config("bars-and-stripes.json"),
                      "--data", "bars-and-stripes:4", "--epochs", "5", "--out", "bs.h5"))
    check(re.search(r"30 rows x 16 columns", p.out), "expected 30 patterns of 16 pixels", p)
    info = info_json("bs.h5")
    check_stack(info, [16, 12], epochs=5)
    check(info["layers"][0]["training"]["algorithm"] == "pcd", f"algorithm: {info}")
    check_model_file("bs.h5", [16, 12])


@case
def csv_input():
    write_csv("train.csv", rows=200, cols=16)
    cfg = write_config("small.json", hidden=[8, 4], epochs=2)
    p = expect_ok(run("pretrain", "--config", cfg, "--data", "train.csv", "--out", "m.h5"))
    check(re.search(r"200 rows x 16 columns", p.out), "expected the CSV's shape", p)
    check_stack(info_json("m.h5"), [16, 8, 4], epochs=2)
    check_model_file("m.h5", [16, 8, 4])


@case
def hdf5_input():
    h5py, np = h5py_numpy()
    x = (np.random.default_rng(1).random((150, 16)) < 0.4).astype(np.float32)
    with h5py.File(ENV.work / "in.h5", "w") as f:
        f["x"] = x
        f["group/y"] = x[:60]
    cfg = write_config("small.json", hidden=[8], epochs=2)
    p = expect_ok(run("pretrain", "--config", cfg, "--data", "in.h5:/x", "--out", "m.h5"))
    check(re.search(r"150 rows x 16 columns", p.out), "expected the data set's shape", p)
    check_stack(info_json("m.h5"), [16, 8], epochs=2)
    p = expect_ok(run("pretrain", "--config", cfg, "--data", "in.h5:/group/y", "--out", "n.h5"))
    check(re.search(r"60 rows x 16 columns", p.out), "expected the nested data set's shape", p)
    check_model_file("n.h5", [16, 8])


# ------------------------------------------------------------------------------------------------
# Checkpoints and resume


def checkpoint_run_files():
    """A 2,000-row CSV and a two-layer configuration whose pretraining takes a second or two."""
    _, np = h5py_numpy()
    rng = np.random.default_rng(4)
    # Four prototypes with 5% of the bits flipped: structure the layers learn.
    protos = rng.random((4, 64)) < 0.4
    x = protos[rng.integers(0, 4, 2000)] ^ (rng.random((2000, 64)) < 0.05)
    (ENV.work / "rows.csv").write_text("".join(",".join(map(str, r)) + "\n"
                                               for r in x.astype(int)))
    cfg = write_config("ck.json", hidden=[48, 24], epochs=5)
    return ["pretrain", "--config", cfg, "--data", "rows.csv", "--checkpoint-every", "1"]


def model_content(path):
    """Every dataset and attribute of a model file but wall-clock seconds, as comparable values."""
    h5py, np = h5py_numpy()
    out = {}

    def visit(name, obj):
        for k, v in obj.attrs.items():
            if k != "seconds":
                out[f"{name}@{k}"] = np.asarray(v).tobytes() if not isinstance(v, (str, bytes)) \
                    else text(v)
        if isinstance(obj, h5py.Dataset) and not name.endswith("/seconds"):
            out[name] = obj[()].tobytes()

    with h5py.File(ENV.work / path, "r") as f:
        visit("/", f)
        f.visititems(visit)
    return out


def same_model(a, b):
    ca, cb = model_content(a), model_content(b)
    diff = sorted(k for k in set(ca) | set(cb) if ca.get(k) != cb.get(k))
    return diff


def wait_for(path, proc, timeout=60):
    t0 = time.monotonic()
    while not (ENV.work / path).exists():
        check(proc.poll() is None, f"the run ended (status {proc.returncode}) before {path}")
        check(time.monotonic() - t0 < timeout, f"{path} did not appear within {timeout} s")
        time.sleep(0.005)


def wait_for_handler(proc, sig, timeout=60):
    """Waits until `proc` catches `sig` (bit sig-1 of SigCgt in /proc/PID/status): a signal sent
    before the program installs its handler ends it with the default action, which is not what
    these cases test. Start-up under the sanitizers on a loaded machine took over 0.15 s."""
    t0 = time.monotonic()
    while True:
        check(proc.poll() is None, f"the run ended (status {proc.returncode}) before its handler")
        try:
            status = (Path("/proc") / str(proc.pid) / "status").read_text()
            caught = int(re.search(r"^SigCgt:\s*([0-9a-f]+)", status, re.M)[1], 16)
            if caught >> (sig - 1) & 1:
                return
        except (OSError, TypeError):
            pass
        check(time.monotonic() - t0 < timeout, f"no handler of signal {sig} within {timeout} s")
        time.sleep(0.005)


def start(args):
    return subprocess.Popen([ENV.dbn] + [str(a) for a in args], cwd=ENV.work,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


@case
def pretrain_killed_at_random_moments_resumes_bit_for_bit():
    """SIGKILL at 20 seeded random moments of a run that checkpoints after every epoch, then
    `--resume`: every resumed run writes the uninterrupted run's model (every array and attribute
    but wall-clock seconds), and leaves no checkpoint or temporary file behind."""
    import random
    args = checkpoint_run_files()
    t0 = time.monotonic()
    expect_ok(run(*args, "--out", "full.h5", "--quiet"))
    seconds = time.monotonic() - t0
    rng = random.Random(20)
    resumed = 0
    for i in range(20):
        for f in ["part.h5", "part.h5.checkpoint.h5"]:
            (ENV.work / f).unlink(missing_ok=True)
        p = start(args + ["--out", "part.h5", "--quiet"])
        # From the first checkpoint on (before it, a killed run has nothing to resume).
        wait_for("part.h5.checkpoint.h5", p)
        time.sleep(rng.uniform(0, 0.4 * seconds))
        p.kill()
        p.wait()
        check(p.returncode in (0, -9), f"run {i}: status {p.returncode}")
        if not (ENV.work / "part.h5.checkpoint.h5").exists():
            # Killed after the model was saved (and its checkpoint removed), or finished first.
            diff = same_model("full.h5", "part.h5")
            check(not diff, f"run {i}: the model differs from the uninterrupted one in {diff[:5]}")
            continue
        r = expect_ok(run("pretrain", "--resume", "part.h5.checkpoint.h5", "--quiet"))
        diff = same_model("full.h5", "part.h5")
        check(not diff, f"run {i}: the resumed model differs from the uninterrupted one in "
                        f"{diff[:5]}", r)
        check(not (ENV.work / "part.h5.checkpoint.h5").exists(),
              "the checkpoint is still there after the model was saved")
        no_temp_files()
        resumed += 1
    check(resumed >= 10, f"only {resumed} of 20 runs were killed before they finished")


@case
def pretrain_sigint_and_sigterm_stop_with_a_checkpoint():
    """SIGINT (exit 130) and SIGTERM (exit 143) finish the minibatch, write the checkpoint, say
    how to resume and write no model; the resumed run gives the uninterrupted run's model."""
    args = checkpoint_run_files()
    expect_ok(run(*args, "--out", "full.h5", "--quiet"))
    for sig, status in [(2, 130), (15, 143)]:
        for f in ["part.h5", "part.h5.checkpoint.h5"]:
            (ENV.work / f).unlink(missing_ok=True)
        p = start(args + ["--out", "part.h5"])
        wait_for("part.h5.checkpoint.h5", p)
        (ENV.work / "part.h5.checkpoint.h5").unlink()  # the one the signal writes comes next
        p.send_signal(sig)
        _, err = p.communicate(timeout=60)
        err = err.decode()
        check(p.returncode == status, f"signal {sig}: status {p.returncode} (expected {status})"
                                      f"\n{err}")
        check("resume with: dbn pretrain --resume part.h5.checkpoint.h5" in err,
              f"signal {sig}: stderr does not say how to resume:\n{err}")
        check((ENV.work / "part.h5.checkpoint.h5").exists(), "no checkpoint after the signal")
        check(not (ENV.work / "part.h5").exists(), "a model was written by a stopped run")
        no_temp_files()
        expect_ok(run("pretrain", "--resume", "part.h5.checkpoint.h5", "--quiet"))
        diff = same_model("full.h5", "part.h5")
        check(not diff, f"signal {sig}: the resumed model differs in {diff[:5]}")


@case
def pretrain_resume_refuses_what_is_not_its_run():
    """--resume with other data, a model file, a missing file, or flags that would make it
    another run: refused with a message naming the problem, nothing written."""
    args = checkpoint_run_files()
    p = start(args + ["--out", "part.h5"])
    wait_for("part.h5.checkpoint.h5", p)
    p.send_signal(2)
    p.communicate(timeout=60)
    check(p.returncode == 130, f"status {p.returncode}")
    p = expect_ok(run("info", "part.h5.checkpoint.h5"))
    check(re.search(r"pretraining checkpoint at layer 0 \(epochs done: \d+, minibatches of the next: \d+\); "
                    r"resume with: dbn pretrain --resume part\.h5\.checkpoint\.h5", p.out),
          "dbn info does not say what the checkpoint is", p)
    other = (ENV.work / "rows.csv").read_text().splitlines()
    other[7] = other[7][:-1] + ("0" if other[7][-1] == "1" else "1")  # one value changed
    (ENV.work / "other.csv").write_text("\n".join(other) + "\n")
    expect_failure(["pretrain", "--resume", "part.h5.checkpoint.h5", "--data", "other.csv"],
                   EXIT_BAD_INPUT, [r"data differ from the checkpoint"], out="part.h5")
    expect_ok(run("pretrain", "--config", "ck.json", "--data", "rows.csv", "--out", "m.h5",
                  "--quiet", "--no-checkpoint"))
    expect_failure(["pretrain", "--resume", "m.h5", "--out", "x.h5"], EXIT_BAD_INPUT,
                   [r"m\.h5: not a pretraining checkpoint"], out="x.h5")
    expect_failure(["pretrain", "--resume", "missing.h5", "--out", "x.h5"], EXIT_BAD_INPUT,
                   [r"missing\.h5"], out="x.h5")
    for flags in [["--config", "ck.json"], ["--seed", "4"], ["--epochs", "2"], ["--limit", "9"],
                  ["--no-checks"]]:
        expect_failure(["pretrain", "--resume", "part.h5.checkpoint.h5"] + flags, EXIT_USAGE,
                       [re.escape(flags[0]) + r" excludes --resume"], out="part.h5")
    expect_failure(["pretrain", "--data", "rows.csv"], EXIT_USAGE, [r"--config"])
    expect_failure(["pretrain", "--config", "ck.json", "--data", "rows.csv", "--out", "y.h5",
                    "--checkpoint", "rows.csv"], EXIT_BAD_INPUT,
                   [r"rows\.csv: the checkpoint would overwrite the input"], out="y.h5")
    expect_failure(["pretrain", "--config", "ck.json", "--data", "rows.csv", "--out", "y.h5",
                    "--checkpoint", "y.h5"], EXIT_BAD_INPUT,
                   [r"the checkpoint cannot be the model file"], out="y.h5")


@case
def pretrain_unwritable_checkpoint_warns_and_trains_on():
    """A periodic checkpoint that cannot be written (its folder vanished after the first one) is
    a warning: training goes on and the model is saved. A checkpoint path that is a folder is
    refused before training."""
    args = checkpoint_run_files()
    (ENV.work / "cks").mkdir()
    expect_failure(args + ["--out", "y.h5", "--checkpoint", "cks"], EXIT_BAD_INPUT,
                   [r"cks: cannot write the checkpoint: it is a folder"], out="y.h5")
    p = subprocess.Popen([ENV.dbn] + args + ["--out", "m.h5", "--quiet", "--checkpoint",
                                             "cks/ck.h5"],
                         cwd=ENV.work, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    wait_for("cks/ck.h5", p)
    (ENV.work / "cks").rename(ENV.work / "gone")  # atomic, even while a checkpoint is written
    out, err = p.communicate(timeout=60)
    err = err.decode()
    check(p.returncode == EXIT_OK, f"status {p.returncode}\n{err}")
    check("warning: checkpoint not written" in err, f"expected a warning:\n{err}")
    check((ENV.work / "m.h5").exists(), "no model")
    check(not (ENV.work / "cks").exists(), "the checkpoint folder came back")


# Fine-tuning checkpoints and resume


def finetune_checkpoint_files(epochs=40, validation=False):
    """A 3,000-row labelled CSV, a 64-96-48 model pretrained on it, and the arguments of a
    fine-tuning run (Adam with dropout, a checkpoint after every epoch) of about a second."""
    _, np = h5py_numpy()
    rng = np.random.default_rng(4)
    protos = rng.random((8, 64)) < 0.4
    k = rng.integers(0, 8, 3000)
    x = protos[k] ^ (rng.random((3000, 64)) < 0.32)  # noisy enough not to reach 100%
    (ENV.work / "rows.csv").write_text("".join(",".join(map(str, r)) + "\n"
                                               for r in x.astype(int)))
    (ENV.work / "labels.csv").write_text("".join(f"{v}\n" for v in k))
    cfg = write_config("ck.json", hidden=[96, 48], epochs=2)
    expect_ok(run("pretrain", "--config", cfg, "--data", "rows.csv", "--out", "m.h5", "--quiet",
                  "--no-checkpoint", "--no-checks"))
    args = ["finetune", "m.h5", "--data", "rows.csv", "--labels", "labels.csv", "--mode",
            "classifier", "--epochs", str(epochs), "--batch-size", "10", "--dropout", "0.2",
            "--learning-rate", "0.003", "--checkpoint-every", "1"]
    # With validation: early stopping (its best weights and patience count are state); without,
    # the last epoch's weights are the model's.
    return args + (["--patience", "4"] if validation else ["--validation-fraction", "0"])


def fresh(*names):
    for f in names:
        (ENV.work / f).unlink(missing_ok=True)


@case
def finetune_killed_at_random_moments_resumes_bit_for_bit():
    """SIGKILL at 10 seeded random moments of a fine-tuning run that checkpoints after every
    epoch, then `dbn finetune --resume`: every resumed run writes the uninterrupted run's model
    (every array and attribute but wall-clock seconds), and leaves no checkpoint or temporary
    file behind."""
    import random
    args = finetune_checkpoint_files()
    t0 = time.monotonic()
    expect_ok(run(*args, "--out", "full.h5", "--quiet"))
    seconds = time.monotonic() - t0
    rng = random.Random(21)
    resumed = 0
    for i in range(10):
        fresh("part.h5", "part.h5.checkpoint.h5")
        p = start(args + ["--out", "part.h5", "--quiet"])
        wait_for("part.h5.checkpoint.h5", p)
        time.sleep(rng.uniform(0, 0.8 * seconds))
        p.kill()
        p.wait()
        check(p.returncode in (0, -9), f"run {i}: status {p.returncode}")
        if not (ENV.work / "part.h5.checkpoint.h5").exists():
            diff = same_model("full.h5", "part.h5")
            check(not diff, f"run {i}: the model differs from the uninterrupted one in {diff[:5]}")
            continue
        check(not (ENV.work / "part.h5").exists(), f"run {i}: a model beside its checkpoint")
        r = expect_ok(run("finetune", "--resume", "part.h5.checkpoint.h5", "--quiet"))
        diff = same_model("full.h5", "part.h5")
        check(not diff, f"run {i}: the resumed model differs from the uninterrupted one in "
                        f"{diff[:5]}", r)
        check(not (ENV.work / "part.h5.checkpoint.h5").exists(),
              "the checkpoint is still there after the model was saved")
        no_temp_files()
        resumed += 1
    check(resumed >= 6, f"only {resumed} of 10 runs were killed before they finished")


@case
def finetune_sigint_and_sigterm_stop_with_a_checkpoint():
    """SIGINT (exit 130) and SIGTERM (exit 143) finish the minibatch, write the checkpoint, say
    how to resume, and leave an existing --out file as it was; the resumed run (early stopping
    on held-out rows under way) writes the uninterrupted run's model over it."""
    args = finetune_checkpoint_files(validation=True)
    expect_ok(run(*args, "--out", "full.h5", "--quiet"))
    old = (ENV.work / "m.h5").read_bytes()  # an existing file where the model goes
    for sig, status in [(2, 130), (15, 143)]:
        fresh("part.h5.checkpoint.h5")
        (ENV.work / "part.h5").write_bytes(old)
        p = start(args + ["--out", "part.h5"])
        wait_for("part.h5.checkpoint.h5", p)
        (ENV.work / "part.h5.checkpoint.h5").unlink()  # the one the signal writes comes next
        p.send_signal(sig)
        _, err = p.communicate(timeout=60)
        err = err.decode()
        check(p.returncode == status, f"signal {sig}: status {p.returncode} (expected {status})"
                                      f"\n{err}")
        check(re.search(r"^dbn: interrupted by SIG(INT|TERM) \(fine-tuning stopped (in|after) "
                        r"epoch \d+.*\); resume with: dbn finetune --resume "
                        r"part\.h5\.checkpoint\.h5$", err, re.M),
              f"signal {sig}: stderr does not say how to resume:\n{err}")
        check((ENV.work / "part.h5.checkpoint.h5").exists(), "no checkpoint after the signal")
        check((ENV.work / "part.h5").read_bytes() == old, "the existing --out file changed")
        no_temp_files()
        p = run("info", "part.h5.checkpoint.h5")
        check(re.search(r"fine-tuning checkpoint of m\.h5 \(classifier, \d+ of 40 epochs done, "
                        r"minibatches of the next: \d+, writes part\.h5\); resume with: dbn "
                        r"finetune --resume part\.h5\.checkpoint\.h5", p.out),
              "dbn info does not say what the checkpoint is", p)
        expect_ok(run("finetune", "--resume", "part.h5.checkpoint.h5", "--quiet"))
        diff = same_model("full.h5", "part.h5")
        check(not diff, f"signal {sig}: the resumed model differs in {diff[:5]}")
        check(not (ENV.work / "part.h5.checkpoint.h5").exists(), "checkpoint left after success")
    # The run did stop early and keep earlier weights: the case covers that state.
    h5py, _ = h5py_numpy()
    with h5py.File(ENV.work / "full.h5", "r") as f:
        epochs = len(f["fine_tuning/history/epoch"])
        best = int(f["fine_tuning"].attrs["best_epoch"])
    check(best < epochs, f"best epoch {best} of {epochs}: no early-stopping state covered")


@case
def finetune_second_sigint_exits_at_once():
    """A second SIGINT while the first one's checkpoint is on its way ends the run at once: exit
    130, no resume message, the existing checkpoint and --out untouched (at most a temporary
    file is left, which the next run removes); the checkpoint then still resumes to the
    uninterrupted run's model."""
    args = finetune_checkpoint_files(epochs=100)
    expect_ok(run(*args, "--out", "full.h5", "--quiet"))
    # Checkpoints on a stop only (neither by count nor by time), so that nothing else writes.
    args = [a for a in args if a not in ("--checkpoint-every", "1")] + ["--checkpoint-seconds",
                                                                       "0"]
    p = start(args + ["--out", "part.h5"])
    wait_for_handler(p, 2)
    time.sleep(0.15)
    p.send_signal(2)
    _, err = p.communicate(timeout=60)
    check(p.returncode == 130, f"status {p.returncode}\n{err.decode()}")
    ck = (ENV.work / "part.h5.checkpoint.h5").read_bytes()
    (ENV.work / "part.h5").write_bytes(b"an existing file\n")
    before = listing()
    for attempt in range(5):
        p = start(["finetune", "--resume", "part.h5.checkpoint.h5", "--checkpoint-seconds", "0"])
        wait_for_handler(p, 2)
        time.sleep(0.15)  # training under way
        p.send_signal(2)
        time.sleep(0.002)  # two pending SIGINTs would be delivered as one
        p.send_signal(2)
        _, err = p.communicate(timeout=60)
        err = err.decode()
        check(p.returncode == 130, f"status {p.returncode}\n{err}")
        if "resume with" not in err:
            break  # the second signal came before the first one's checkpoint: the case tested
        # The first signal's checkpoint was written before the second arrived: start again.
        ck = (ENV.work / "part.h5.checkpoint.h5").read_bytes()
    check("resume with" not in err, f"five runs finished their checkpoint first:\n{err}")
    check("interrupted" not in err, f"the second SIGINT did not end the run at once:\n{err}")
    check((ENV.work / "part.h5.checkpoint.h5").read_bytes() == ck, "the checkpoint changed")
    check((ENV.work / "part.h5").read_bytes() == b"an existing file\n", "--out changed")
    # What may be left: the lock of the output and the temporary file of the checkpoint the
    # first signal had begun (the next run removes both).
    def kept(files):
        return [f for f in files if not f.endswith(".lock") and ".tmp." not in f]
    after = listing()
    check(kept(after) == kept(before), f"files changed: {sorted(set(after) ^ set(before))}")
    expect_ok(run("finetune", "--resume", "part.h5.checkpoint.h5", "--quiet"))
    diff = same_model("full.h5", "part.h5")
    check(not diff, f"the resumed model differs in {diff[:5]}")
    no_temp_files()


@case
def finetune_resume_refuses_what_is_not_its_run():
    """--resume with flags that would make another run, other data, labels or model, a file that
    is not a fine-tuning checkpoint: refused with one line naming the problem, nothing written."""
    args = finetune_checkpoint_files()
    p = start(args + ["--out", "part.h5"])
    wait_for("part.h5.checkpoint.h5", p)
    p.send_signal(2)
    p.communicate(timeout=60)
    check(p.returncode == 130, f"status {p.returncode}")
    resume = ["finetune", "--resume", "part.h5.checkpoint.h5"]
    for flags in [["--mode", "autoencoder"], ["--seed", "4"], ["--epochs", "2"],
                  ["--limit", "9"], ["--batch-size", "5"], ["--learning-rate", "0.1"],
                  ["--optimizer", "sgd"], ["--dropout", "0"], ["--patience", "2"],
                  ["--validation-fraction", "0.2"], ["--random-init"], ["--head-only"],
                  ["--weight-decay", "0"], ["--momentum", "0.5"], ["--learning-rate-decay", "0.9"],
                  ["--input-dropout", "0.1"]]:
        p = expect_failure(resume + flags, EXIT_USAGE, [re.escape(flags[0]) + r" excludes --resume"],
                           out="part.h5")
        check(p.err.count("dbn:") == 1, "more than one message", p)
    other = (ENV.work / "rows.csv").read_text().splitlines()
    other[7] = other[7][:-1] + ("0" if other[7][-1] == "1" else "1")  # one value changed
    (ENV.work / "other.csv").write_text("\n".join(other) + "\n")
    labels = (ENV.work / "labels.csv").read_text().splitlines()
    labels[3] = str((int(labels[3]) + 1) % 8)
    (ENV.work / "other-labels.csv").write_text("\n".join(labels) + "\n")
    expect_failure(resume + ["--data", "other.csv"], EXIT_BAD_INPUT,
                   [r"part\.h5\.checkpoint\.h5: the data differ from the checkpoint's run"],
                   out="part.h5")
    expect_failure(resume + ["--labels", "other-labels.csv"], EXIT_BAD_INPUT,
                   [r"the data differ from the checkpoint's run"], out="part.h5")
    expect_ok(run("pretrain", "--config", "ck.json", "--data", "rows.csv", "--out", "m2.h5",
                  "--quiet", "--no-checkpoint", "--no-checks", "--seed", "9"))
    expect_failure(["finetune", "m2.h5", "--resume", "part.h5.checkpoint.h5"], EXIT_BAD_INPUT,
                   [r"m2\.h5 is not the model the checkpoint's run fine-tunes"], out="part.h5")
    expect_failure(["finetune", "--resume", "m.h5", "--out", "x.h5"], EXIT_BAD_INPUT,
                   [r"m\.h5: not a fine-tuning checkpoint"], out="x.h5")
    expect_failure(["finetune", "--resume", "missing.h5", "--out", "x.h5"], EXIT_BAD_INPUT,
                   [r"missing\.h5: no such file"], out="x.h5")
    p = start(["pretrain", "--config", "ck.json", "--data", "rows.csv", "--out", "pre.h5",
               "--checkpoint-every", "1", "--epochs", "50"])
    wait_for("pre.h5.checkpoint.h5", p)
    p.send_signal(2)
    p.communicate(timeout=60)
    expect_failure(["finetune", "--resume", "pre.h5.checkpoint.h5"], EXIT_BAD_INPUT,
                   [r"a pretraining checkpoint, not a fine-tuning one"], out="pre.h5")
    expect_failure(["pretrain", "--resume", "part.h5.checkpoint.h5"], EXIT_BAD_INPUT,
                   [r"a fine-tuning checkpoint, not a pretraining one"], out="part.h5")
    expect_failure(["finetune", "--data", "rows.csv", "--mode", "classifier", "--out", "y.h5"],
                   EXIT_USAGE, [r"model \(or --resume CHECKPOINT\) is required"])
    base = args[:1] + args[1:] + ["--out", "y.h5"]
    expect_failure(base + ["--checkpoint", "rows.csv"], EXIT_BAD_INPUT,
                   [r"rows\.csv: the checkpoint would overwrite the input rows\.csv \(--data\)"],
                   out="y.h5")
    expect_failure(base + ["--checkpoint", "y.h5"], EXIT_BAD_INPUT,
                   [r"the checkpoint cannot be the model file"], out="y.h5")
    expect_failure(base + ["--checkpoint", "nowhere/ck.h5"], EXIT_BAD_INPUT,
                   [r"cannot write the checkpoint: folder .* does not exist"], out="y.h5")
    # The checkpoint is still good after all that; resumed with --no-checkpoint, it is removed
    # once the model is saved all the same.
    expect_ok(run(*resume, "--quiet", "--no-checkpoint"))
    check((ENV.work / "part.h5").exists() and not (ENV.work / "part.h5.checkpoint.h5").exists(),
          "no model, or the checkpoint left")


@case
def finetune_no_checkpoint_and_default_seconds():
    """--no-checkpoint writes none, and a stop then says so without a resume hint; without
    --checkpoint-every a short run writes none either (300 s between checkpoints)."""
    args = [a for a in finetune_checkpoint_files() if a not in ("--checkpoint-every", "1")]
    p = subprocess.Popen([ENV.dbn] + args + ["--out", "a.h5"], cwd=ENV.work,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = p.communicate(timeout=60)
    check(p.returncode == 0, f"status {p.returncode}\n{err.decode()}")
    check("checkpoint:" not in out.decode(), f"a checkpoint was written:\n{out.decode()}")
    p = start(args + ["--out", "b.h5", "--no-checkpoint"])
    wait_for_handler(p, 15)
    time.sleep(0.1)
    p.send_signal(15)
    _, err = p.communicate(timeout=60)
    err = err.decode()
    check(p.returncode == 143, f"status {p.returncode}\n{err}")
    check("interrupted by SIGTERM" in err and "resume with" not in err, f"stderr:\n{err}")
    check(not [f for f in listing() if f.startswith("b.h5")], f"files: {listing()}")


# ------------------------------------------------------------------------------------------------
# Bad data (exit 2)


def pretrain_on(data, config=None):
    config = config or write_config("small.json", hidden=[8], epochs=1)
    return ["pretrain", "--config", config, "--data", data, "--out", "out.h5"]


@case
def bench_json_reports_every_measurement():
    """`dbn bench --json`: one object with the keys of the performance issue and sane values."""
    data = ENV.fashion_train()
    p = expect_ok(run("bench", "--quick", "--rows", "1000", "--runs", "1", "--json", "--data", data,
                      timeout=180))
    obj = json.loads(p.out)
    check(isinstance(obj["openblas_core"], str) and obj["openblas_core"], f"core: {obj}")
    check(obj["threads"] >= 1 and obj["rows"] == 1000 and obj["shape"] == [784, 500], f"{obj}")
    for key in ["gemm_gflops", "cd1_seconds_per_epoch", "pcd1_seconds_per_epoch", "ais_seconds",
                "peak_rss_mib", "finetune_seconds_per_epoch", "finetune_limit_seconds",
                "features_rows_per_second", "limit_seconds_per_epoch"]:
        check(isinstance(obj[key], (int, float)) and obj[key] > 0, f"{key} = {obj.get(key)}", p)
    # Each limit is the same products timed at the best rate just measured: a run cannot beat
    # it by much (noise), and a fraction far above 1 would mean a limit that misses work.
    for key in ["cd1_fraction_of_limit", "pcd1_fraction_of_limit", "ais_fraction_of_limit",
                "finetune_fraction_of_limit", "features_fraction_of_limit"]:
        check(0 < obj[key] < 2.0, f"{key} = {obj.get(key)}", p)
    check(listing() == [], f"bench wrote files: {listing()}")


@case
def bench_bad_data_and_flags():
    expect_failure(["bench", "--quick", "--data", "nope-images-idx3-ubyte.gz"], EXIT_BAD_INPUT,
                   [r"nope-images-idx3-ubyte\.gz", r"cannot open|no such file"])
    expect_failure(["bench", "--threads", "0"], EXIT_USAGE, [r"--threads"])
    expect_failure(["bench", "--rows", "abc"], EXIT_USAGE, [r"--rows"])


@case
def data_missing_file():
    expect_failure(pretrain_on("nope-images-idx3-ubyte.gz"), EXIT_BAD_INPUT,
                   [r"nope-images-idx3-ubyte\.gz", r"cannot open|no such file"], out="out.h5")
    expect_failure(pretrain_on("nope.csv"), EXIT_BAD_INPUT, [r"nope\.csv", r"cannot open"],
                   out="out.h5")


@case
def data_truncated_idx():
    (ENV.work / "cut-images-idx3-ubyte").write_bytes(idx_images(100)[:16 + 784 * 50 + 3])
    expect_failure(pretrain_on("cut-images-idx3-ubyte"), EXIT_BAD_INPUT,
                   [r"cut-images-idx3-ubyte", r"truncated"], out="out.h5")
    # The same, gzip-compressed and cut in the middle of the stream.
    gz = gzip.compress(idx_images(100))
    (ENV.work / "cut-images-idx3-ubyte.gz").write_bytes(gz[:len(gz) // 2])
    expect_failure(pretrain_on("cut-images-idx3-ubyte.gz"), EXIT_BAD_INPUT,
                   [r"cut-images-idx3-ubyte\.gz", r"truncated|corrupt"], out="out.h5")


@case
def data_idx_wrong_magic():
    (ENV.work / "bad-images-idx3-ubyte").write_bytes(b"\x12\x34" + idx_images(10)[2:])
    expect_failure(pretrain_on("bad-images-idx3-ubyte"), EXIT_BAD_INPUT,
                   [r"bad-images-idx3-ubyte", r"not an IDX file", r"magic"], out="out.h5")


@case
def csv_ragged():
    csv_with_row("ragged.csv", 10, ",".join(["1"] * 17))
    expect_failure(pretrain_on("ragged.csv"), EXIT_BAD_INPUT,
                   [r"ragged\.csv:11", r"17 fields separated by commas \(expected 16\)"], out="out.h5")


@case
def csv_text_in_number():
    csv_with_row("text.csv", 10, "1.5abc," + ",".join(["0"] * 15))
    expect_failure(pretrain_on("text.csv"), EXIT_BAD_INPUT,
                   [r"text\.csv:11", r"not a number", r"1\.5abc"], out="out.h5")


@case
def csv_nan():
    csv_with_row("nan.csv", 10, "0,nan," + ",".join(["0"] * 14))
    expect_failure(pretrain_on("nan.csv"), EXIT_BAD_INPUT,
                   [r"nan\.csv:11", r"not a finite number|nan"], out="out.h5")


@case
def hdf5_missing_dataset():
    h5py, np = h5py_numpy()
    with h5py.File(ENV.work / "in.h5", "w") as f:
        f["x"] = np.zeros((10, 4), dtype=np.float32)
    expect_failure(pretrain_on("in.h5:/y"), EXIT_BAD_INPUT, [r"in\.h5", r"/y", r"no such"],
                   out="out.h5")


# ------------------------------------------------------------------------------------------------
# Bad configurations (exit 2)


@case
def config_malformed_json():
    (ENV.work / "bad.json").write_text('{"name": "bad", "layers": [{"hidden": 4}\n')
    expect_failure(pretrain_on("bars-and-stripes:4", "bad.json"), EXIT_BAD_INPUT,
                   [r"bad\.json", r"not valid JSON"], out="out.h5")


@case
def config_unknown_key():
    (ENV.work / "unknown.json").write_text('{"name": "u", "layers": [{"hidden": 4, "hiden": 3}]}')
    expect_failure(pretrain_on("bars-and-stripes:4", "unknown.json"), EXIT_BAD_INPUT,
                   [r"unknown\.json", r'unknown key "hiden"'], out="out.h5")


@case
def config_missing_file():
    expect_failure(pretrain_on("bars-and-stripes:4", "nope.json"), EXIT_BAD_INPUT,
                   [r"nope\.json", r"cannot open"], out="out.h5")


# ------------------------------------------------------------------------------------------------
# Usage errors (exit 1)


@case
def usage_unknown_flag():
    cfg = write_config("small.json", hidden=[8])
    expect_failure(pretrain_on("bars-and-stripes:4", cfg) + ["--epoch", "3"], EXIT_USAGE,
                   [r"--epoch\b"], out="out.h5")


@case
def usage_missing_config():
    expect_failure(["pretrain", "--data", "bars-and-stripes:4", "--out", "out.h5"], EXIT_USAGE,
                   [r"--config"], out="out.h5")


@case
def usage_bad_epochs():
    cfg = write_config("small.json", hidden=[8])
    for value in ["0", "abc", "-2"]:
        expect_failure(pretrain_on("bars-and-stripes:4", cfg) + ["--epochs", value], EXIT_USAGE,
                       [r"--epochs"], out="out.h5")


@case
def finetune_bad_flags():
    """Every bad value or combination of `dbn finetune`'s settings is a usage error that names
    the flag, refused before the model or the data is read."""
    model = small_model()
    base = ["finetune", model, "--data", "bars-and-stripes:4", "--out", "t.h5"]
    for flags, pattern in [
            (["--mode", "regression"], r"--mode\b.*regression"),
            (["--mode", "classifier", "--optimizer", "rmsprop"], r"--optimizer\b.*rmsprop"),
            (["--mode", "classifier", "--momentum", "2"], r"--momentum must be in \[0, 0\.999\]"),
            (["--mode", "classifier", "--learning-rate", "0"], r"--learning-rate must be in"),
            (["--mode", "classifier", "--learning-rate", "nan"], r"--learning-rate must be in"),
            (["--mode", "classifier", "--learning-rate-decay", "1.5"], r"--learning-rate-decay"),
            (["--mode", "classifier", "--weight-decay", "-1"], r"--weight-decay must be in"),
            (["--mode", "classifier", "--dropout", "0.95"], r"--dropout must be in"),
            (["--mode", "classifier", "--input-dropout", "-0.1"], r"--input-dropout must be in"),
            (["--mode", "classifier", "--validation-fraction", "1"], r"--validation-fraction"),
            (["--mode", "classifier", "--patience", "-1"], r"--patience must be at least 0"),
            (["--mode", "classifier", "--patience", "1.5"], r"--patience\b"),
            (["--mode", "classifier", "--epochs", "0"], r"--epochs\b.*at least 1"),
            (["--mode", "classifier", "--batch-size", "abc"], r"--batch-size\b"),
            (["--mode", "classifier", "--random-init=pretrained"], r"--random-init takes glorot"),
            (["--mode", "classifier", "--linear-code"], r"--linear-code and --loss apply"),
            (["--mode", "classifier", "--loss", "squared_error"], r"--linear-code and --loss"),
            (["--mode", "autoencoder", "--loss", "l1"], r"--loss\b.*l1"),
            (["--mode", "autoencoder", "--head-only"], r"--head-only applies to --mode classifier"),
    ]:
        expect_failure(base + flags, EXIT_USAGE, [pattern], out="t.h5")
    # Settings are checked before the model is opened.
    expect_failure(["finetune", "missing.h5", "--data", "bars-and-stripes:4", "--out", "t.h5",
                    "--mode", "classifier", "--momentum", "2"], EXIT_USAGE, [r"--momentum"])
    expect_failure(["finetune", "missing.h5", "--data", "bars-and-stripes:4", "--out", "t.h5",
                    "--mode", "classifier"], EXIT_BAD_INPUT, [r"missing\.h5"])


PLURAL_OF_ONE = re.compile(r"\b1 (threads|epochs|layers|rows|columns|features|events|times|"
                           r"classes|parameters|training rows|validation rows|BLAS threads|"
                           r"hardware threads)\b")


@case
def counts_of_one_are_singular():
    """"1 threads", "1 epochs", "1 layers": a count of one takes the singular everywhere the
    program prints one (pretrain, finetune, info, features, eval)."""
    config = write_config("one.json", hidden=[8], epochs=1)
    p = expect_ok(run("pretrain", "--config", config, "--data", "bars-and-stripes:4",
                      "--threads", "1", "--out", "one.h5"))
    for text in ["1 thread;", "1 epoch,", "saved one.h5: 1 layer (16-8)"]:
        check(text in p.out, f"expected {text!r}", p)
    outputs = [p.out]
    p = expect_ok(run("finetune", "one.h5", "--data", "bars-and-stripes:4", "--mode",
                      "autoencoder", "--epochs", "1", "--threads", "1", "--no-checkpoint",
                      "--out", "t.h5"))
    for text in ["up to 1 epoch,", "1 thread\n", "autoencoder, 1 epoch, best epoch"]:
        check(text in p.out, f"expected {text!r}", p)
    outputs += [p.out, expect_ok(run("info", "t.h5")).out]
    (ENV.work / "row.csv").write_text(",".join(["1"] * 16) + "\n")
    p = expect_ok(run("features", "one.h5", "--data", "row.csv", "--out", "f.h5"))
    check("1 row x 8 features" in p.out, "expected '1 row x 8 features'", p)
    outputs.append(p.out)
    p = run("eval", "one.h5", "--data", "row.csv")
    check(p.returncode == 0 and "(1 row," in p.out, "expected '(1 row,'", p)
    outputs.append(p.out)
    for out in outputs:
        m = PLURAL_OF_ONE.search(out)
        check(m is None, f"a plural after 1: {m and m[0]!r} in\n{out}")
    # The control: other counts keep the plural.
    p = expect_ok(run("pretrain", "--config", write_config("two.json", hidden=[8, 4], epochs=2),
                      "--data", "bars-and-stripes:4", "--no-checks", "--out", "two.h5"))
    check("2 epochs," in p.out and "2 layers (16-8-4)" in p.out, "expected plurals", p)


@case
def help_names_flags_without_their_flag_values():
    """CLI11 showed "--random-init{glorot}"; the help names the flag alone and its description
    says what the bare flag does. The flag itself still takes glorot (bare) or normal."""
    for command in ["pretrain", "info", "features", "eval", "finetune", "bench"]:
        p = expect_ok(run(command, "--help"))
        names = [line.split()[0] for line in p.out.splitlines() if line.startswith("  -")]
        check(names, f"{command} --help lists no options", p)
        bad = [n for n in names if "{" in n or "}" in n]
        check(not bad, f"{command} --help: option names with braces: {bad}", p)
    p = expect_ok(run("finetune", "--help"))
    check(re.search(r"^  --random-init\b(?!\{)", p.out, re.MULTILINE),
          "expected --random-init in the help", p)
    check(re.search(r"--random-init[^\n]*\n[^\n]*Glorot", p.out), "expected Glorot in its text", p)
    model = small_model()
    for flag, init in [("--random-init", "glorot"), ("--random-init=normal", "normal")]:
        p = expect_ok(run("finetune", model, "--data", "bars-and-stripes:4", "--mode",
                          "autoencoder", "--epochs", "1", "--no-checkpoint", "--json", "--quiet", flag,
                          "--out", init + ".h5"))
        check(json.loads(p.out)["init"] == init, f"{flag}: init {json.loads(p.out)['init']}", p)


@case
def eval_adds_runs_until_the_target_width_and_says_what_stopped():
    # A 16-24-24 stack whose log Z is known exactly: AIS with 4 runs of 30 temperatures gives
    # intervals far wider than 0.3 nats, so runs are added until both checks' D intervals are
    # closed and at most 0.3 wide; the exact dlogZ lies inside (docs/CHECK.md, "Adding runs").
    cfg = write_config("adaptive.json", hidden=[24, 24], epochs=20)
    expect_ok(run("pretrain", "--config", cfg, "--data", "bars-and-stripes:4", "--out", "m.h5",
                  "--quiet", "--no-checks"))
    base = ["eval", "m.h5", "--data", "bars-and-stripes:4", "--json"]
    exact = json.loads(expect_ok(run(*base, "--logz", "exact")).out)
    few = base + ["--logz", "ais", "--ais-runs", "4", "--ais-steps", "30", "--dlogz",
                  "independent"]
    ev = json.loads(expect_ok(run(*few, "--target-width", "0.3", timeout=120)).out)
    check(ev["settings"]["target_width"] == 0.3, ev["settings"])
    for c, e in zip(ev["checks"], exact["checks"]):
        low, high = c["delta_log_z_low"], c["delta_log_z_high"]
        check(c["runs_stopped_by"] == "target width" and c["runs_added"] > 0, c)
        check(low is not None and high is not None and high - low <= 0.3, c)
        check(low <= e["delta_log_z"] <= high, f"exact dlogZ {e['delta_log_z']} outside {c}")
    runs = sum(z["ais_runs"] for z in ev["layers"])  # two layers of 4 runs each, and those added
    check(runs == 2 * 4 + sum(c["runs_added"] for c in ev["checks"]),
          f"{runs} runs in all for {ev['checks']}")
    off = json.loads(expect_ok(run(*few, "--target-width", "0")).out)
    check(all(c["runs_added"] == 0 and "runs_stopped_by" not in c for c in off["checks"]), off)
    check(all(z["ais_runs"] == 4 for z in off["layers"]), off["layers"])
    p = run(*[a for a in few if a != "--json"], "--target-width", "0.3", timeout=120)
    check(p.returncode == EXIT_OK and "stopped by the target width" in p.out, "text output", p)


@case
def dataset_ising_writes_samples_with_exact_log_probabilities():
    # The 4x4 lattice at T_c: h5py reads /data and /log_prob; the log-probabilities and log Z agree
    # with an enumeration of all 2^16 states done here with numpy; bad flags write nothing.
    import h5py
    import numpy as np
    t = 2.269185314213022
    p = expect_ok(run("dataset", "ising", "--size", "4", "--temperature", repr(t), "--count",
                      "3000", "--seed", "5", "--out", "is.h5"))
    check("wrote is.h5: 3000 samples of the 4x4 Ising lattice" in p.out, "summary line", p)
    with h5py.File(ENV.work / "is.h5", "r") as f:
        data, log_prob = f["data"][()], f["log_prob"][()]
        attrs = dict(f.attrs)
    check(data.dtype == np.uint8 and data.shape == (3000, 16), f"{data.dtype} {data.shape}")
    check(set(np.unique(data)) <= {0, 1}, "values other than 0 and 1")
    check(attrs["format"] == b"dbn-ising" and attrs["size"] == 4 and attrs["seed"] == 5, attrs)

    def energy(states):  # states: [M, 16] of 0/1
        s = (2 * states.astype(np.int64) - 1).reshape(-1, 4, 4)
        return -(s * np.roll(s, -1, axis=2) + s * np.roll(s, -1, axis=1)).sum(axis=(1, 2))
    every = (np.arange(1 << 16)[:, None] >> np.arange(16)) & 1
    x = -energy(every) / t
    log_z = x.max() + np.log(np.exp(x - x.max()).sum())
    check(abs(attrs["log_z"] - log_z) < 1e-9 * abs(log_z), f"log Z {attrs['log_z']} vs {log_z}")
    exact = -energy(data) / t - log_z
    check(np.max(np.abs(log_prob - exact)) < 1e-9, "log_prob differs from -E/T - log Z")
    # The sample mean of log p is near the exact negative entropy (within 5 standard errors).
    p_all = np.exp(x - log_z)
    neg_entropy = float((p_all * (x - log_z)).sum())
    se = log_prob.std() / np.sqrt(len(log_prob))
    check(abs(log_prob.mean() - neg_entropy) < 5 * se,
          f"mean log p {log_prob.mean():.4f} vs -H = {neg_entropy:.4f} (se {se:.4f})")
    for args, status, pattern in [
            (["--size", "1"], EXIT_BAD_INPUT, r"--size"),
            (["--temperature", "nan"], EXIT_USAGE, r"--temperature"),
            (["--temperature", "-2"], EXIT_USAGE, r"--temperature"),
            (["--count", "0"], EXIT_USAGE, r"--count"),
            (["--size", "1024", "--count", "5000"], EXIT_BAD_INPUT, r"more than 1073741824")]:
        expect_failure(["dataset", "ising", *args, "--out", "bad.h5"], status, [pattern])
        check(not (ENV.work / "bad.h5").exists(), f"{args} wrote bad.h5")
    expect_failure(["pretrain", "--config", write_config("i.json", hidden=[4]), "--data",
                    "ising:L=4,T=zero", "--out", "bad.h5"], EXIT_BAD_INPUT, [r"ising:L=4,T=zero: T"])


@case
def dataset_ising_observables_of_samples_against_the_exact_values():
    # Observables of a dbn dataset ising file of the 4x4 lattice: the energy and specific heat it
    # prints as exact agree with an enumeration done here with numpy, and the rows' own values
    # with numpy's of the same rows; model samples of dbn sample (/binary) are measured with
    # --temperature; means, missing temperatures and wrong sizes are refused.
    import numpy as np
    t = 2.5
    expect_ok(run("dataset", "ising", "--size", "4", "--temperature", str(t), "--count", "4000",
                  "--seed", "3", "--out", "d.h5", "--quiet"))
    ob = json.loads(expect_ok(run("dataset", "ising-observables", "--data", "d.h5:/data",
                                  "--reference", "3000", "--json")).out)
    check(ob["size"] == 4 and ob["temperature"] == t and ob["rows"] == 4000, ob)
    every = (np.arange(1 << 16)[:, None] >> np.arange(16)) & 1
    s = (2 * every - 1).reshape(-1, 4, 4)
    e = -(s * np.roll(s, -1, axis=2) + s * np.roll(s, -1, axis=1)).sum(axis=(1, 2)) / 16.0
    m = np.abs(s.sum(axis=(1, 2))) / 16.0
    w = np.exp(-16 * e / t - (-16 * e / t).max())
    w /= w.sum()
    exact_e = (w * e).sum()
    exact_c = 16 * (w * (e - exact_e) ** 2).sum() / t ** 2
    check(abs(ob["energy"]["exact"] - exact_e) < 1e-8, f"{ob['energy']} vs {exact_e}")
    check(abs(ob["specific_heat"]["exact"] - exact_c) < 1e-6, f"{ob['specific_heat']} vs {exact_c}")
    check(ob["magnetization"]["exact"] is None and ob["susceptibility"]["exact"] is None, ob)
    import h5py
    with h5py.File(ENV.work / "d.h5", "r") as f:
        rows = (2 * f["data"][()].astype(np.int64) - 1).reshape(-1, 4, 4)
    re = -(rows * np.roll(rows, -1, axis=2) + rows * np.roll(rows, -1, axis=1)).sum(axis=(1, 2)) / 16
    rm = np.abs(rows.sum(axis=(1, 2))) / 16.0
    check(abs(ob["energy"]["value"] - re.mean()) < 1e-9, "rows' energy")
    check(abs(ob["susceptibility"]["value"] - 16 * rm.var() / t) < 1e-9, "rows' susceptibility")
    for key, exact in (("energy", exact_e), ("specific_heat", exact_c),
                       ("magnetization", (w * m).sum())):
        for est in (ob[key], ob[key]["generator"]):  # within 5 inflated standard errors
            check(abs(est["value"] - exact) < 5 * 1.5 * est["standard_error"], f"{key}: {est}")
    p = expect_ok(run("dataset", "ising-observables", "--data", "ising:L=4,T=2.5,n=500",
                      "--reference", "0"))
    check("specific heat" in p.out and "generator" not in p.out, "text output", p)
    expect_ok(run("pretrain", "--config", write_config("o.json", hidden=[6], epochs=2), "--data",
                  "d.h5:/data", "--out", "m.h5", "--quiet", "--no-checks"))
    expect_ok(run("sample", "m.h5", "--count", "200", "--steps", "50", "--out", "s.h5"))
    ms = json.loads(expect_ok(run("dataset", "ising-observables", "--data", "s.h5:/binary",
                                  "--temperature", str(t), "--reference", "0", "--json")).out)
    check(ms["rows"] == 200 and ms["energy"]["exact"] == ob["energy"]["exact"], ms)
    for args, status, pattern in [
            (["--data", "s.h5:/binary"], EXIT_BAD_INPUT, r"--temperature"),
            (["--data", "s.h5:/samples", "--temperature", "2"], EXIT_BAD_INPUT, r"not a spin"),
            (["--data", "d.h5:/data", "--temperature", "3"], EXIT_BAD_INPUT, r"is at T = 2.5"),
            (["--data", "d.h5:/data", "--size", "3"], EXIT_BAD_INPUT, r"not 9"),
            (["--data", "d.h5:/data", "--temperature", "nan"], EXIT_USAGE, r"--temperature")]:
        expect_failure(["dataset", "ising-observables", *args], status, [pattern])


@case
def ising_rg_model_config_trains_on_critical_samples():
    # models/ising-rg.json (Mehta and Schwab's 1600-400-100-25 DBN) is accepted as it ships, on a
    # shrunk data set and one epoch; dbn show draws the top layer's receptive fields on 40x40.
    expect_ok(run("pretrain", "--config", ENV.model_config("ising-rg.json"), "--data",
                  "ising:L=40,T=2.269,n=200,seed=1", "--epochs", "1", "--no-checks", "--quiet",
                  "--out", "rg.h5"))
    info = json.loads(expect_ok(run("info", "rg.h5", "--json")).out)
    check(info["name"] == "ising-rg" and info["n_layers"] == 3, info)
    p = expect_ok(run("show", "rg.h5", "--layer", "2", "--out", "rg2.png"))
    check("25 filters of layer 2 as 40x40 tiles" in p.out, "show output", p)


@case
def eval_on_ising_data_reports_the_kl_from_the_exact_log_p():
    # A 16-8 RBM on 6x6 Ising samples: its log Z is exact, so KL(data || model) = the data's
    # exact mean log p - the model's mean log-likelihood, positive, the same for the SPEC and for
    # the file of the same rows; other data gets no KL.
    cfg = write_config("ising.json", hidden=[8], epochs=5)
    spec = "ising:L=6,T=3,n=600,seed=2"
    expect_ok(run("pretrain", "--config", cfg, "--data", spec, "--out", "m.h5", "--quiet",
                  "--no-checks"))
    expect_ok(run("dataset", "ising", "--size", "6", "--temperature", "3", "--count", "600",
                  "--seed", "2", "--out", "d.h5", "--quiet"))
    a = json.loads(expect_ok(run("eval", "m.h5", "--data", spec, "--json")).out)
    b = json.loads(expect_ok(run("eval", "m.h5", "--data", "d.h5:/data", "--json")).out)
    for ev in (a, b):
        check(ev["layers"][0]["log_z_method"] == "exact", ev["layers"])
        check(abs(ev["kl_data_model"] - (ev["data_mean_log_prob"] - ev["mean_log_likelihood"]))
              < 1e-9, ev)
        check(ev["kl_data_model"] > 3 * ev["kl_data_model_standard_error"] > 0, ev)
        check(ev["kl_data_model_impossible"] is False, ev)
    check(a["kl_data_model"] == b["kl_data_model"], f"{a['kl_data_model']} {b['kl_data_model']}")
    p = run("eval", "m.h5", "--data", spec)
    check(p.returncode == 0 and "KL(data || model)" in p.out, "text output", p)
    other = json.loads(expect_ok(run("eval", "m.h5", "--data", "ising:L=6,T=3,n=50,seed=9",
                                     "--json")).out)
    check("kl_data_model" in other, "another ising SPEC has its own exact log p")
    expect_ok(run("pretrain", "--config", write_config("b.json", hidden=[4], epochs=1), "--data",
                  "bars-and-stripes:4", "--out", "bs.h5", "--quiet", "--no-checks"))
    plain = json.loads(expect_ok(run("eval", "bs.h5", "--data", "bars-and-stripes:4",
                                     "--json")).out)
    check("kl_data_model" not in plain, "bars-and-stripes has no exact log p here")
    # A 36-8-6 stack, every log Z exact: the DBN bound is at most the model's mean log p, which
    # is at most the data's exact mean log p but for sampling error, so the flag that a log Z is
    # wrong stays down.
    expect_ok(run("pretrain", "--config", write_config("two.json", hidden=[8, 6], epochs=3),
                  "--data", spec, "--out", "two.h5", "--quiet", "--no-checks"))
    two = json.loads(expect_ok(run("eval", "two.h5", "--data", spec, "--json")).out)
    check([layer["log_z_method"] for layer in two["layers"]] == ["exact", "exact"], two["layers"])
    check(two["dbn_lower_bound_above_data"] is False, f"flag raised: {two}")
    check(two["dbn_lower_bound"] < two["data_mean_log_prob"], f"bound above the data: {two}")
    p = run("eval", "two.h5", "--data", spec)
    check(p.returncode == 0 and "DBN lower bound" in p.out and "is wrong" not in p.out,
          "text output", p)


@case
def eval_no_logz_reports_free_energies_only():
    """--no-logz computes no log Z: the layers' mean free energies, no AIS, no checks, no
    likelihood, no bound, and the JSON says so; flags that only tune log Z are refused with it."""
    expect_ok(run("pretrain", "--config", write_config("two.json", hidden=[8, 6], epochs=2),
                  "--data", "bars-and-stripes:4", "--no-checks", "--quiet", "--out", "two.h5"))
    full = json.loads(expect_ok(run("eval", "two.h5", "--data", "bars-and-stripes:4", "--json",
                                    "--ais-steps", "quick")).out)
    check(full["settings"]["no_logz"] is False and len(full["checks"]) == 1
          and "mean_log_likelihood" in full and "dbn_lower_bound" in full, f"control: {full}")
    p = expect_ok(run("eval", "two.h5", "--data", "bars-and-stripes:4", "--no-logz", "--json"))
    e = json.loads(p.out)
    check(e["settings"]["no_logz"] is True and e["log_z_computed"] is False
          and "--no-logz" in e["note"], f"settings: {e}")
    check(e["checks"] is None, f"checks: {e['checks']}")
    for key in ("mean_log_likelihood", "mean_log_likelihood_low", "dbn_lower_bound",
                "dbn_lower_bound_note"):
        check(key not in e, f"{key} present: {e}")
    check(len(e["layers"]) == 2, f"layers: {e['layers']}")
    for k, layer in enumerate(e["layers"]):
        check(layer["index"] == k and layer["log_z"] is None
              and isinstance(layer["mean_free_energy"], float)
              and "log_z_method" not in layer and "ais_runs" not in layer, f"layer {k}: {layer}")
    # Layer 0's free energy is the one the likelihood of the full evaluation used.
    check(abs(e["layers"][0]["mean_free_energy"] - full["mean_free_energy"]) < 1e-9
          and e["mean_free_energy"] == e["layers"][0]["mean_free_energy"],
          f"{e['layers'][0]} against {full['mean_free_energy']}")
    check(e["layers"][0]["mean_free_energy"] != e["layers"][1]["mean_free_energy"],
          "layer 1's free energy is layer 0's")
    p = expect_ok(run("eval", "two.h5", "--data", "bars-and-stripes:4", "--no-logz"))
    check("no log Z was computed" in p.out and "layer 1:" in p.out, "expected the text", p)
    for word in ("log-likelihood", "lower bound on", "dF ="):
        check(word not in p.out, f"{word!r} in the output", p)
    for flags in [["--ais-runs", "10"], ["--logz", "exact"], ["--ais-steps", "quick"],
                  ["--dlogz", "independent"], ["--path-steps", "5"], ["--target-width", "2"],
                  ["--time-budget", "5"], ["--seed", "3"]]:
        expect_failure(["eval", "two.h5", "--data", "bars-and-stripes:4", "--no-logz"] + flags,
                       EXIT_USAGE, [rf"(--no-logz excludes {re.escape(flags[0])}|"
                                     rf"{re.escape(flags[0])} excludes --no-logz)"])


@case
def eval_threads_are_set_and_clamped_as_pretrain_does():
    expect_ok(run("pretrain", "--config", write_config("one.json", hidden=[8], epochs=1),
                  "--data", "bars-and-stripes:4", "--quiet", "--out", "one.h5"))
    args = ["eval", "one.h5", "--data", "bars-and-stripes:4", "--json"]
    e = json.loads(expect_ok(run(*args, "--threads", "1")).out)
    check(e["settings"]["threads"] == 1, f"settings: {e['settings']}")
    e = json.loads(expect_ok(run(*args, "--no-logz", "--threads", "1")).out)
    check(e["settings"]["threads"] == 1, f"settings: {e['settings']}")
    p = run(*args, "--threads", "100000")
    check(p.returncode == 0 and re.fullmatch(
        r"dbn: note: --threads 100000 is more than this machine's \d+ hardware threads?: using "
        r"\d+\n", p.err), "expected one note on stderr", p)
    check(json.loads(p.out)["settings"]["threads"] == os.cpu_count(), "expected the clamp", p)
    for bad in ["0", "-1", "abc", "1.5"]:
        expect_failure(args + ["--threads", bad], EXIT_USAGE, [r"--threads"])


LIBRARY_NAMES = re.compile(r"extract_features|fine_tune\b|GreedyTrainer|RbmTrainer|"
                           r"io::save_model|Dbn::|Dbn:")


@case
def errors_name_the_data_not_library_functions():
    """Messages that reach the command's user said "extract_features: ...", "fine_tune: ...",
    "GreedyTrainer::train: ...": they now name the file, flag or key and what is wrong."""
    model = small_model()
    tiny_csv("d.csv", rows=40, cols=16)
    tiny_csv("wide.csv", rows=40, cols=17)
    (ENV.work / "one-class.csv").write_text("0\n" * 30)
    (ENV.work / "exact.json").write_text(json.dumps(
        {"defaults": {"algorithm": "exact", "epochs": 1}, "layers": [{"hidden": 4}]}))
    cases = [
        (["pretrain", "--config", write_config("s.json", hidden=[8], epochs=1), "--data", "d.csv",
          "--validation", "wide.csv", "--out", "o.h5"],
         [r"wide\.csv: 17 columns, but the training data has 16"]),
        (["pretrain", "--config", "exact.json", "--data", "bars-and-stripes:5", "--out", "o.h5",
          "--no-checkpoint"],
         [r'layer 0: "algorithm": "exact" needs Bernoulli units and at most 16 visible units']),
        (["features", model, "--data", "bars-and-stripes:4", "--out", "f.txt"],
         [r"f\.txt: unknown output extension"]),
        (["features", model, "--data", "bars-and-stripes:4", "--out", "f.h5", "--layer", "3"],
         [r"layer 3 does not exist \(the model has 1 layer: valid layers are 0\.\.0\)"]),
        (["finetune", model, "--data", "bars-and-stripes:4", "--labels", "one-class.csv",
          "--mode", "classifier", "--out", "t.h5", "--no-checkpoint"],
         [r"bars-and-stripes:4: the labels hold 1 class \(a classifier needs at least 2\)"]),
    ]
    for args, patterns in cases:
        p = expect_failure(args, EXIT_BAD_INPUT, patterns)
        m = LIBRARY_NAMES.search(p.err)
        check(m is None, f"a library name in the message: {m and m[0]!r}", p)
        check(p.err.count("\n") == 1, "expected one line", p)


@case
def eval_refuses_bad_dlogz_flags():
    data = "bars-and-stripes:4"
    expect_failure(["eval", "missing.h5", "--data", data, "--dlogz", "path"], EXIT_USAGE,
                   [r"--dlogz"])
    expect_failure(["eval", "missing.h5", "--data", data, "--path-steps", "0"], EXIT_USAGE,
                   [r"--path-steps"])
    for flag, value in [("--target-width", "nan"), ("--target-width", "-1"),
                        ("--time-budget", "inf"), ("--time-budget", "5s")]:
        expect_failure(["eval", "missing.h5", "--data", data, flag, value], EXIT_USAGE,
                       [re.escape(flag), re.escape(value)])


@case
def usage_no_subcommand():
    expect_failure([], EXIT_USAGE, [r"subcommand"])
    expect_failure(["info"], EXIT_USAGE, [r"model file"])


# ------------------------------------------------------------------------------------------------
# Output


@case
def output_folder_missing_fails_before_training():
    # Enough work to take minutes: a check after training would hit the timeout.
    cfg = write_config("long.json", hidden=[2000, 2000], epochs=100000)
    p = expect_failure(pretrain_on("bars-and-stripes:10", cfg)[:-1] + ["nodir/out.h5"],
                       EXIT_BAD_INPUT, [r"nodir", r"does not exist"], timeout=30)
    check(p.seconds < 10, f"took {p.seconds:.1f} s: the check must come before training", p)
    check("epoch" not in p.out, "training started before the output folder was checked", p)
    check(not (ENV.work / "nodir").exists(), "the missing folder was created", p)


@case
def existing_output_kept_when_pretrain_fails():
    model = small_model("model.h5")
    good = (ENV.work / model).read_bytes()

    def unchanged(why):
        check((ENV.work / model).read_bytes() == good, f"{model} changed after {why}")
        no_temp_files()

    # Failures before training.
    expect_failure(pretrain_on("nope.csv")[:-1] + [model], EXIT_BAD_INPUT, [r"nope\.csv"])
    unchanged("a missing data file")
    (ENV.work / "bad.json").write_text("{")
    expect_failure(pretrain_on("bars-and-stripes:4", "bad.json")[:-1] + [model], EXIT_BAD_INPUT,
                   [r"bad\.json"])
    unchanged("a malformed configuration")

    # A failure mid-way: training diverges (exit 4) after the data was read and training began.
    # With the divergence guard off, as before it: with it, the last good model replaces --out
    # (pretrain_divergence_guard_gives_up_with_exit_4_and_the_last_good_model).
    cfg = write_config("diverge.json", hidden=[8], epochs=3, learning_rate=1e38,
                       max_divergence_events=0)
    p = expect_failure(pretrain_on("bars-and-stripes:4", cfg)[:-1] + [model], EXIT_NUMERICAL,
                       [r"layer 0", r"epoch 1", r"not finite"])
    check(re.search(r"^layer 0", p.out, re.MULTILINE), "expected training to have started", p)
    unchanged("training diverged")
    check_stack(info_json(model), [16, 12], epochs=2)


# ------------------------------------------------------------------------------------------------
# The divergence guard (docs/CONFIG.md#divergence-guard)


def divergence_events_in_file(path, k):
    """The attributes of /training/layers/<k>/divergence_events/<i>, read with h5py."""
    h5py, _ = h5py_numpy()
    with h5py.File(ENV.work / path, "r") as f:
        layer = f[f"training/layers/{k}"]
        if "divergence_events" not in layer:
            return []
        g = layer["divergence_events"]
        return [{name: (text(v) if isinstance(v, (bytes, str)) else v.item())
                 for name, v in g[str(i)].attrs.items()} for i in range(len(g))]


@case
def pretrain_divergence_guard_gives_up_with_exit_4_and_the_last_good_model():
    # Layer 0 never passes an epoch at 1e38 (three halvings are far from enough).
    cfg = write_config("absurd.json", hidden=[8], epochs=3, learning_rate=1e38)
    p = run(*pretrain_on("bars-and-stripes:4", cfg))
    check(p.returncode == EXIT_NUMERICAL, "expected exit status 4", p)
    lines = p.err.splitlines()
    check(len(lines) == 1 and lines[0].startswith("dbn: error: layer 0 diverged 3 times"),
          "expected one line naming layer 0 and the 3 events", p)
    for pat in [r"non-finite parameters", r"saved the last good model to out\.h5",
                r"lower layers\[0\]\.learning_rate \(1e\+38\)", r"standardize the data"]:
        check(re.search(pat, p.err), f"expected stderr to match {pat!r}", p)
    logged = re.findall(r"^layer 0, epoch 1: diverged \(non-finite parameters\)", p.out, re.M)
    check(len(logged) == 3, f"expected 3 event lines in the log, got {len(logged)}", p)
    check("saved out.h5" not in p.out, "a diverged run reported success", p)
    no_temp_files()
    check(not (ENV.work / "out.h5.checkpoint.h5").exists(), "the checkpoint was left behind", p)
    info = info_json("out.h5")
    layer = info["layers"][0]
    check(info["n_layers"] == 1 and layer["stopped_by_divergence"] is True,
          f"expected the one layer, stopped by the guard: {layer}")
    check(layer["monitors"] == [], f"no epoch passed, yet monitors {layer['monitors']}")
    ev = layer["divergence_events"]
    check([e["learning_rate_before"] for e in ev] == [1e38, 5e37, 2.5e37],
          f"events {ev}: expected the rate halved twice between three events")
    check(all(e["epoch"] == 1 and e["reason"] == "non-finite parameters" for e in ev), f"{ev}")
    # The file holds the same events, and the layer's initial (last good) parameters.
    check(divergence_events_in_file("out.h5", 0) == [
        {k: e[k] for k in ("epoch", "minibatch", "reason", "learning_rate_before",
                           "learning_rate_after")} for e in ev],
          f"the file's events {divergence_events_in_file('out.h5', 0)} differ from info's {ev}")
    check_model_file("out.h5", [16, 8])
    text_info = expect_ok(run("info", "out.h5")).out
    check("stopped by the divergence guard after 3 events" in text_info, text_info)

    # Layer 1 gives up after one event (limit 1): layers 0 and 1 are saved, layer 0 complete.
    cfg = {"name": "two", "seed": 3, "input": {"units": "bernoulli", "scale": 1},
           "defaults": {"epochs": 3, "batch_size": 5, "learning_rate": 0.05},
           "layers": [{"hidden": 8}, {"hidden": 6, "learning_rate": 1e5, "batch_size": 1,
                                      "max_divergence_events": 1}]}
    (ENV.work / "two.json").write_text(json.dumps(cfg))
    p = run("pretrain", "--config", "two.json", "--data", "bars-and-stripes:4", "--out", "two.h5")
    check(p.returncode == EXIT_NUMERICAL, "expected exit status 4", p)
    check(re.search(r"^dbn: error: layer 1 diverged 1 time .*\(layer 0 finished, layer 1 after "
                    r"\d of 3 epochs.*lower layers\[1\]\.learning_rate \(100000\)", p.err),
          "expected the line to name layer 1 and its learning rate", p)
    info = info_json("two.h5")
    check(info["n_layers"] == 2, f"expected 2 layers: {info}")
    check([m["epoch"] for m in info["layers"][0]["monitors"]] == [1, 2, 3],
          f"layer 0 is not complete: {info['layers'][0]['monitors']}")
    check(info["layers"][0]["divergence_events"] == [] and
          not info["layers"][0]["stopped_by_divergence"], f"{info['layers'][0]}")
    top = info["layers"][1]
    check(top["stopped_by_divergence"] and len(top["divergence_events"]) == 1, f"{top}")
    check(len(top["monitors"]) == top["divergence_events"][0]["epoch"] - 1,
          f"layer 1: monitors of the epochs before the failed one expected: {top}")
    check(len(info["log_z"]) == 1 and info["checks"] == [],
          f"checks of the finished layer only: {info['log_z']} {info['checks']}")
    check_model_file("two.h5", [16, 8, 6])
    no_temp_files()


@case
def pretrain_divergence_events_continue_and_show_in_info():
    # learning_rate x weight_decay far above 2: the weights grow geometrically and overflow
    # within an epoch or two; one halving is enough to go on (measured: 1 event).
    cfg = write_config("hot.json", hidden=[8], epochs=6, learning_rate=3e4, batch_size=1)
    p = expect_ok(run(*pretrain_on("bars-and-stripes:4", cfg)))
    logged = re.findall(r"^layer 0, epoch (\d+): diverged \(([a-z -]+)\): rolled back to the end "
                        r"of epoch (\d+), learning rate (\S+) -> (\S+) \(divergence event (\d) of 3\)$",
                        p.out, re.M)
    check(len(logged) >= 1, "expected a divergence event in the log", p)
    check(re.search(r"^saved out\.h5", p.out, re.M), "expected the model saved", p)
    info = info_json("out.h5")
    layer = info["layers"][0]
    ev = layer["divergence_events"]
    check(len(ev) == len(logged) and not layer["stopped_by_divergence"],
          f"info's events {ev} vs the log's {logged}")
    for e, (epoch, reason, back_to, before, after, n) in zip(ev, logged):
        check(e["epoch"] == int(epoch) and int(back_to) == e["epoch"] - 1 and
              e["reason"] == reason, f"event {e} vs log {epoch, reason, back_to}")
        check(e["learning_rate_after"] == e["learning_rate_before"] / 2 and
              float(before) == e["learning_rate_before"], f"{e}")
    mon = layer["monitors"]
    check([m["epoch"] for m in mon] == list(range(1, 7)), f"expected all 6 epochs: {mon}")
    check(mon[-1]["learning_rate"] == 3e4 / 2 ** len(ev),
          f"the last epoch's rate {mon[-1]['learning_rate']}: expected the halved one")
    check(layer["training"]["learning_rate"] == 3e4 and
          layer["training"]["max_divergence_events"] == 3, f"{layer['training']}")
    check(all(isinstance(m["reconstruction_error"], float) for m in mon), f"{mon}")
    check_model_file("out.h5", [16, 8])
    check("divergence at epoch" in expect_ok(run("info", "out.h5")).out, "text info")


@case
def pretrain_guard_leaves_healthy_runs_bit_identical():
    """The shipped bars-and-stripes model with the guard on (its default) and off."""
    base = json.loads(Path(ENV.model_config("bars-and-stripes.json")).read_text())
    off = json.loads(json.dumps(base))
    off["defaults"]["max_divergence_events"] = 0
    (ENV.work / "off.json").write_text(json.dumps(off))
    expect_ok(run("pretrain", "--config", ENV.model_config("bars-and-stripes.json"), "--data",
                  "bars-and-stripes:4", "--epochs", "30", "--quiet", "--out", "on.h5"))
    expect_ok(run("pretrain", "--config", "off.json", "--data", "bars-and-stripes:4",
                  "--epochs", "30", "--quiet", "--out", "off.h5"))
    a, b = parameters("on.h5"), parameters("off.h5")
    check(a.keys() == b.keys() and "0/weights" in a, f"datasets {sorted(a)} vs {sorted(b)}")
    for name in a:
        check(a[name].tobytes() == b[name].tobytes(), f"/layers/{name} differs with the guard off")
    on_info, off_info = info_json("on.h5"), info_json("off.h5")
    check(on_info["layers"][0]["divergence_events"] == [], f"{on_info['layers'][0]}")
    strip = lambda m: [{k: v for k, v in e.items() if k != "seconds"} for e in m]
    check(strip(on_info["layers"][0]["monitors"]) == strip(off_info["layers"][0]["monitors"]),
          "the monitors differ with the guard off")


@case
def config_bad_max_divergence_events():
    for where, value, pattern in [
            ("defaults", -1, r"must be a non-negative integer"),
            ("defaults", 51, r"must be in \[0, 50\]"),
            ("layer", 2.5, r"must be a non-negative integer"),
            ("layer", '"3"', r"must be a non-negative integer"),
            ("layer", "true", r"must be a non-negative integer"),
            ("layer", 1000000, r"must be in \[0, 50\]")]:
        text = ('{"defaults": {"max_divergence_events": %s}, "layers": [{"hidden": 4}]}' % value
                if where == "defaults" else
                '{"layers": [{"hidden": 4}, {"hidden": 3, "max_divergence_events": %s}]}' % value)
        (ENV.work / "bad.json").write_text(text)
        expect_failure(pretrain_on("bars-and-stripes:4", "bad.json"), EXIT_BAD_INPUT,
                       [r"^dbn: error: bad\.json: " +
                        (r"defaults" if where == "defaults" else r"layers\[1\]"),
                        r"max_divergence_events", pattern], out="out.h5")


@case
def config_bad_defaults_are_named_as_defaults():
    """A bad setting under "defaults" is reported there, not at the first layer inheriting it;
    the same value in a layer names that layer."""
    for key, value in [("learning_rate", -0.1), ("epochs", 0), ("k", 0), ("batch_size", 0),
                       ("initial_momentum", 1.5), ("sparsity_target", 1.0),
                       ("init_stddev", 0), ("learning_rate_decay", 2)]:
        (ENV.work / "bad.json").write_text(json.dumps(
            {"defaults": {key: value}, "layers": [{"hidden": 4}, {"hidden": 3}]}))
        p = expect_failure(pretrain_on("bars-and-stripes:4", "bad.json"), EXIT_BAD_INPUT,
                           [r"^dbn: error: bad\.json: defaults: " + key + r" must"],
                           out="out.h5")
        check("layers[" not in p.err, f"{key}: the message names a layer", p)
        check(p.err.count("\n") == 1, "expected one line", p)
        (ENV.work / "bad.json").write_text(json.dumps(
            {"layers": [{"hidden": 4}, {"hidden": 3, key: value}]}))
        expect_failure(pretrain_on("bars-and-stripes:4", "bad.json"), EXIT_BAD_INPUT,
                       [r"^dbn: error: bad\.json: layers\[1\]: " + key + r" must"],
                       out="out.h5")


# ------------------------------------------------------------------------------------------------
# Hostile command lines, configurations and data (docs/ROBUSTNESS.md)


def tiny_csv(name="d.csv", rows=40, cols=16, width=None, labels=None):
    """A small 0/1 CSV (and, with `labels`, a one-column labels CSV of `labels` rows)."""
    write_csv(name, rows=rows, cols=cols)
    if labels is not None:
        (ENV.work / labels[0]).write_text("".join(f"{i % 3}\n" for i in range(labels[1])))
    return name


@case
def config_nested_too_deep():
    """A comment nesting 100,000 lists crashed serialization; now refused while parsing."""
    (ENV.work / "deep.json").write_text('{"comment": ' + "[" * 100000 + "]" * 100000 +
                                        ', "layers": [{"hidden": 4}]}')
    expect_failure(pretrain_on("bars-and-stripes:4", "deep.json"), EXIT_BAD_INPUT,
                   [r"deep\.json", r"nested deeper than 64"], out="out.h5")
    # 64 levels (the top object and 63 lists) is the limit: accepted; 65 is not.
    for depth, ok in [(63, True), (64, False)]:
        (ENV.work / "d.json").write_text('{"comment": ' + "[" * depth + "]" * depth +
                                         ', "defaults": {"epochs": 1}, "layers": [{"hidden": 4}]}')
        if ok:
            expect_ok(run(*pretrain_on("bars-and-stripes:4", "d.json"), "--quiet"))
            (ENV.work / "out.h5").unlink()
        else:
            expect_failure(pretrain_on("bars-and-stripes:4", "d.json"), EXIT_BAD_INPUT,
                           [r"nested deeper than 64"], out="out.h5")


@case
def config_misplaced_duplicate_and_out_of_range_keys():
    bad = [
        ('{"defaults": {"hook": "standardize"}, "layers": [{"hidden": 4}]}',
         [r'defaults: unknown key "hook"', r"layer object"]),
        ('{"defaults": {"guide": "bound"}, "layers": [{"hidden": 4}]}', [r'"guide"', r"layer"]),
        ('{"defaults": {"init": "turned_over"}, "layers": [{"hidden": 4}]}', [r'"init"']),
        ('{"defaults": {"hidden": 4}, "layers": [{"hidden": 4}]}', [r'"hidden"']),
        ('{"epochs": 3, "layers": [{"hidden": 4}]}', [r'unknown key "epochs"', r'"defaults"']),
        ('{"layers": [{"hidden": 4, "seed": 3}]}', [r'layers\[0\]: unknown key "seed"',
                                                    r"top level"]),
        ('{"input": {"ais_runs": 3}, "layers": [{"hidden": 4}]}', [r'"ais_runs"', r'"checks"']),
        ('{"layers": [{"hidden": 4}], "layers": [{"hidden": 5}]}', [r'"layers" appears twice']),
        ('{"layers": [{"hidden": 4, "epochs": 1, "epochs": 2}]}', [r'"epochs" appears twice']),
        ('{"input": {"scale": 1e300}, "layers": [{"hidden": 4}]}', [r"input\.scale"]),
        ('{"input": {"scale": 1e-50}, "layers": [{"hidden": 4}]}', [r"input\.scale"]),
        ('{"layers": [{"hidden": 4, "learning_rate": 1e400}]}', [r"not valid JSON", r"1e400"]),
        ('{"layers": [{"hidden": 4, "k": 1000000000000}]}', [r"k must be in \[1, 10000\]"]),
        ('{"checks": {"exact_max_units": 1000}, "layers": [{"hidden": 40}]}',
         [r"exact_max_units: at most 24"]),
        ('{"checks": {"ais_runs": 1000000000}, "layers": [{"hidden": 4}]}', [r"ais_runs"]),
        ('{"checks": {"seed": -1}, "layers": [{"hidden": 4}]}', [r"seed"]),
        ('{"layers": [{"hidden": 18446744073709551615}]}', [r"layers\[0\]\.hidden"]),
        ('{"layers": [{"hidden": 4, "algorithm": "' + "x" * 100000 + '"}]}',
         [r'unknown algorithm "x{40}\.\.\."']),
    ]
    for text, patterns in bad:
        (ENV.work / "bad.json").write_text(text)
        p = expect_failure(pretrain_on("bars-and-stripes:4", "bad.json"), EXIT_BAD_INPUT,
                           [r"^dbn: error: bad\.json: "] + patterns, out="out.h5")
        check(len(p.err) < 400, "the message quotes too much", p)


@case
def memory_sized_by_untrusted_counts():
    """Huge layers and chain counts are refused at once, naming the key and the memory; a
    batch larger than the data is the data (buffers sized by the rows)."""
    tiny_csv("d.csv", rows=120)
    for layer, key in [('{"hidden": 1000000000}', "hidden"), ('{"hidden": 1000000000000}', "hidden"),
                       ('{"hidden": 4, "algorithm": "pcd", "persistent_chains": 1000000000000}',
                        "persistent_chains")]:
        (ENV.work / "big.json").write_text('{"layers": [' + layer + ']}')
        p = expect_failure(pretrain_on("d.csv", "big.json"), EXIT_BAD_INPUT,
                           [rf"layers\[0\]\.{key}", r"needs about [0-9.]+ [kMGTPE]B",
                            r"memory"], out="out.h5", timeout=30)
        check(p.seconds < 10, f"took {p.seconds:.1f} s to refuse", p)
    cfg = write_config("batch.json", hidden=[4], epochs=2, batch_size=10000000)
    p = expect_ok(run("pretrain", "--config", cfg, "--data", "d.csv", "--quiet", "--out", "b.h5",
                      timeout=30))
    check(p.seconds < 10, f"a batch of 10^7 on 120 rows took {p.seconds:.1f} s", p)
    batch = info_json("b.h5")["layers"][0]["training"]["batch_size"]
    check(batch <= 120, f"recorded batch size {batch}: expected the rows there were")


@case
def usage_bad_numbers_and_empty_paths():
    cfg = write_config("small.json", hidden=[4], epochs=1)
    tiny_csv("d.csv")
    base = ["pretrain", "--config", cfg, "--data", "d.csv", "--out", "o.h5"]
    for flags, pattern in [(["--seed", "-1"], r"--seed"),
                           (["--seed", "18446744073709551616"], r"--seed.*too large"),
                           (["--seed", "1e3"], r"--seed"),
                           (["--threads", "-3"], r"--threads"),
                           (["--epochs", "99999999999999999999"], r"--epochs"),
                           (["--limit", "0"], r"--limit"),
                           (["--epochs", "1", "--epochs", "2"], r"--epochs"),
                           (["--bogus"], r"--bogus")]:
        expect_failure(base + flags, EXIT_USAGE, [pattern], out="o.h5")
    for i, flag in enumerate(["--config", "--data", "--out", "--validation"]):
        args = list(base) + ([flag, ""] if flag == "--validation" else [])
        if flag != "--validation":
            args[args.index(flag) + 1] = ""
        expect_failure(args, EXIT_USAGE, [re.escape(flag) + r": an empty path"], out="o.h5")
        check(not (ENV.work / "small.h5").exists(), "--out '' wrote NAME.h5")
    model = small_model("m.h5")
    for args, pattern in [
            (["eval", model, "--data", "bars-and-stripes:4", "--seed", "-1"], r"--seed"),
            (["eval", model, "--data", ""], r"--data: an empty path"),
            (["eval", "", "--data", "bars-and-stripes:4"], r"model.*empty path|empty path"),
            (["eval", model, "--data", "bars-and-stripes:4", "--ais-steps", "0"], r"--ais-steps"),
            (["eval", model, "--data", "bars-and-stripes:4", "--ais-steps", "99999999"],
             r"--ais-steps"),
            (["features", model, "--data", "bars-and-stripes:4", "--out", "f.h5", "--layer", "-1"],
             r"--layer.*at least 0"),
            (["features", model, "--data", "bars-and-stripes:4", "--out", ""], r"--out: an empty"),
            (["finetune", model, "--data", "bars-and-stripes:4", "--out", "t.h5", "--mode",
              "classifier", "--seed", "-1"], r"--seed"),
            (["finetune", model, "--data", "bars-and-stripes:4", "--out", "t.h5", "--mode",
              "classifier", "--test", ""], r"--test: an empty path"),
            (["bench", "--data", ""], r"--data: an empty path"),
            (["info", ""], r"empty path")]:
        p = expect_failure(args, EXIT_USAGE, [pattern])
        check("-1" not in p.err or "2^64" not in p.err, "", p)
    p = expect_failure(["features", model, "--data", "bars-and-stripes:4", "--out", "f.h5",
                        "--label-column", "3"], EXIT_BAD_INPUT, [r"--label-column", r"not a CSV file"])
    check("17976931348623157" not in p.err, "a 300-digit bound", p)


@case
def threads_beyond_the_hardware_are_clamped_with_a_note():
    p = run("pretrain", "--config", ENV.model_config("bars-and-stripes.json"), "--data",
            "bars-and-stripes:4", "--epochs", "1", "--quiet", "--out", "o.h5", "--threads", "100000")
    check(p.returncode == 0, "expected success", p)
    check(re.fullmatch(r"dbn: note: --threads 100000 is more than this machine's \d+ hardware "
                       r"threads?: using \d+\n", p.err), "expected one note on stderr", p)
    n = os.cpu_count()
    p = expect_ok(run("pretrain", "--config", ENV.model_config("bars-and-stripes.json"), "--data",
                      "bars-and-stripes:4", "--epochs", "1", "--quiet", "--out", "p.h5",
                      "--threads", str(n)))


@case
def finetune_checks_every_input_before_writing():
    """A bad --test (or validation) used to fail after t.h5 was written over the old one."""
    model = small_model("m.h5")
    tiny_csv("d.csv", rows=30, labels=("l.csv", 30))
    write_csv("w.csv", rows=30, cols=10)
    (ENV.work / "l5.csv").write_text("0\n1\n2\n0\n1\n")
    (ENV.work / "l9.csv").write_text("9\n" * 30)
    (ENV.work / "t.h5").write_bytes((ENV.work / model).read_bytes())
    old = (ENV.work / "t.h5").read_bytes()
    base = ["finetune", model, "--data", "d.csv", "--labels", "l.csv", "--mode", "classifier",
            "--epochs", "1", "--out", "t.h5", "--quiet"]
    for flags, patterns in [
            (["--test", "w.csv", "--test-labels", "l.csv"], [r"test data w\.csv", r"10 columns"]),
            (["--test", "nope.csv"], [r"nope\.csv", r"cannot open"]),
            (["--test", "d.csv"], [r"test data d\.csv", r"no labels"]),
            (["--test", "d.csv", "--test-labels", "l5.csv"], [r"l5\.csv", r"5 labels"]),
            (["--test", "d.csv", "--test-labels", "l9.csv"], [r"label 9", r"not one of"]),
            (["--validation", "w.csv"], [r"validation data w\.csv", r"10 columns"]),
            (["--validation", "d.csv", "--validation-labels", "l5.csv"], [r"5 labels"]),
            (["--validation", "d.csv"], [r"validation data d\.csv", r"no labels"])]:
        p = expect_failure(base + flags, EXIT_BAD_INPUT, patterns)
        check("epoch" not in p.out, "training started", p)
        check((ENV.work / "t.h5").read_bytes() == old, f"t.h5 changed after {flags}", p)
    expect_ok(run(*base, "--test", "d.csv", "--test-labels", "l.csv"))
    # eval: bad labels are refused before the evaluation, and labels for a model without a head.
    expect_failure(["eval", model, "--data", "d.csv", "--labels", "l.csv"], EXIT_BAD_INPUT,
                   [r"--labels", r"not a fine-tuned classifier"])
    expect_failure(["eval", "t.h5", "--data", "d.csv", "--labels", "l9.csv"], EXIT_BAD_INPUT,
                   [r"label 9", r"not one of"])


@case
def output_that_is_an_input_is_refused():
    model = small_model("m.h5")
    good = (ENV.work / model).read_bytes()
    tiny_csv("d.csv", labels=("l.csv", 40))
    os.symlink("m.h5", ENV.work / "link.h5")
    cfg = write_config("c.json", hidden=[4], epochs=1)
    for args, patterns in [
            (["features", model, "--data", "bars-and-stripes:4", "--out", "m.h5"],
             [r"--out m\.h5 is the same file as the model"]),
            (["features", model, "--data", "bars-and-stripes:4", "--out", "./m.h5"],
             [r"same file as the model"]),
            (["features", model, "--data", "bars-and-stripes:4", "--out", "link.h5"],
             [r"same file as the model"]),
            (["finetune", model, "--data", "bars-and-stripes:4", "--mode", "autoencoder",
              "--out", "m.h5"], [r"same file as the model"]),
            (["finetune", model, "--data", "bars-and-stripes:4", "--mode", "autoencoder",
              "--out", "../" + ENV.work.name + "/m.h5"], [r"same file as the model"]),
            (["pretrain", "--config", cfg, "--data", "d.csv", "--out", "d.csv"],
             [r"same file as --data"]),
            (["pretrain", "--config", cfg, "--data", "d.csv", "--out", "c.json"],
             [r"same file as --config"]),
            (["pretrain", "--config", cfg, "--data", "d.csv", "--validation", "m.h5:/x",
              "--out", "m.h5"], [r"same file as --validation"])]:
        expect_failure(args, EXIT_BAD_INPUT, patterns)
        check((ENV.work / model).read_bytes() == good, f"{model} changed after {args}")


@case
def data_gzip_without_trailer():
    """All the values are there; the CRC-32 and length trailer is cut: refused."""
    gz = gzip.compress(idx_images(20, 4, 4))
    for cut in (1, 4, 8):
        name = f"cut{cut}-images-idx3-ubyte.gz"
        (ENV.work / name).write_bytes(gz[:-cut])
        expect_failure(pretrain_on(name), EXIT_BAD_INPUT, [re.escape(name), r"truncated gzip"],
                       out="out.h5")
    (ENV.work / "ok-images-idx3-ubyte.gz").write_bytes(gz)
    expect_ok(run(*pretrain_on("ok-images-idx3-ubyte.gz"), "--quiet"))


@case
def csv_huge_cell_is_quoted_short():
    csv_with_row("huge.csv", 10, "7" * 5000000 + "x," + ",".join(["0"] * 15))
    p = expect_failure(pretrain_on("huge.csv"), EXIT_BAD_INPUT,
                       [r"huge\.csv:11", r'"7{40}\.\.\."'], out="out.h5")
    check(len(p.err) < 300, f"the message is {len(p.err)} characters", p)


# ------------------------------------------------------------------------------------------------
# Broken model files (dbn info, exit 2)


def broken_model(name, edit):
    """A copy of a good model, changed by `edit(h5py.File)` (or by `edit(Path)` for raw bytes)."""
    h5py, _ = h5py_numpy()
    good = small_model()
    shutil.copy(ENV.work / good, ENV.work / name)
    if edit is not None:
        with h5py.File(ENV.work / name, "a") as f:
            edit(f)
    return name


def expect_info_fails(model, patterns):
    for extra in ([], ["--json"]):
        p = expect_failure(["info", model] + extra, EXIT_BAD_INPUT, [re.escape(model)] + patterns)
        check(p.out == "", "expected nothing on stdout", p)


@case
def info_truncated_model():
    name = broken_model("cut.h5", None)
    data = (ENV.work / name).read_bytes()
    (ENV.work / name).write_bytes(data[:len(data) // 2])
    expect_info_fails(name, [r"truncated"])


@case
def info_not_hdf5():
    (ENV.work / "text.h5").write_text("this is not an HDF5 file\n")
    expect_info_fails("text.h5", [r"not an HDF5 file"])
    expect_info_fails("nope.h5", [r"no such file"])


@case
def info_missing_hidden_bias():
    def drop(f):
        del f["layers/0/hidden_bias"]
    expect_info_fails(broken_model("nobias.h5", drop), [r"/layers/0/hidden_bias", r"missing"])


@case
def info_unknown_format_version():
    def bump(f):
        f.attrs["format_version"] = 99
    expect_info_fails(broken_model("v99.h5", bump), [r"format_version", r"\b99\b", r"\b1\b"])


@case
def info_missing_library_version():
    def drop(f):
        del f.attrs["library_version"]
    expect_info_fails(broken_model("nolib.h5", drop), [r"library_version", r"missing"])


@case
def info_weights_larger_than_the_file():
    # A small file declaring [16384, 16384] float32 weights (1 GiB) that it cannot hold: refused
    # from the shapes alone, before anything that size is allocated.
    def huge(f):
        g = f["layers/0"]
        del g["weights"]
        g.create_dataset("weights", shape=(16384, 16384), dtype="float32")
    name = broken_model("huge.h5", huge)
    p = expect_failure(["info", name], EXIT_BAD_INPUT,
                       [re.escape(name), r"/layers/0/weights", r"\[16384, 16384\]"])
    check(p.seconds < 10, f"took {p.seconds:.1f} s", p)


@case
def hdf5_data_larger_than_the_file():
    # Training data declaring 10^6 x 10^5 float32 values (400 GB) in a file of a few KB; and a
    # compressed one whose chunks were never written: both refused before any allocation.
    h5py, np = h5py_numpy()
    with h5py.File(ENV.work / "big.h5", "w") as f:
        f.create_dataset("x", shape=(1000000, 100000), dtype="float32")
        f.create_dataset("z", shape=(1000000, 1000), dtype="float32", chunks=(1000, 1000),
                         compression="gzip")
        f["z"][0:1000] = np.zeros((1000, 1000), dtype=np.float32)
    config = write_config("c.json", [8])
    for dataset, pattern in (("x", r"more than the whole file"), ("z", r"compressed bytes")):
        p = expect_failure(["pretrain", "--config", config, "--data", f"big.h5:/{dataset}",
                            "--out", "m.h5"], EXIT_BAD_INPUT,
                           [r"big\.h5", "/" + dataset, r"\[1000000, \d+\]", pattern], out="m.h5")
        check(p.seconds < 10, f"took {p.seconds:.1f} s", p)


def damage_sweep(model, offsets, seed):
    """Runs `dbn info` on copies of `model` with one byte changed at each offset: every run exits
    0 or 2, and a failure is one line naming the file. Returns the count of each status."""
    import random
    rnd = random.Random(seed)
    good = (ENV.work / model).read_bytes()
    counts = {}
    for at in offsets:
        bad = bytearray(good)
        bad[at] ^= rnd.randrange(1, 256)
        (ENV.work / "damaged.h5").write_bytes(bytes(bad))
        p = run("info", "damaged.h5")
        check(p.returncode in (EXIT_OK, EXIT_BAD_INPUT),
              f"byte {at} changed: exit status {p.returncode} (a signal if negative)", p)
        if p.returncode == EXIT_BAD_INPUT:
            check(p.err.startswith("dbn: error: damaged.h5") and p.err.count("\n") == 1,
                  f"byte {at} changed: expected one line naming the file", p)
        counts[p.returncode] = counts.get(p.returncode, 0) + 1
    return counts


@case
def info_survives_damaged_bytes():
    import random
    # A model written by this program, and one written before the checksummed formats
    # (variable-length strings, whose damaged heap references crashed HDF5): a seeded sample of
    # offsets in each, plus the old file's global heap, where the crashes were.
    small_model("new.h5")
    shutil.copy(ENV.src / "tests/io/data/v1_old_check_names.h5", ENV.work / "old.h5")
    tried = 0
    for name, n, seed in (("new.h5", 30, 1), ("old.h5", 30, 2)):
        size = (ENV.work / name).stat().st_size
        offsets = sorted(random.Random(seed).sample(range(size), n))
        counts = damage_sweep(name, offsets, seed)
        tried += n
        check(counts.get(EXIT_BAD_INPUT, 0) > 0, f"{name}: no damaged copy was refused: {counts}")
    print(f"{tried} damaged model files tried")


@case
def full_disk_saves_fail_cleanly():
    # A file size limit (RLIMIT_FSIZE, with SIGXFSZ ignored) makes writes fail with EFBIG, as
    # on a full disk: every save exits 2 with one line, leaves no file, and does not crash.
    import resource
    import signal
    model = small_model("good.h5")
    full = (ENV.work / model).stat().st_size
    write_csv("rows.csv")

    def limited(limit):
        def apply():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        return apply

    commands = {
        "pretrain": ["pretrain", "--config", ENV.model_config("bars-and-stripes.json"), "--data",
                     "bars-and-stripes:4", "--epochs", "2", "--quiet", "--out", "out.h5"],
        "features": ["features", model, "--data", "rows.csv", "--out", "out.h5", "--quiet"],
    }
    tried = 0
    for what, args in commands.items():
        for limit in (1, 2048, 4096, 8192, full // 2, full - 1):
            before = listing()
            p = subprocess.run([ENV.dbn] + args, cwd=ENV.work, stdin=subprocess.DEVNULL,
                               capture_output=True, timeout=60, preexec_fn=limited(limit))
            p.out, p.err = p.stdout.decode(), p.stderr.decode()
            p.cmd = f"(file size limit {limit}) dbn " + " ".join(args)
            check(p.returncode == EXIT_BAD_INPUT, f"{what}: expected exit status 2", p)
            # (A periodic checkpoint that fails to write is a warning before it.)
            errors = [line for line in p.err.splitlines()
                      if not line.startswith("dbn: warning: checkpoint not written: ")]
            check(len(errors) == 1 and errors[0].startswith("dbn: error: "),
                  f"{what}: expected one line on stderr", p)
            check(re.search(r"File too large", p.err), f"{what}: expected the reason", p)
            check(listing() == before, f"{what}: files left behind: "
                  f"{sorted(set(listing()) - set(before))}", p)
            tried += 1
    print(f"{tried} limited saves tried")


@case
def stale_temp_files_are_removed():
    dead = subprocess.Popen(["/bin/true"])
    dead.wait()
    stale = ENV.work / f"out.h5.tmp.{dead.pid}"
    stale.write_bytes(b"left by a killed run")
    live = ENV.work / f"out.h5.tmp.{os.getpid()}"
    live.write_bytes(b"a live process's")
    args = ["pretrain", "--config", ENV.model_config("bars-and-stripes.json"), "--data",
            "bars-and-stripes:4", "--epochs", "2", "--quiet", "--out", "out.h5"]
    p = run(*args)
    check(p.returncode == EXIT_OK, "expected exit status 0", p)
    check(not stale.exists(), f"{stale.name} (of a dead process) was not removed", p)
    check(live.exists(), f"{live.name} (of a live process) was removed", p)
    check(re.search(re.escape(live.name) + r".*running process", p.err),
          "expected a warning naming the live process's temporary file", p)
    check(sorted(listing()) == sorted(["out.h5", live.name]), f"files: {listing()}", p)


@case
def concurrent_writers_of_one_output():
    import signal
    args = ["pretrain", "--config", ENV.model_config("bars-and-stripes.json"), "--data",
            "bars-and-stripes:4", "--epochs", "100000", "--quiet", "--out", "out.h5"]
    first = subprocess.Popen([ENV.dbn] + args, cwd=ENV.work, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        lock = ENV.work / "out.h5.lock"
        deadline = time.monotonic() + 20
        while not lock.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        check(lock.exists(), "the first run made no lock file")
        p = run(*args)
        check(p.returncode == EXIT_BAD_INPUT, "expected the second writer to fail", p)
        check(re.search(r"out\.h5.*another process \(pid " + str(first.pid) + r"\)", p.err)
              and p.err.count("\n") == 1, "expected one line naming the file and the other pid", p)
        check(p.seconds < 10, f"the second writer took {p.seconds:.1f} s to fail", p)
        check(first.poll() is None, "the first run did not keep running")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    # The killed run leaves its lock file (and no model); its lock died with it.
    check((ENV.work / "out.h5.lock").exists(), "expected the killed run's lock file")
    short = [a if a != "100000" else "2" for a in args]
    p = run(*short)
    check(p.returncode == EXIT_OK and p.err == "", "a stale lock file blocked the next run", p)
    check(listing() == ["out.h5"], f"files after the run: {listing()}")


# ------------------------------------------------------------------------------------------------


# ---- the tutorial (docs/TUTORIAL.md) ----


def number_pattern(line):
    """A regex matching `line` with every number in it replaced by any number."""
    parts = re.split(r"([-+]?\d[\d,]*(?:\.\d+)?(?:e[-+]?\d+)?)", line.strip())
    return "".join(r"[-+]?\d[\d,]*(?:\.\d+)?(?:e[-+]?\d+)?" if i % 2 else re.escape(part)
                   for i, part in enumerate(parts))


@case
def tutorial_commands_run():
    """Runs every ```sh and ```python block of docs/TUTORIAL.md in order, in one shell (the
    install-and-build block, which runs scripts/, is skipped: this build is the one under test),
    and finds every line of its ```text blocks in the output, numbers aside."""
    train = ENV.fashion_train()
    for d in ("models", "python"):
        shutil.copytree(ENV.src / d, ENV.work / d)
    doc = (ENV.src / "docs" / "TUTORIAL.md").read_text()
    blocks = re.findall(r"^```(\w+)\n(.*?)^```$", doc, re.MULTILINE | re.DOTALL)
    script, shown, skipped = ["set -euo pipefail"], [], 0
    for kind, body in blocks:
        if kind == "sh" and "bash scripts/" in body:
            skipped += 1
        elif kind == "sh":
            script.append(body.replace("/usr/share/datasets/fashion-mnist",
                                       str(Path(train).parent)))
        elif kind == "python":
            script.append("python3 - <<'PYTHON_BLOCK'\n" + body + "PYTHON_BLOCK")
        elif kind == "text":
            shown += [line for line in body.splitlines() if line.strip()]
    check(skipped == 1, f"expected one install block, found {skipped}")
    check(len(script) >= 8 and shown, "docs/TUTORIAL.md lost its command or output blocks")
    env = dict(os.environ, PATH=f"{Path(ENV.dbn).parent}:/usr/bin:{os.environ['PATH']}",
               PYTHONPATH=str(ENV.work / "python"))
    p = subprocess.run(["bash", "-c", "\n".join(script)], cwd=ENV.work, env=env,
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=540)
    out = p.stdout.decode("utf-8", "replace") + p.stderr.decode("utf-8", "replace")
    check(p.returncode == 0, f"a tutorial command failed (exit {p.returncode}):\n{out[-3000:]}")
    for line in shown:
        check(re.search(number_pattern(line), out),
              f"the tutorial shows a line the commands no longer print: {line!r}\n{out[-3000:]}")
    check("accuracy 0." in out and (ENV.work / "quick-classifier.h5").is_file(),
          f"no classifier came out of the tutorial:\n{out[-3000:]}")


# ---- the command reference (docs/CLI.md) ----


def help_of(path):
    """The flags and positionals `dbn PATH --help` lists, and its subcommands."""
    p = expect_ok(run(*path, "--help"))
    flags, positionals, subs, section = [], [], [], None
    for line in p.out.splitlines():
        if re.match(r"^(Options|Positionals|Subcommands):", line):
            section = line.split(":")[0]
            continue
        if not line.startswith("  ") or line.startswith("      "):
            continue
        word = line.split()[0]
        if section == "Options":
            flags += [f for f in re.findall(r"--[\w-]+", word.split(" ")[0]) if f != "--help"]
        elif section == "Positionals":
            positionals.append(word)
        elif section == "Subcommands":
            subs.append(word)
    return flags, positionals, subs


def doc_sections(text):
    """{"pretrain": text, "dataset ising": text, ...}: each command heading's section."""
    sections, name = {}, None
    for line in text.splitlines():
        m = re.match(r"^#{2,3} `dbn ([a-z -]+)`$", line)
        if m:
            name = m.group(1)
            sections[name] = ""
        elif line.startswith("## ") or line.startswith("### "):
            name = None
        elif name is not None:
            sections[name] += line + "\n"
    return sections


@case
def docs_name_every_command_and_flag():
    """docs/CLI.md has a section for every subcommand, naming each flag and positional of its
    --help in backquotes, and no section for a command that does not exist."""
    doc = (ENV.src / "docs" / "CLI.md").read_text()
    sections = doc_sections(doc)
    missing, seen, todo = [], set(), [[]]
    while todo:
        path = todo.pop()
        flags, positionals, subs = help_of(path)
        todo += [path + [s] for s in subs]
        if not path:
            continue
        name = " ".join(path)
        seen.add(name)
        if name not in sections:
            missing.append(f"no section \"## `dbn {name}`\"")
            continue
        for word in flags + positionals:
            if f"`{word}`" not in sections[name]:
                missing.append(f"dbn {name}: `{word}` is not in its section")
    check(len(seen) >= 7, f"found only these commands in --help: {sorted(seen)}")
    missing += [f"a section for `dbn {s}`, which does not exist" for s in set(sections) - seen]
    check(not missing, "docs/CLI.md:\n  " + "\n  ".join(sorted(missing)))


# ---- predict and score (issue 12) ----


def labelled_csv(rows=600, cols=32, classes=4, seed=5):
    """rows.csv (0/1 values) and labels.csv: noisy copies of one prototype per class."""
    _, np = h5py_numpy()
    rng = np.random.default_rng(seed)
    protos = rng.random((classes, cols)) < 0.4
    k = rng.integers(0, classes, rows)
    x = protos[k] ^ (rng.random((rows, cols)) < 0.2)
    (ENV.work / "rows.csv").write_text("".join(",".join(map(str, r)) + "\n"
                                               for r in x.astype(int)))
    (ENV.work / "labels.csv").write_text("".join(f"{v}\n" for v in k))
    return x.astype(np.float64), k


def sigmoid(z):
    _, np = h5py_numpy()
    return 1.0 / (1.0 + np.exp(-z))


def encoder_numpy(path, x):
    """Top-layer mean-field values p(h|x) through the stack of `path` (Bernoulli layers, no
    preprocessing, no hooks), in float64."""
    h5py, np = h5py_numpy()
    with h5py.File(ENV.work / path, "r") as f:
        check("preprocessing" not in f or float(f["preprocessing"].attrs["scale"]) == 1.0,
              f"{path}: the test expects no preprocessing")
        h = x
        for k in range(int(f.attrs["n_layers"])):
            check("hook" not in f[f"layers/{k}"], f"{path}: the test expects no hooks")
            h = sigmoid(h @ f[f"layers/{k}/weights"][()].astype(np.float64)
                        + f[f"layers/{k}/hidden_bias"][()].astype(np.float64))
    return h


def pretrain_labelled(hidden=(24, 16)):
    x, k = labelled_csv()
    cfg = write_config("p.json", hidden=list(hidden), epochs=3)
    expect_ok(run("pretrain", "--config", cfg, "--data", "rows.csv", "--out", "m.h5", "--quiet",
                  "--no-checkpoint", "--no-checks"))
    return x, k


@case
def predict_classifier_matches_numpy_and_finetune():
    h5py, np = h5py_numpy()
    x, k = pretrain_labelled()
    p = expect_ok(run("predict", "m.h5", "--data", "rows.csv", "--out", "f.h5"))
    check("features of layer 1" in p.out, "a pretrained model gives its features", p)
    p = expect_ok(run("finetune", "m.h5", "--data", "rows.csv", "--labels", "labels.csv",
                      "--mode", "classifier", "--epochs", "4", "--validation-fraction", "0",
                      "--no-checkpoint", "--test", "rows.csv", "--test-labels", "labels.csv",
                      "--json", "--quiet", "--out", "c.h5", timeout=120))
    test_accuracy = json.loads(p.out)["test_accuracy"]
    p = expect_ok(run("predict", "c.h5", "--data", "rows.csv", "--labels", "labels.csv",
                      "--out", "pred.h5"))
    m = re.search(r"accuracy ([0-9.]+) \((\d+) of 600 rows\)", p.out)
    check(m is not None, "predict prints the accuracy on --labels", p)
    with h5py.File(ENV.work / "c.h5", "r") as f:
        w = f["classifier/weights"][()].astype(np.float64)
        b = f["classifier/bias"][()].astype(np.float64)
        classes = f["classifier/classes"][()]
    z = encoder_numpy("c.h5", x) @ w + b
    expected = np.exp(z - z.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    with h5py.File(ENV.work / "pred.h5", "r") as f:
        check(text(f.attrs["format"]) == "dbn-predictions", f"format {f.attrs['format']!r}")
        check(text(f.attrs["model"]) == "c.h5", f"model attribute {f.attrs['model']!r}")
        check(text(f.attrs["output"]) == "probabilities", f"output {f.attrs['output']!r}")
        prob = f["probabilities"][()]
        pred = f["predicted"][()]
        labels = f["labels"][()]
        check(prob.dtype == np.float32 and prob.shape == (600, len(classes)),
              f"/probabilities {prob.dtype} {prob.shape}")
        check(pred.dtype == np.int64 and pred.shape == (600,), f"/predicted {pred.dtype}")
        check(np.array_equal(f["classes"][()], classes), "/classes are the model's")
    check(np.array_equal(labels, k), "/labels are --labels")
    check(np.allclose(prob.sum(axis=1), 1.0, atol=1e-5), "probabilities sum to 1")
    err = np.abs(prob - expected).max()
    check(err < 1e-5, f"probabilities differ from numpy's forward pass by {err}")
    check(np.array_equal(pred, classes[np.argmax(prob, axis=1)]),
          "predicted class = argmax of the probabilities")
    accuracy = float(np.mean(pred == k))
    check(abs(float(m.group(1)) - accuracy) < 1e-4 and int(m.group(2)) == int(np.sum(pred == k)),
          f"printed accuracy {m.group(0)} vs {accuracy}", p)
    # The same run of finetune on --test reported this accuracy.
    check(abs(test_accuracy - accuracy) < 1e-12,
          f"finetune's test accuracy {test_accuracy}, predict's {accuracy}")
    # CSV and NPY hold the same numbers.
    expect_ok(run("predict", "c.h5", "--data", "rows.csv", "--out", "pred.csv", "--quiet"))
    lines = (ENV.work / "pred.csv").read_text().splitlines()
    check(lines[0] == "predicted," + ",".join(f"p{c}" for c in classes),
          f"CSV header {lines[0]!r}")
    table = np.loadtxt(ENV.work / "pred.csv", delimiter=",", skiprows=1)
    check(np.array_equal(table[:, 0].astype(np.int64), pred), "CSV predicted column")
    check(np.array_equal(table[:, 1:].astype(np.float32), prob), "CSV probabilities")
    expect_ok(run("predict", "c.h5", "--data", "rows.csv", "--out", "pred.npy", "--quiet"))
    arr = np.load(ENV.work / "pred.npy")
    check(arr.dtype == np.float32 and np.array_equal(arr, prob), "NPY = /probabilities")
    # Other chunks: the same values up to float rounding where the blocks of rows end.
    expect_ok(run("predict", "c.h5", "--data", "rows.csv", "--out", "chunks.npy", "--quiet",
                  "--chunk-rows", "77"))
    err = np.abs(np.load(ENV.work / "chunks.npy") - prob).max()
    check(err < 1e-6, f"--chunk-rows 77 changes the probabilities by {err}")
    # Asked for features, the classifier gives its tuned stack's top layer.
    expect_ok(run("predict", "c.h5", "--data", "rows.csv", "--out", "feat.h5", "--output",
                  "features", "--quiet"))
    with h5py.File(ENV.work / "feat.h5", "r") as f:
        err = np.abs(f["features"][()] - encoder_numpy("c.h5", x)).max()
    check(err < 1e-5, f"features differ from numpy's by {err}")
    no_temp_files()


@case
def predict_autoencoder_and_features_match_numpy():
    h5py, np = h5py_numpy()
    x, k = pretrain_labelled()
    expect_ok(run("predict", "m.h5", "--data", "rows.csv", "--out", "f.h5", "--chunk-rows", "50"))
    with h5py.File(ENV.work / "f.h5", "r") as f:
        feat = f["features"][()]
        check(f["features"].dtype == np.float32 and feat.shape == (600, 16),
              f"/features {f['features'].dtype} {feat.shape}")
        check("predicted" not in f and "probabilities" not in f, "features only")
    err = np.abs(feat - encoder_numpy("m.h5", x)).max()
    check(err < 1e-5, f"features differ from numpy's by {err}")
    # dbn features gives the same numbers with the same chunks.
    expect_ok(run("features", "m.h5", "--data", "rows.csv", "--out", "ff.h5", "--quiet",
                  "--chunk-rows", "50"))
    with h5py.File(ENV.work / "ff.h5", "r") as f:
        check(np.array_equal(f["features"][()], feat), "predict's features = dbn features'")
    expect_ok(run("finetune", "m.h5", "--data", "rows.csv", "--mode", "autoencoder", "--epochs",
                  "2", "--no-checkpoint", "--quiet", "--out", "ae.h5", timeout=120))
    expect_ok(run("predict", "ae.h5", "--data", "rows.csv", "--out", "r.csv", "--quiet"))
    lines = (ENV.work / "r.csv").read_text().splitlines()
    check(lines[0] == ",".join(f"r{j}" for j in range(32)), f"CSV header {lines[0]!r}")
    rec = np.loadtxt(ENV.work / "r.csv", delimiter=",", skiprows=1)
    with h5py.File(ENV.work / "ae.h5", "r") as f:
        y = encoder_numpy("ae.h5", x)
        for j in reversed(range(int(f.attrs["n_layers"]))):
            d = f[f"decoder/{j}"]
            y = y @ d["weights"][()].astype(np.float64) + d["bias"][()].astype(np.float64)
            units = text(d.attrs["units"])
            check(units == "sigmoid", f"decoder {j}: units {units}")
            y = sigmoid(y)
    check(rec.shape == (600, 32), f"reconstructions {rec.shape}")
    err = np.abs(rec - y).max()
    check(err < 1e-5, f"reconstructions differ from numpy's by {err}")
    no_temp_files()


@case
def predict_and_score_refuse_bad_inputs():
    pretrain_labelled()
    write_csv("wide.csv", rows=20, cols=33)
    (ENV.work / "few-labels.csv").write_text("0\n1\n")
    for cmd in ("predict", "score"):
        expect_failure([cmd, "missing.h5", "--data", "rows.csv", "--out", "o.h5"],
                       EXIT_BAD_INPUT, [r"missing\.h5"], out="o.h5")
        expect_failure([cmd, "m.h5", "--data", "wide.csv", "--out", "o.h5"], EXIT_BAD_INPUT,
                       [r"wide\.csv: 33 columns, but the model has 32 visible units"], out="o.h5")
        expect_failure([cmd, "m.h5", "--data", "rows.csv", "--out", "o.txt"], EXIT_BAD_INPUT,
                       [r"o\.txt: unknown output extension"], out="o.txt")
        expect_failure([cmd, "m.h5", "--data", "missing.csv", "--out", "o.csv"], EXIT_BAD_INPUT,
                       [r"missing\.csv"], out="o.csv")
    expect_failure(["predict", "m.h5", "--data", "rows.csv", "--out", "o.h5", "--output",
                    "probabilities"], EXIT_BAD_INPUT,
                   [r"m\.h5: the model has no classifier head", "pretrained only"], out="o.h5")
    expect_failure(["predict", "m.h5", "--data", "rows.csv", "--out", "o.h5", "--output",
                    "reconstructions"], EXIT_BAD_INPUT, [r"no fine-tuned decoder"], out="o.h5")
    expect_failure(["predict", "m.h5", "--data", "rows.csv", "--out", "o.h5", "--output",
                    "guess"], EXIT_USAGE, [r"--output"], out="o.h5")
    expect_failure(["predict", "m.h5", "--data", "rows.csv", "--labels", "few-labels.csv",
                    "--out", "o.csv"], EXIT_BAD_INPUT, [r"2 labels for the 600 rows"],
                   out="o.csv")
    for p in [expect_failure(["predict", "m.h5", "--data", "wide.csv", "--out", "o.h5"],
                             EXIT_BAD_INPUT, [])]:
        check(p.err.count("\n") == 1, "the error is one line", p)


@case
def score_matches_exact_enumeration():
    h5py, np = h5py_numpy()
    rng = np.random.default_rng(11)
    x = (rng.random((400, 10)) < 0.35).astype(int)
    (ENV.work / "train.csv").write_text("".join(",".join(map(str, r)) + "\n" for r in x))
    states = ((np.arange(1024)[:, None] >> np.arange(10)) & 1).astype(int)
    (ENV.work / "all.csv").write_text("".join(",".join(map(str, r)) + "\n" for r in states))
    cfg = write_config("s.json", hidden=[8], epochs=5)
    expect_ok(run("pretrain", "--config", cfg, "--data", "train.csv", "--out", "m.h5", "--quiet",
                  "--no-checkpoint"))
    p = expect_ok(run("score", "m.h5", "--data", "all.csv", "--out", "s.h5", "--chunk-rows",
                      "100"))
    with h5py.File(ENV.work / "m.h5", "r") as f:
        w = f["layers/0/weights"][()].astype(np.float64)
        a = f["layers/0/visible_bias"][()].astype(np.float64)
        b = f["layers/0/hidden_bias"][()].astype(np.float64)
    v = states.astype(np.float64)
    free = -v @ a - np.logaddexp(0.0, v @ w + b).sum(axis=1)
    log_z = np.logaddexp.reduce(-free)
    with h5py.File(ENV.work / "s.h5", "r") as f:
        check(text(f.attrs["format"]) == "dbn-scores", f"format {f.attrs['format']!r}")
        check(text(f.attrs["log_z_method"]) == "exact", f"method {f.attrs['log_z_method']!r}")
        got_f = f["free_energy"][()]
        got_p = f["log_prob"][()]
        got_z = float(f.attrs["log_z"])
    check(got_f.dtype == np.float64 and got_f.shape == (1024,), f"/free_energy {got_f.shape}")
    check(abs(got_z - log_z) <= 1e-9 * abs(log_z), f"log Z {got_z} vs numpy's {log_z}")
    rel_f = np.max(np.abs(got_f - free) / np.abs(free))
    check(rel_f <= 1e-9, f"free energies differ by {rel_f} relative")
    rel_p = np.max(np.abs(got_p - (-free - log_z)) / np.abs(-free - log_z))
    check(rel_p <= 1e-9, f"log p differs by {rel_p} relative")
    total = np.exp(got_p).sum()
    check(abs(total - 1.0) <= 1e-9, f"sum of p(v) over all 2^10 states is {total!r}")
    m = re.search(r"mean log p\(v\): (-?[0-9.]+) nats per row", p.out)
    check(m is not None and abs(float(m.group(1)) - got_p.mean()) < 1e-5,
          "score prints the mean log p", p)
    # CSV: the same numbers, 17 digits.
    expect_ok(run("score", "m.h5", "--data", "all.csv", "--out", "s.csv", "--quiet"))
    lines = (ENV.work / "s.csv").read_text().splitlines()
    check(lines[0] == "free_energy,log_prob", f"CSV header {lines[0]!r}")
    table = np.loadtxt(ENV.work / "s.csv", delimiter=",", skiprows=1)
    check(np.array_equal(table[:, 0], got_f) and np.array_equal(table[:, 1], got_p),
          "CSV = HDF5 scores")
    no_temp_files()


@case
def info_says_whose_log_z_a_fine_tuned_file_shows():
    labelled_csv()
    cfg = write_config("i.json", hidden=[12, 8], epochs=2)
    # The checks of so short a training may fail (a warning on stderr): only log Z matters here.
    p = run("pretrain", "--config", cfg, "--data", "rows.csv", "--out", "m.h5", "--quiet",
            "--no-checkpoint", timeout=120)
    check(p.returncode == EXIT_OK, "pretrain with checks", p)
    info = info_json("m.h5")
    check(info["log_z"] and info["log_z_parameters"] == "saved",
          f"pretrained file: log_z_parameters {info.get('log_z_parameters')!r}")
    p = expect_ok(run("info", "m.h5"))
    check("log Z per layer:" in p.out and "before fine-tuning" not in p.out,
          "a pretrained file's log Z is not labelled", p)
    expect_ok(run("finetune", "m.h5", "--data", "rows.csv", "--mode", "autoencoder",
                  "--epochs", "2", "--no-checkpoint", "--quiet", "--out", "ae.h5", timeout=120))
    info = info_json("ae.h5")
    check(info["log_z"] and info["log_z_parameters"] == "pretrained",
          f"fine-tuned file: log_z_parameters {info.get('log_z_parameters')!r}")
    p = expect_ok(run("info", "ae.h5"))
    check("log Z per layer (of the pretrained layers, before fine-tuning):" in p.out,
          "a fine-tuned file's log Z is labelled", p)


# ---- pictures and samples (issue 13) ----


@case
def sample_writes_seeded_samples_of_a_two_layer_model():
    """`dbn sample`: /samples float32 [N, n_visible] in [0, 1], /binary uint8, the attributes;
    the same seed gives the same file bit for bit, another seed other samples; --from works."""
    import h5py
    import numpy as np
    config = write_config("small.json", hidden=[8, 4], epochs=2)
    # Two layers trained this briefly may fail their check (a warning): only the model matters.
    p = run("pretrain", "--config", config, "--data", "bars-and-stripes:4", "--out", "m.h5")
    check(p.returncode == EXIT_OK, "pretraining failed", p)
    expect_ok(run("sample", "m.h5", "--count", "30", "--steps", "20", "--seed", "7", "--out",
                  "a.h5"))
    # HDF5 stamps object headers with times in seconds unless told not to: the second run starts
    # in another second, so that a file carrying such stamps cannot pass by luck.
    time.sleep(1.1)
    expect_ok(run("sample", "m.h5", "--count", "30", "--steps", "20", "--seed", "7", "--out",
                  "b.h5"))
    expect_ok(run("sample", "m.h5", "--count", "30", "--steps", "20", "--seed", "8", "--out",
                  "c.h5"))
    expect_ok(run("sample", "m.h5", "--count", "5", "--steps", "3", "--from",
                  "bars-and-stripes:4", "--out", "d.h5"))
    with h5py.File(ENV.work / "a.h5", "r") as f, h5py.File(ENV.work / "c.h5", "r") as g:
        s = f["samples"][()]
        check(s.dtype == np.float32 and s.shape == (30, 16), f"samples {s.dtype} {s.shape}")
        check(np.all((s >= 0) & (s <= 1)), "means outside [0, 1]")
        b = f["binary"][()]
        check(b.dtype == np.uint8 and b.shape == (30, 16) and set(np.unique(b)) <= {0, 1},
              f"binary {b.dtype} {b.shape}")
        check(f.attrs["steps"] == 20 and f.attrs["seed"] == 7 and f.attrs["model"] in ("m.h5", b"m.h5"),
              f"attributes {dict(f.attrs)}")
        check(not np.array_equal(s, g["samples"][()]), "another seed gave the same samples")
    with h5py.File(ENV.work / "d.h5", "r") as f:
        check(f["samples"].shape == (5, 16) and f.attrs["from"] in ("bars-and-stripes:4", b"bars-and-stripes:4"),
              f"--from: {dict(f.attrs)}")
    a = (ENV.work / "a.h5").read_bytes()
    check(a == (ENV.work / "b.h5").read_bytes(), "the same seed gave another file")


@case
def sample_bad_inputs_fail_in_one_line_without_output():
    config = write_config("small.json", hidden=[8], epochs=1)
    expect_ok(run("pretrain", "--config", config, "--data", "bars-and-stripes:4", "--out",
                  "m.h5"))
    expect_failure(["sample", "m.h5", "--out", "s.txt"], EXIT_BAD_INPUT,
                   [r"--out s\.txt: unknown extension"], out="s.txt")
    expect_failure(["sample", "m.h5", "--out", "no/such/dir/s.h5"], EXIT_BAD_INPUT,
                   [r"no/such/dir"], out="no/such/dir/s.h5")
    expect_failure(["sample", "m.h5", "--count", "0", "--out", "s.h5"], EXIT_USAGE,
                   [r"--count"], out="s.h5")
    expect_failure(["sample", "m.h5", "--from", "bars-and-stripes:3", "--out", "s.h5"],
                   EXIT_BAD_INPUT, [r"s\.h5|column|visible"], out="s.h5")

class ReportTables(html.parser.HTMLParser):
    """The tables of a report page by id: per row, the data-value of each numeric cell (None for
    cells without one); also the text of elements with an id."""

    def __init__(self):
        super().__init__()
        self.tables, self.texts, self._table, self._row, self._ids = {}, {}, None, None, []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self._table = self.tables.setdefault(a.get("id"), [])
        elif tag == "tr" and self._table is not None:
            self._row = []
            self._table.append(self._row)
        elif tag == "td" and self._row is not None:
            self._row.append(a.get("data-value"))
        if "id" in a and tag != "table":
            self._ids.append((tag, a["id"]))
            self.texts[a["id"]] = a.get("data-value", "")

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None
        elif tag == "tr":
            self._row = None
        if self._ids and self._ids[-1][0] == tag:
            self._ids.pop()


def chromium_render(page, shot, size="1200,1600"):
    """Runs headless Chromium on `page`: (the path of its screenshot, the DOM after its scripts
    ran, the console messages it logged)."""
    exe = shutil.which("chromium")
    check(exe is not None, "chromium is not installed (scripts/setup.sh --test installs it)")
    common = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
              "--enable-logging=stderr", "--v=0", f"--user-data-dir={ENV.work / 'chromium'}",
              f"--window-size={size}"]
    url = (ENV.work / page).resolve().as_uri()
    console = []
    p = subprocess.run(common + [f"--screenshot={ENV.work / shot}", url], capture_output=True,
                       timeout=120)
    console += [l for l in p.stderr.decode("utf-8", "replace").splitlines() if ":CONSOLE" in l]
    check((ENV.work / shot).exists(), f"chromium wrote no screenshot:\n{p.stderr.decode()}")
    p = subprocess.run(common + ["--dump-dom", url], capture_output=True, timeout=120)
    console += [l for l in p.stderr.decode("utf-8", "replace").splitlines() if ":CONSOLE" in l]
    return ENV.work / shot, p.stdout.decode("utf-8", "replace"), console


@case
def report_page_matches_info_and_renders_in_chromium():
    """`dbn report`: the page's log Z, checks and accuracy are those of `dbn info --json` and of
    the classifier on the data; headless Chromium renders it, not blank, with no console
    message; bad inputs write nothing."""
    _, np = h5py_numpy()
    x, k = labelled_csv()
    cfg = write_config("p.json", hidden=[24, 16], epochs=3)
    p = run("pretrain", "--config", cfg, "--data", "rows.csv", "--out", "m.h5", "--quiet",
            "--no-checkpoint", timeout=120)
    check(p.returncode == EXIT_OK, "pretraining failed", p)  # its check may fail: a warning
    expect_ok(run("finetune", "m.h5", "--data", "rows.csv", "--labels", "labels.csv", "--mode",
                  "classifier", "--epochs", "3", "--no-checkpoint", "--quiet", "--out", "c.h5",
                  timeout=120))
    p = expect_ok(run("report", "c.h5", "--data", "rows.csv", "--labels", "labels.csv", "--out",
                      "r.html"))
    check("wrote r.html" in p.out, "report says what it wrote", p)
    info = json.loads(expect_ok(run("info", "c.h5", "--json")).out)
    page = (ENV.work / "r.html").read_text()
    check("http://" not in page and "https://" not in page, "the page fetches something")
    tables = ReportTables()
    tables.feed(page)

    def table_values(table_id, records, keys):
        rows = [r for r in tables.tables.get(table_id, []) if r]
        check(len(rows) == len(records), f"{table_id}: {len(rows)} rows for {len(records)}")
        for row, rec in zip(rows, records):
            values = [v for v in row if v is not None]
            for key in keys:
                want = rec[key]
                check(json.dumps(want) in values or any(
                    v != "null" and want is not None and float(v) == want for v in values),
                    f"{table_id}: {key} = {want} is not among the row's values {values}")

    check(len(info["log_z"]) == 2 and len(info["checks"]) == 1, "the model has log Z and a check")
    table_values("log-z-table", info["log_z"], ["index", "log_z", "log_z_low", "log_z_high"])
    table_values("checks-table", info["checks"],
                 ["free_energy_gap", "delta_log_z", "bound_change", "bound_change_low",
                  "bound_change_high"])
    check(info["checks"][0]["verdict"] in page, "the check's verdict is on the page")
    for layer in info["layers"]:
        table_values(f"monitors-{layer['index']}", layer["monitors"],
                     ["reconstruction_error", "free_energy_gap"])
    table_values("fine-tuning-history", info["fine_tuned"]["history"],
                 ["train_accuracy", "valid_accuracy"])
    # The accuracy and the confusion matrix: those of dbn predict's predictions.
    expect_ok(run("predict", "c.h5", "--data", "rows.csv", "--out", "pred.npy", "--quiet"))
    prob = np.load(ENV.work / "pred.npy")
    classes = sorted(set(k.tolist()))
    pred = np.array(classes)[np.argmax(prob, axis=1)]
    check(float(tables.texts["accuracy"]) == float(np.mean(pred == k)),
          f"accuracy {tables.texts['accuracy']} vs {np.mean(pred == k)}")
    matrix = [[int(v) for v in r] for r in tables.tables["confusion-matrix"] if r]
    want = [[int(np.sum((k == a) & (pred == b))) for b in classes] for a in classes]
    check(matrix == want, f"confusion matrix {matrix}, expected {want}")
    embedded = re.search(r'<script type="application/json" id="dbn-model">(.*?)</script>', page,
                         re.S)
    check(embedded and json.loads(embedded.group(1).replace("<\\/", "</")) == info,
          "the embedded JSON is not dbn info --json")
    shot, dom, console = chromium_render("r.html", "shot.png")
    px = png_pixels(shot)
    height, width = px.shape[0], px.shape[1]
    check((width, height) == (1200, 1600), f"screenshot {width} x {height}")
    flat = px.reshape(-1, px.shape[2])
    distinct = len({tuple(v) for v in flat[::7].tolist()})
    dark = int(np.sum(flat[:, 0] < 128))
    check(distinct >= 8 and dark > 0.005 * width * height,
          f"the screenshot looks blank: {distinct} colours, {dark} dark pixels")
    check(console == [], "console messages:\n" + "\n".join(console))
    check("Embedded model data: 2 layers, 1 checks." in dom, "the page's script did not run")
    # Bad inputs: one line, nothing written.
    expect_failure(["report", "c.h5", "--out", "r.txt"], EXIT_BAD_INPUT,
                   [r"--out: r\.txt does not end in \.html"], out="r.txt")
    expect_failure(["report", "m.h5", "--data", "rows.csv", "--out", "m.html"], EXIT_BAD_INPUT,
                   [r"m\.h5 is not fine-tuned"], out="m.html")
    expect_failure(["report", "nothing.h5", "--out", "n.html"], EXIT_BAD_INPUT, [r"nothing\.h5"],
                   out="n.html")
    expect_failure(["report", "c.h5", "--labels", "labels.csv", "--out", "n.html"],
                   EXIT_BAD_INPUT, [r"--labels needs --data"], out="n.html")


@case
def report_embeds_the_pictures_of_show_sample_and_plot():
    """`dbn report` embeds, byte for byte, the PNG files that `dbn show` (layer 0 and the top
    layer), `dbn sample` and `dbn plot` write for the same model and seed; rows without an image
    shape leave the filters and samples out with a line saying why; a --shape that does not fit
    is refused and writes nothing."""
    import base64
    m = picture_model("m.h5", hidden=(12, 6), epochs=3)
    expect_ok(run("report", m, "--out", "r.html", "--samples", "9", "--steps", "50", "--seed",
                  "4"))
    page = (ENV.work / "r.html").read_text()
    found = {k: base64.b64decode(v) for k, v in re.findall(
        r'<section id="([a-z-]+)"><h2>[^<]*</h2>\n<figure><img alt="[^"]*" '
        r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)}
    check(sorted(found) == ["curves", "filters", "filters-top", "samples"],
          f"figures {sorted(found)}")
    expect_ok(run("show", m, "--layer", "0", "--count", "12", "--out", "f0.png"))
    expect_ok(run("show", m, "--layer", "1", "--count", "6", "--out", "f1.png"))
    expect_ok(run("sample", m, "--count", "9", "--steps", "50", "--seed", "4", "--out", "s.png"))
    expect_ok(run("plot", m, "--out", "c.png"))
    for fig, name in (("filters", "f0.png"), ("filters-top", "f1.png"), ("samples", "s.png"),
                      ("curves", "c.png")):
        check(found[fig] == (ENV.work / name).read_bytes(),
              f"the report's {fig} figure is not the PNG of {name}")
    shot, _, console = chromium_render("r.html", "shot.png")
    check(console == [], "console messages:\n" + "\n".join(console))
    px = png_pixels(shot)
    check(len({tuple(v) for v in px.reshape(-1, px.shape[2])[::5].tolist()}) >= 8,
          "the screenshot looks blank")
    # --no-pictures: none; rows of 32 values without a shape: curves only, and a line says why.
    expect_ok(run("report", m, "--out", "n.html", "--no-pictures", "--quiet"))
    check("data:image/png" not in (ENV.work / "n.html").read_text(), "--no-pictures drew")
    x, _ = labelled_csv()
    cfg = write_config("p32.json", hidden=[8], epochs=2)
    check(run("pretrain", "--config", cfg, "--data", "rows.csv", "--out", "w.h5", "--quiet",
              "--no-checkpoint", "--no-checks").returncode == EXIT_OK, "pretraining failed")
    p = expect_ok(run("report", "w.h5", "--out", "w.html"))
    check(re.search(r"left out of the report: filters and samples: .*--shape", p.out),
          "the report does not say why it left out the filters", p)
    page = (ENV.work / "w.html").read_text()
    check('id="curves"' in page and 'id="filters"' not in page, "figures of w.h5")
    expect_ok(run("report", "w.h5", "--out", "w2.html", "--shape", "4x8", "--quiet"))
    check('id="filters"' in (ENV.work / "w2.html").read_text(), "--shape 4x8 drew no filters")
    expect_failure(["report", "w.h5", "--out", "w3.html", "--shape", "5x5"], EXIT_BAD_INPUT,
                   [r"5x5|25|32"], out="w3.html")
    expect_failure(["report", "w.h5", "--out", "w3.html", "--shape", "axb"], EXIT_BAD_INPUT,
                   [r"--shape"], out="w3.html")


def png_size(name):
    """Width and height from a PNG's IHDR chunk (the first after the signature)."""
    data = (ENV.work / name).read_bytes()
    check(data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", f"{name}: not a PNG")
    return struct.unpack(">II", data[16:24])


def png_pixels(path):
    """The pixels of an 8-bit gray, RGB or RGBA PNG (no interlace), decoded with zlib alone:
    a numpy array [height, width, channels]."""
    import zlib
    _, np = h5py_numpy()
    data = Path(path).read_bytes()
    check(data[:8] == b"\x89PNG\r\n\x1a\n", f"{path}: not a PNG")
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, color, _, _, interlace = header
    channels = {0: 1, 2: 3, 6: 4}.get(color)
    check(depth == 8 and channels and interlace == 0, f"{path}: unsupported PNG {header}")
    raw = zlib.decompress(idat)
    stride = width * channels
    out = np.zeros((height, stride), dtype=np.int32)
    prev = np.zeros(stride, dtype=np.int32)
    for r in range(height):
        line = raw[r * (stride + 1):(r + 1) * (stride + 1)]
        f, row = line[0], np.frombuffer(line[1:], dtype=np.uint8).astype(np.int32)
        cur = np.zeros(stride, dtype=np.int32)
        for i in range(stride):
            a = cur[i - channels] if i >= channels else 0
            b = prev[i]
            c = prev[i - channels] if i >= channels else 0
            if f == 0:
                pred = 0
            elif f == 1:
                pred = a
            elif f == 2:
                pred = b
            elif f == 3:
                pred = (a + b) // 2
            else:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
            cur[i] = (row[i] + pred) & 255
        out[r] = cur
        prev = cur
    return out.reshape(height, width, channels)


def picture_model(name="m.h5", hidden=(12, 6), epochs=3):
    config = write_config("pic.json", hidden=list(hidden), epochs=epochs)
    p = run("pretrain", "--config", config, "--data", "bars-and-stripes:4", "--out", name,
            "--quiet", "--no-checks", "--no-checkpoint")
    check(p.returncode == EXIT_OK, "pretraining failed", p)
    return name


def not_blank(name):
    px = png_pixels(ENV.work / name)
    check(px.var() > 0, f"{name} is blank")
    return px


@case
def show_draws_filters_as_a_png():
    """`dbn show`: one tile per hidden unit in a square-ish grid with 1-pixel gaps; --layer,
    --count, --shape and the file's sample_shape attribute choose what and how."""
    h5py, np = h5py_numpy()
    picture_model()
    p = expect_ok(run("show", "m.h5", "--out", "f.png"))
    check("12 filters of layer 0 as 4x4 tiles, 19x14 pixels" in p.out, "summary line", p)
    check(png_size("f.png") == (19, 14), f"f.png is {png_size('f.png')}")  # 4 x 3 tiles of 4x4
    px = not_blank("f.png")
    check(px.shape == (14, 19, 3) and (px[..., 0] == px[..., 1]).all(), "not gray")
    check((px[4, :, 0] == 128).all(), "the gap row between tile rows is not mid-gray")
    expect_ok(run("show", "m.h5", "--layer", "1", "--count", "4", "--out", "g.png"))
    check(png_size("g.png") == (9, 9), f"g.png is {png_size('g.png')}")  # 2 x 2 tiles
    not_blank("g.png")
    expect_ok(run("show", "m.h5", "--shape", "2x8", "--out", "h.png"))
    check(png_size("h.png") == (35, 8), f"h.png is {png_size('h.png')}")  # 4 x 3 tiles of 2x8
    with h5py.File(ENV.work / "m.h5", "a") as f:
        f.attrs["sample_shape"] = np.array([2, 8], dtype=np.int64)
    expect_ok(run("show", "m.h5", "--out", "i.png"))
    check(png_size("i.png") == (35, 8), f"sample_shape ignored: i.png is {png_size('i.png')}")
    check((png_pixels(ENV.work / "i.png") == png_pixels(ENV.work / "h.png")).all(),
          "sample_shape [2, 8] and --shape 2x8 differ")
    no_temp_files()


@case
def images_keep_their_sample_shape():
    """Pretraining on an array of images (HDF5 [N, 4, 4], NumPy [N, 2, 8]) saves the sample
    shape with the model (root attribute sample_shape); info prints it, fine-tuning keeps it,
    show draws tiles of that shape without --shape, and the Python reader returns it. A table
    has none."""
    h5py, np = h5py_numpy()
    rng = np.random.default_rng(5)
    x = (rng.random((60, 16)) < 0.4).astype(np.float32)
    with h5py.File(ENV.work / "img.h5", "w") as f:
        f["x"] = x.reshape(60, 4, 4)
        f["labels"] = rng.integers(0, 2, 60)
    np.save(ENV.work / "wide.npy", x.reshape(60, 2, 8))
    np.savetxt(ENV.work / "rows.csv", x, delimiter=",", fmt="%d")
    cfg = write_config("shape.json", [6], epochs=1)
    common = ["--no-checks", "--no-checkpoint", "--quiet"]
    for spec, out, shape in [("img.h5:/x", "a.h5", [4, 4]), ("wide.npy", "b.h5", [2, 8]),
                             ("rows.csv", "c.h5", None)]:
        expect_ok(run("pretrain", "--config", cfg, "--data", spec, "--out", out, *common))
        check(info_json(out)["sample_shape"] == shape,
              f"{spec}: sample_shape {info_json(out)['sample_shape']} (expected {shape})")
        with h5py.File(ENV.work / out, "r") as f:
            got = f.attrs["sample_shape"].tolist() if "sample_shape" in f.attrs else None
        check(got == shape, f"{out}: attribute sample_shape {got} (expected {shape})")
    p = expect_ok(run("info", "a.h5"))
    check("\n  sample shape: 4 x 4\n" in p.out, "info does not print the sample shape", p)
    check("sample shape" not in expect_ok(run("info", "c.h5")).out, "a table has a sample shape")
    expect_ok(run("finetune", "a.h5", "--mode", "classifier", "--data", "img.h5:/x", "--labels",
                  "img.h5:/labels", "--epochs", "1", "--out", "ft.h5", "--quiet"))
    check(info_json("ft.h5")["sample_shape"] == [4, 4], "fine-tuning lost the sample shape")
    expect_ok(run("show", "b.h5", "--out", "b.png"))
    expect_ok(run("show", "c.h5", "--shape", "2x8", "--out", "c.png"))
    # The same rows in another layout train the same model: the pictures are equal.
    check(png_size("b.png") == png_size("c.png") and
          (png_pixels(ENV.work / "b.png") == png_pixels(ENV.work / "c.png")).all(),
          f"b.png ({png_size('b.png')}) is not c.png drawn with --shape 2x8")
    expect_ok(run("show", "c.h5", "--out", "square.png"))
    check(png_size("square.png") != png_size("b.png"), "2x8 tiles drawn as 4x4")
    sys.path.insert(0, str(ENV.src / "python"))
    import dbn_reader
    check(dbn_reader.load(str(ENV.work / "ft.h5")).sample_shape == (4, 4), "dbn_reader: shape")
    check(dbn_reader.load(str(ENV.work / "c.h5")).sample_shape is None, "dbn_reader: table")
    no_temp_files()


@case
def show_matches_the_reference_picture():
    """The filters of the checked-in 16-12 bars-and-stripes RBM, pixel for pixel against
    tests/picture/data/bas4-filters.png (tests/picture/data/README.md: how to regenerate)."""
    data = ENV.src / "tests" / "picture" / "data"
    expect_ok(run("show", data / "bas4.h5", "--out", "f.png"))
    got, want = png_pixels(ENV.work / "f.png"), png_pixels(data / "bas4-filters.png")
    check(got.shape == want.shape, f"shape {got.shape}, reference {want.shape}")
    check((got == want).all(), f"{int((got != want).any(axis=2).sum())} pixels differ")


@case
def show_bad_inputs_fail_in_one_line_without_output():
    h5py, np = h5py_numpy()
    picture_model(hidden=(12,))
    expect_failure(["show", "m.h5", "--out", "f.jpg"], EXIT_BAD_INPUT,
                   [r"--out f\.jpg: unknown extension \(expected \.png\)"], out="f.jpg")
    expect_failure(["show", "m.h5", "--out", "no/such/dir/f.png"], EXIT_BAD_INPUT,
                   [r"no/such/dir"])
    expect_failure(["show", "missing.h5", "--out", "f.png"], EXIT_BAD_INPUT, [r"missing\.h5"],
                   out="f.png")
    expect_failure(["show", "m.h5", "--layer", "1", "--out", "f.png"], EXIT_BAD_INPUT,
                   [r"--layer 1: the model has 1 layer"], out="f.png")
    expect_failure(["show", "m.h5", "--count", "13", "--out", "f.png"], EXIT_BAD_INPUT,
                   [r"--count 13: layer 0 has 12 hidden units"], out="f.png")
    expect_failure(["show", "m.h5", "--shape", "3x3", "--out", "f.png"], EXIT_BAD_INPUT,
                   [r"--shape 3x3: 9 pixels, the model has 16 visible units"], out="f.png")
    expect_failure(["show", "m.h5", "--shape", "4by4", "--out", "f.png"], EXIT_BAD_INPUT,
                   [r"--shape .*expected HxW"], out="f.png")
    expect_failure(["show", "m.h5", "--count", "0", "--out", "f.png"], EXIT_USAGE, [r"--count"],
                   out="f.png")
    # The output is the model itself: refused before anything is written.
    expect_failure(["show", "m.h5", "--out", "m.h5"], EXIT_BAD_INPUT, [r"expected \.png"])
    with h5py.File(ENV.work / "m.h5", "a") as f:
        f.attrs["sample_shape"] = np.array([4, 4], dtype=np.int64)
    expect_failure(["show", "m.h5", "--shape", "2x8", "--out", "f.png"], EXIT_BAD_INPUT,
                   [r"--shape 2x8 disagrees with the model's sample_shape 4x4"], out="f.png")
    with h5py.File(ENV.work / "m.h5", "a") as f:
        f.attrs["sample_shape"] = np.array([3, 4], dtype=np.int64)
    expect_failure(["show", "m.h5", "--out", "f.png"], EXIT_BAD_INPUT,
                   [r'm\.h5: /: attribute "sample_shape" \[3, 4\] is not the shape of 16 visible '
                    r'units'], out="f.png")
    # Three sizes other than 1 (colour channels) are no tile shape: --shape chooses one.
    with h5py.File(ENV.work / "m.h5", "a") as f:
        f.attrs["sample_shape"] = np.array([1, 2, 2, 4], dtype=np.int64)
    expect_failure(["show", "m.h5", "--out", "f.png"], EXIT_BAD_INPUT,
                   [r'"sample_shape" holds 4 values, not a height and a width.*--shape HxW'],
                   out="f.png")
    expect_ok(run("show", "m.h5", "--shape", "4x4", "--out", "s.png"))
    # 12 visible units, no sample_shape: not a square, so --shape is asked for.
    (ENV.work / "rows.csv").write_text("".join(",".join(str((r * 7 + c) % 3 % 2)
                                                        for c in range(12)) + "\n"
                                               for r in range(60)))
    config = write_config("twelve.json", hidden=[5], epochs=1)
    expect_ok(run("pretrain", "--config", config, "--data", "rows.csv", "--out", "t.h5",
                  "--quiet", "--no-checks", "--no-checkpoint"))
    expect_failure(["show", "t.h5", "--out", "f.png"], EXIT_BAD_INPUT,
                   [r"12 visible units are not a square.*--shape HxW"], out="f.png")
    expect_ok(run("show", "t.h5", "--shape", "3x4", "--out", "f.png"))
    check(png_size("f.png") == (14, 7), f"f.png is {png_size('f.png')}")  # 3 x 2 tiles of 3x4


@case
def sample_draws_a_grid_and_chains():
    """`dbn sample --out .png`: the samples as a grid; --chain: one row per chain, its start and
    ten looks over the steps; the same seed gives the same pixels."""
    picture_model()
    p = expect_ok(run("sample", "m.h5", "--count", "9", "--steps", "30", "--out", "s.png"))
    check("9 samples of 4x4 after 30 Gibbs steps, 14x14 pixels" in p.out, "summary line", p)
    check(png_size("s.png") == (14, 14), f"s.png is {png_size('s.png')}")
    not_blank("s.png")
    p = expect_ok(run("sample", "m.h5", "--count", "3", "--steps", "50", "--chain", "--out",
                      "c.png"))
    check(png_size("c.png") == (54, 14), f"c.png is {png_size('c.png')}")  # 11 looks x 3 chains
    not_blank("c.png")
    expect_ok(run("sample", "m.h5", "--count", "2", "--steps", "4", "--chain", "--from",
                  "bars-and-stripes:4", "--out", "d.png"))
    check(png_size("d.png") == (24, 9), f"d.png is {png_size('d.png')}")  # 5 looks x 2 chains
    expect_ok(run("sample", "m.h5", "--count", "9", "--steps", "30", "--out", "t.png"))
    check((png_pixels(ENV.work / "s.png") == png_pixels(ENV.work / "t.png")).all(),
          "the same seed gave another picture")
    expect_failure(["sample", "m.h5", "--chain", "--out", "x.h5"], EXIT_BAD_INPUT,
                   [r"--chain draws a picture"], out="x.h5")
    expect_failure(["sample", "m.h5", "--shape", "2x8", "--out", "x.h5"], EXIT_BAD_INPUT,
                   [r"--shape applies to a picture"], out="x.h5")
    expect_failure(["sample", "m.h5", "--shape", "3x5", "--out", "x.png"], EXIT_BAD_INPUT,
                   [r"--shape 3x5: 15 pixels"], out="x.png")
    no_temp_files()


@case
def plot_draws_the_monitors_of_every_layer_and_fine_tuning():
    """`dbn plot`: one 640x400 chart per monitor, two per row; a fine-tuned classifier adds its
    loss and accuracy; a model without records is refused."""
    h5py, np = h5py_numpy()
    config = write_config("pl.json", hidden=[12, 6], epochs=4)
    expect_ok(run("pretrain", "--config", config, "--data", "bars-and-stripes:4", "--out",
                  "m.h5", "--quiet", "--no-checks", "--no-checkpoint"))
    p = expect_ok(run("plot", "m.h5", "--out", "curves.png"))
    check("wrote curves.png: 3 charts, 6 lines" in p.out, "summary line", p)
    check(png_size("curves.png") == (1280, 800), f"curves.png is {png_size('curves.png')}")
    px = not_blank("curves.png")
    check(not (px[..., 0] == px[..., 2]).all(), "no coloured line")
    expect_ok(run("plot", "m.h5", "--columns", "3", "--out", "wide.png"))
    check(png_size("wide.png") == (1920, 400), f"wide.png is {png_size('wide.png')}")
    rng = np.random.default_rng(2)
    protos = rng.random((4, 16)) < 0.5
    k = rng.integers(0, 4, 400)
    x = protos[k] ^ (rng.random((400, 16)) < 0.1)
    (ENV.work / "rows.csv").write_text("".join(",".join(map(str, r)) + "\n"
                                               for r in x.astype(int)))
    (ENV.work / "labels.csv").write_text("".join(f"{v}\n" for v in k))
    expect_ok(run("pretrain", "--config", config, "--data", "rows.csv", "--out", "p.h5",
                  "--quiet", "--no-checks", "--no-checkpoint"))
    expect_ok(run("finetune", "p.h5", "--data", "rows.csv", "--labels", "labels.csv", "--mode",
                  "classifier", "--epochs", "3", "--out", "tuned.h5", "--quiet",
                  "--no-checkpoint"))
    p = expect_ok(run("plot", "tuned.h5", "--out", "tuned.png"))
    check("5 charts" in p.out, "the fine-tuning charts are missing", p)
    check(png_size("tuned.png") == (1280, 1200), f"tuned.png is {png_size('tuned.png')}")
    with h5py.File(ENV.work / "bare.h5", "w") as f:
        f.attrs["format"] = "dbn-model"
        f.attrs["format_version"] = 1
        f.attrs["library_version"] = "test"
        f.attrs["n_layers"] = 1
        g = f.create_group("layers/0")
        g.attrs["visible_units"] = "bernoulli"
        g.attrs["hidden_units"] = "bernoulli"
        g["weights"] = np.zeros((16, 4), dtype=np.float32)
        g["visible_bias"] = np.zeros(16, dtype=np.float32)
        g["hidden_bias"] = np.zeros(4, dtype=np.float32)
    expect_failure(["plot", "bare.h5", "--out", "x.png"], EXIT_BAD_INPUT,
                   [r"bare\.h5: no per-epoch monitors to plot"], out="x.png")
    expect_failure(["plot", "m.h5", "--out", "x.svg"], EXIT_BAD_INPUT,
                   [r"--out x\.svg: unknown extension \(expected \.png\)"], out="x.svg")
    expect_failure(["plot", "m.h5", "--columns", "0", "--out", "x.png"], EXIT_USAGE,
                   [r"--columns"], out="x.png")
    no_temp_files()

def main():
    global ENV
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--list", action="store_true", help="print the case names and exit")
    ap.add_argument("--dbn", help="the dbn program")
    ap.add_argument("--source-dir", help="the source tree (for models/*.json)")
    ap.add_argument("--work-dir", help="scratch directory for this case (emptied first)")
    ap.add_argument("--fashion-mnist", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("case", nargs="?")
    a = ap.parse_args()
    if a.list:
        print(";".join(CASES))
        return 0
    if not (a.dbn and a.source_dir and a.work_dir and a.case in CASES):
        ap.error(f"need --dbn, --source-dir, --work-dir and a case out of: {', '.join(CASES)}")
    work = Path(a.work_dir).resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    ENV = Env(Path(a.dbn).resolve(), Path(a.source_dir).resolve(), work, a.fashion_mnist)
    try:
        CASES[a.case]()
    except Skip as e:
        print(f"SKIP {a.case}: {e}")
        return SKIP
    except AssertionError as e:
        print(f"FAIL {a.case}: {e}", file=sys.stderr)
        return 1
    print(f"PASS {a.case}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
