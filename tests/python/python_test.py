#!/usr/bin/python3
"""Tests of the Python module dbn (python/, docs/PYTHON.md), one case per CTest test
(tests/python.cmake).

    python_test.py --list
    python_test.py --python-dir BUILD/python --dbn BUILD/bin/dbn --build-dir BUILD \
                   --source-dir SRC --work-dir DIR CASE

The module is imported from --python-dir (the build's assembled package); outputs are compared
with the dbn program's on the same saved files. Exit status: 0 pass, 1 fail, 77 skip.
"""
import argparse
import logging
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

SKIP = 77


class Skip(Exception):
    pass


class Env:
    pass


ENV = Env()
CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def run_dbn(*args, expect=0):
    p = subprocess.run([ENV.dbn] + [str(a) for a in args], cwd=ENV.work, capture_output=True,
                       text=True, timeout=120, stdin=subprocess.DEVNULL)
    check(p.returncode == expect, f"dbn {' '.join(map(str, args))}: exit {p.returncode} "
                                  f"(expected {expect})\n{p.stdout}\n{p.stderr}")
    return p


def digits(n=None):
    from sklearn.datasets import load_digits
    X, y = load_digits(return_X_y=True)
    return (X[:n], y[:n]) if n else (X, y)


def write_data(name, X):
    """X as an HDF5 data SPEC the dbn program reads."""
    import h5py
    import numpy as np
    path = ENV.work / f"{name}.h5"
    with h5py.File(path, "w") as f:
        f["x"] = np.asarray(X, dtype=np.float32)
    return f"{path}:/x"


def read_h5(path, name):
    import h5py
    with h5py.File(ENV.work / path, "r") as f:
        return f[name][()]


def close(a, b, tol, what):
    import numpy as np
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    check(a.shape == b.shape, f"{what}: shapes {a.shape} and {b.shape}")
    err = np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b))) if a.size else 0.0
    print(f"{what}: largest difference {err:.3g} (tolerance {tol:g})")
    check(err <= tol, f"{what}: differ by {err:.3g} (relative), more than {tol:g}")


# ---- scikit-learn's conventions ---------------------------------------------------------------


def run_check_estimator(est):
    import warnings
    from sklearn.utils.estimator_checks import check_estimator
    t0 = time.monotonic()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_estimator(est)
    print(f"check_estimator({type(est).__name__}): {time.monotonic() - t0:.1f} s")


@case
def dbn_passes_check_estimator():
    import dbn
    run_check_estimator(dbn.DBN())


@case
def classifier_passes_check_estimator():
    import dbn
    run_check_estimator(dbn.DBNClassifier())


@case
def grid_search_over_hidden_size_in_a_pipeline():
    """Pipeline(DBN, LogisticRegression), GridSearchCV over the DBN's hidden size on the 8x8
    digits: the search runs, refits the best and beats chance by far."""
    import dbn
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, train_test_split
    from sklearn.pipeline import Pipeline
    X, y = digits()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    pipe = Pipeline([("dbn", dbn.DBN(epochs=10, learning_rate=0.05, random_state=0)),
                     ("logistic", LogisticRegression(max_iter=500))])
    search = GridSearchCV(pipe, {"dbn__hidden_layer_sizes": [(32,), (64,)]}, cv=2)
    search.fit(X_train, y_train)
    best = search.best_params_["dbn__hidden_layer_sizes"]
    check(best in [(32,), (64,)], f"best_params_ {search.best_params_}")
    check(search.best_estimator_.named_steps["dbn"].layer_sizes_ == [64] + list(best),
          "the refitted DBN does not have the chosen size")
    accuracy = search.score(X_test, y_test)
    print(f"GridSearchCV: best {best}, cv score {search.best_score_:.3f}, test {accuracy:.3f}")
    check(accuracy > 0.85, f"test accuracy {accuracy:.3f} (expected > 0.85)")


# ---- the same numbers as the dbn program --------------------------------------------------------


@case
def transform_and_scores_match_the_program():
    """transform() and score_samples() equal `dbn features` and `dbn score` on the saved file to
    1e-6; `dbn info` reads the file; dbn.load() gives the same outputs back."""
    import dbn
    import numpy as np
    X, _ = digits(600)
    model = dbn.DBN(hidden_layer_sizes=(40, 20), epochs=3, random_state=5).fit(X)
    model.save(ENV.work / "m.h5")
    info = run_dbn("info", "m.h5").stdout
    check(re.search(r"64\D+40\D+20", info) and "seed 5" in info.replace(":", ""),
          f"dbn info does not show the layers 64-40-20 and seed 5:\n{info}")
    spec = write_data("x", X)
    for layer in (0, 1):
        run_dbn("features", "m.h5", "--data", spec, "--layer", layer, "--out", f"f{layer}.h5")
        ours = model.transform(X, layer=layer)
        check(ours.dtype == np.float32 and ours.shape == (600, [40, 20][layer]),
              f"transform: {ours.dtype} {ours.shape}")
        close(ours, read_h5(f"f{layer}.h5", "features"), 1e-6, f"layer {layer} features")
    close(model.transform(X), model.transform(X, layer=1), 0, "transform's default layer")
    run_dbn("score", "m.h5", "--data", spec, "--out", "s.h5")
    close(-model.score_samples(X), read_h5("s.h5", "free_energy"), 1e-6, "free energies")
    check(model.log_partition() is None, "log Z of a 64-40 layer is not enumerable")
    again = dbn.load(ENV.work / "m.h5")
    check(type(again) is dbn.DBN and again.get_params() == model.get_params(),
          f"dbn.load: {type(again).__name__} {again.get_params()}")
    close(again.transform(X), model.transform(X), 0, "loaded model's features")
    small = dbn.DBN(hidden_layer_sizes=(10,), epochs=2, random_state=1).fit(X[:100])
    log_z = small.log_partition()
    check(log_z is not None and np.isfinite(log_z), f"log Z of a 64-10 layer: {log_z}")
    small.save(ENV.work / "small.h5")
    run_dbn("score", "small.h5", "--data", write_data("x100", X[:100]), "--out", "s2.h5")
    close(small.score_samples(X[:100]) - log_z, read_h5("s2.h5", "log_prob"), 1e-6,
          "log p from score_samples - log_partition")


@case
def classifier_matches_the_program():
    """predict_proba rows sum to 1 and equal `dbn predict` on the saved file to 1e-6; predict
    equals its predicted classes; the file loads back with its classes, and string labels work."""
    import dbn
    import numpy as np
    X, y = digits(800)
    clf = dbn.DBNClassifier(hidden_layer_sizes=(48,), finetune_epochs=20, random_state=2)
    clf.fit(X[:600], y[:600])
    check(list(clf.classes_) == list(range(10)), f"classes_ {clf.classes_}")
    proba = clf.predict_proba(X[600:])
    check(proba.shape == (200, 10), f"predict_proba shape {proba.shape}")
    close(proba.sum(axis=1), np.ones(200), 1e-5, "row sums of predict_proba")
    accuracy = clf.score(X[600:], y[600:])
    print(f"DBNClassifier on digits: held-out accuracy {accuracy:.3f}")
    check(accuracy > 0.8, f"held-out accuracy {accuracy:.3f} (expected > 0.8)")
    clf.save(ENV.work / "c.h5")
    run_dbn("predict", "c.h5", "--data", write_data("t", X[600:]), "--out", "p.h5")
    close(proba, read_h5("p.h5", "probabilities"), 1e-6, "probabilities")
    check(np.array_equal(clf.predict(X[600:]), read_h5("p.h5", "predicted")),
          "predict differs from dbn predict's classes")
    again = dbn.load(ENV.work / "c.h5")
    check(type(again) is dbn.DBNClassifier and list(again.classes_) == list(range(10)),
          f"dbn.load: {type(again).__name__} {getattr(again, 'classes_', None)}")
    close(again.predict_proba(X[600:]), proba, 0, "loaded classifier's probabilities")
    names = np.array(["zero", "one", "two"])[y[:600] % 3]
    named = dbn.DBNClassifier(finetune_epochs=5, random_state=0).fit(X[:600], names)
    check(set(named.predict(X[600:])) <= {"zero", "one", "two"}, "string labels lost")
    named.save(ENV.work / "named.h5")
    check(list(dbn.load(ENV.work / "named.h5").classes_) == ["one", "two", "zero"],
          "string classes_ not restored by dbn.load")


@case
def errors_carry_the_library_messages():
    """A bad parameter, a bad file and bad data raise ValueError (or OSError) with the message
    the dbn program prints for the same input."""
    import json

    import dbn
    import numpy as np
    X, _ = digits(100)
    bad = dbn.DBN(learning_rate=-1.0, random_state=1)
    try:
        bad.fit(X)
        raise AssertionError("learning_rate=-1 was accepted")
    except ValueError as e:
        message = str(e)
    config = bad._config(1, {})
    (ENV.work / "bad.json").write_text(config)
    p = run_dbn("pretrain", "--config", "bad.json", "--data", write_data("x", X),
                "--out", "bad.h5", expect=2)
    cli = p.stderr.strip().removeprefix("dbn: error: ").replace("bad.json", dbn.estimators.SOURCE)
    check(message == cli, f"Python: {message!r}\ndbn pretrain: {cli!r}")
    check("learning_rate" in message, f"the message does not name the key: {message}")

    (ENV.work / "not-a-model.h5").write_bytes(b"this is not HDF5\n" * 10)
    try:
        dbn.load(ENV.work / "not-a-model.h5")
        raise AssertionError("a file that is not a model was loaded")
    except ValueError as e:
        message = str(e)
    p = run_dbn("info", str(ENV.work / "not-a-model.h5"), expect=2)
    check(message == p.stderr.strip().removeprefix("dbn: error: "),
          f"Python: {message!r}\ndbn info: {p.stderr!r}")
    try:
        dbn.load(ENV.work / "missing.h5")
        raise AssertionError("a missing file was loaded")
    except OSError as e:
        check("missing.h5" in str(e), f"OSError without the path: {e}")

    model = dbn.DBN(hidden_layer_sizes=(8,), epochs=1, random_state=0).fit(X)
    try:
        model.transform(X[:, :10])
        raise AssertionError("10 columns accepted by a 64-column model")
    except ValueError as e:
        check(str(e) == "the data has 10 columns, but the model has 64 visible units",
              f"width message: {e}")
    Xnan = X.copy()
    Xnan[3, 5] = np.nan
    try:
        model.transform(Xnan)
        raise AssertionError("NaN accepted")
    except ValueError as e:
        check(str(e) == "X: NaN value at row 3, column 5", f"NaN message: {e}")
    try:
        dbn.DBNClassifier(optimizer="rmsprop").fit(X, np.arange(100) % 2)
        raise AssertionError("optimizer rmsprop accepted")
    except ValueError as e:
        check("rmsprop" in str(e), f"optimizer message: {e}")
    json.loads(config)  # the configuration Python writes is plain JSON


@case
def training_releases_the_gil_and_logs_progress():
    """While fit() trains in one thread another Python thread runs; every epoch is logged on the
    logger "dbn"; Ctrl-C (SIGINT) stops training with KeyboardInterrupt."""
    import dbn
    import numpy as np
    rng = np.random.default_rng(0)
    X = (rng.random((4000, 200)) < 0.3).astype(np.float32)
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())

    logger = logging.getLogger("dbn")
    logger.addHandler(Keep())
    logger.setLevel(logging.INFO)
    ticks = []
    done = threading.Event()

    def fit():
        dbn.DBN(hidden_layer_sizes=(200,), epochs=3, batch_size=20, random_state=0).fit(X)
        done.set()

    t = threading.Thread(target=fit)
    t0 = time.monotonic()
    t.start()
    while not done.is_set():
        ticks.append(time.monotonic())
        time.sleep(0.005)
    t.join()
    seconds = time.monotonic() - t0
    print(f"fit took {seconds:.2f} s; the other thread ran {len(ticks)} times")
    check(seconds > 0.2, f"training too short to tell ({seconds:.2f} s)")
    # Holding the GIL, the loop would run about once; free, up to seconds / 0.005 times (a tenth
    # of that leaves room for a loaded machine).
    check(len(ticks) >= max(10, 0.1 * seconds / 0.005),
          f"only {len(ticks)} ticks in {seconds:.2f} s: the GIL was held while training")
    for epoch in (1, 2, 3):
        check(any(f"layer 0 epoch {epoch}:" in r for r in records),
              f"epoch {epoch} not logged: {records}")

    # SIGINT while training: KeyboardInterrupt, promptly.
    code = ("import numpy as np, dbn, sys\n"
            "X = (np.random.default_rng(0).random((20000, 300)) < 0.3).astype(np.float32)\n"
            "print('training', flush=True)\n"
            "try:\n"
            "    dbn.DBN(hidden_layer_sizes=(300,), epochs=1000, random_state=0).fit(X)\n"
            "except KeyboardInterrupt:\n"
            "    print('interrupted', flush=True)\n"
            "    sys.exit(7)\n")
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                         env=dict(os.environ, PYTHONPATH=str(ENV.python_dir)))
    check(p.stdout.readline().strip() == "training", "the child did not start")
    time.sleep(1.0)
    t0 = time.monotonic()
    p.send_signal(2)
    try:
        out, _ = p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        raise AssertionError("SIGINT did not stop training within 30 s")
    check(p.returncode == 7 and "interrupted" in out,
          f"after SIGINT: exit {p.returncode}, output {out!r}")
    print(f"SIGINT stopped training in {time.monotonic() - t0:.2f} s")


# ---- PyTorch ------------------------------------------------------------------------------------


@case
def torch_sequential_matches_the_program():
    """dbn_reader.to_torch(model): its outputs equal `dbn predict` (a classifier with a
    layernorm hook) and `dbn features` (Gaussian visible units, standardization, a standardize
    hook, every layer) to 1e-5."""
    try:
        import torch
    except ImportError:
        raise Skip("torch is not installed (Debian: apt-get install python3-torch; "
                   "scripts/setup.sh --test installs it)")
    import dbn
    import dbn_reader
    import numpy as np
    X, y = digits(500)
    spec = write_data("x", X)
    clf = dbn.DBNClassifier(hidden_layer_sizes=(40, 30), hook="layernorm", epochs=2,
                            finetune_epochs=3, random_state=3).fit(X, y)
    clf.save(ENV.work / "c.h5")
    run_dbn("predict", "c.h5", "--data", spec, "--out", "p.h5")
    net = dbn_reader.to_torch(dbn_reader.load(str(ENV.work / "c.h5")))
    check(isinstance(net, torch.nn.Sequential), f"to_torch gave {type(net)}")
    check(any(type(m).__name__ == "DbnLayerNorm" for m in net), f"no layernorm hook in {net}")
    with torch.no_grad():
        out = net(torch.from_numpy(X.astype(np.float32))).numpy()
    close(out, read_h5("p.h5", "probabilities"), 1e-5, "torch classifier vs dbn predict")
    run_dbn("features", "c.h5", "--data", spec, "--out", "cf.h5")
    with torch.no_grad():
        top = dbn.to_torch(ENV.work / "c.h5", classifier=False)(torch.from_numpy(
            X.astype(np.float32))).numpy()
    close(top, read_h5("cf.h5", "features"), 1e-5, "torch classifier's stack vs dbn features")

    gauss = dbn.DBN(hidden_layer_sizes=(30, 20, 10), visible_units="gaussian", standardize=True,
                    hook="standardize", learning_rate=0.01, epochs=2, random_state=4).fit(X)
    gauss.save(ENV.work / "g.h5")
    for layer in (0, 1, 2):
        run_dbn("features", "g.h5", "--data", spec, "--layer", layer, "--out", f"g{layer}.h5")
        net = dbn.to_torch(gauss, layer=layer)
        with torch.no_grad():
            out = net(torch.from_numpy(X.astype(np.float32))).numpy()
        close(out, read_h5(f"g{layer}.h5", "features"), 1e-5, f"torch layer {layer} features")
    # The net trains in PyTorch: a gradient step changes its output.
    net = dbn.to_torch(clf)
    x = torch.from_numpy(X[:50].astype(np.float32))
    loss = torch.nn.functional.nll_loss(torch.log(net(x)), torch.from_numpy(y[:50]))
    loss.backward()
    check(all(p.grad is not None for p in net.parameters()), "a parameter got no gradient")


# ---- documentation and installation -------------------------------------------------------------


@case
def python_docs_blocks_run():
    """The ```python blocks of docs/PYTHON.md's section "The Python module" run, in order, in
    one interpreter, in an empty folder."""
    doc = (ENV.src / "docs" / "PYTHON.md").read_text()
    start = doc.index("## The Python module")
    end = doc.find("\n## ", start + 1)
    section = doc[start:end if end > 0 else len(doc)]
    blocks = re.findall(r"^```python\n(.*?)^```$", section, re.MULTILINE | re.DOTALL)
    check(len(blocks) >= 2, f"the section has {len(blocks)} python blocks")
    code = "\n".join(blocks)
    p = subprocess.run([sys.executable, "-c", code], cwd=ENV.work, capture_output=True, text=True,
                       timeout=300, env=dict(os.environ, PYTHONPATH=str(ENV.python_dir),
                                             PATH=f"{Path(ENV.dbn).parent}:{os.environ['PATH']}"))
    check(p.returncode == 0, f"docs/PYTHON.md's code failed (exit {p.returncode}):\n"
                             f"{p.stdout[-2000:]}\n{p.stderr[-3000:]}")
    print(p.stdout[-1500:])


def cache_value(name):
    text = (ENV.build / "CMakeCache.txt").read_text()
    m = re.search(rf"^{name}:[A-Z]+=(.*)$", text, re.MULTILINE)
    check(m, f"{name} not in the build's CMakeCache.txt")
    return m.group(1)


@case
def install_puts_the_package_where_python_finds_it():
    """cmake --install into a DESTDIR puts dbn/ and dbn_reader.py in the build's
    DBN_PYTHON_INSTALL_DIR below its prefix (lib/python3.X/dist-packages under /usr/local,
    lib/python3/dist-packages under /usr), a folder on Debian's python3 path; the installed
    package trains, saves and loads from there, with nothing of the build tree on its path."""
    prefix = cache_value("CMAKE_INSTALL_PREFIX")
    where = Path(prefix) / cache_value("DBN_PYTHON_INSTALL_DIR")
    dest = ENV.work / "destdir"
    p = subprocess.run(["cmake", "--install", str(ENV.build)], capture_output=True, text=True,
                       timeout=120, env=dict(os.environ, DESTDIR=str(dest)))
    check(p.returncode == 0, f"cmake --install failed:\n{p.stdout}\n{p.stderr}")
    site = dest / where.relative_to("/")
    found = sorted(str(f.relative_to(site)) for f in site.rglob("*") if f.is_file())
    check(any(re.fullmatch(r"dbn/_dbn\..*\.so", f) for f in found) and "dbn/__init__.py" in found
          and "dbn/estimators.py" in found and "dbn_reader.py" in found,
          f"installed files below {site}: {found}")
    code = "import sys; print('\\n'.join(sys.path))"
    path = subprocess.run(["/usr/bin/python3", "-c", code], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin"}).stdout.split()
    check(str(where) in path, f"{where} is not on Debian's python3 path: {path}")
    code = ("import dbn, numpy as np\n"
            "assert dbn.__file__.startswith(%r), dbn.__file__\n"
            "X = (np.random.default_rng(0).random((200, 16)) < 0.5).astype(float)\n"
            "m = dbn.DBN(hidden_layer_sizes=(8,), epochs=2, random_state=0).fit(X)\n"
            "m.save('installed.h5')\n"
            "assert np.array_equal(dbn.load('installed.h5').transform(X), m.transform(X))\n"
            "print('installed module works')\n") % str(site)
    p = subprocess.run(["/usr/bin/python3", "-c", code], cwd=ENV.work, capture_output=True,
                       text=True, timeout=120, env={"PATH": "/usr/bin:/bin",
                                                    "PYTHONPATH": str(site)})
    check(p.returncode == 0 and "installed module works" in p.stdout,
          f"the installed module failed:\n{p.stdout}\n{p.stderr}")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--python-dir")
    ap.add_argument("--dbn")
    ap.add_argument("--build-dir")
    ap.add_argument("--source-dir")
    ap.add_argument("--work-dir")
    ap.add_argument("case", nargs="?")
    a = ap.parse_args()
    if a.list:
        print(";".join(CASES))
        return 0
    if not (a.python_dir and a.dbn and a.build_dir and a.source_dir and a.work_dir
            and a.case in CASES):
        ap.error(f"need every option and a case out of: {', '.join(CASES)}")
    ENV.python_dir = Path(a.python_dir).resolve()
    ENV.dbn = str(Path(a.dbn).resolve())
    ENV.build = Path(a.build_dir).resolve()
    ENV.src = Path(a.source_dir).resolve()
    ENV.work = Path(a.work_dir).resolve()
    shutil.rmtree(ENV.work, ignore_errors=True)
    ENV.work.mkdir(parents=True)
    sys.path.insert(0, str(ENV.python_dir))
    os.chdir(ENV.work)
    t0 = time.monotonic()
    try:
        CASES[a.case]()
    except Skip as e:
        print(f"SKIP {a.case}: {e}")
        return SKIP
    except (AssertionError, Exception) as e:
        traceback.print_exc()
        print(f"FAIL {a.case}: {e}", file=sys.stderr)
        return 1
    print(f"PASS {a.case} ({time.monotonic() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
