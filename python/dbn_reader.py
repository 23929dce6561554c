#!/usr/bin/env python3
"""Read a dbn model file (docs/FORMAT.md, format version 1) with numpy and h5py alone.

    import dbn_reader
    model = dbn_reader.load("model.h5")             # checks the file, keeps every array
    feats = dbn_reader.features(model, raw)         # top layer; raw: [n, n_visible] raw data
    feats0 = dbn_reader.features(model, raw, 0)     # first hidden layer
    params = dbn_reader.to_torch_linear_weights(model)  # torch.nn.Linear orientation
    probs = dbn_reader.classifier_outputs(model, raw)   # a fine-tuned classifier's softmax
    net = dbn_reader.to_torch(model)                # torch.nn.Sequential, raw data in (torch)

`features` is what `dbn features` computes (the preprocessing, then mean-field layer by layer,
in float32), equal to it within float rounding. docs/PYTHON.md shows the mapping onto torch.

Command line (Debian's /usr/bin/python3 has numpy and h5py):

    python3 python/dbn_reader.py MODEL.h5                       # print a summary
    python3 python/dbn_reader.py MODEL.h5 --data DATA [--layer K] [--out OUT.npy|OUT.h5]

(.h5 output: /features; for a fine-tuned classifier also /probabilities and /predictions.)

DATA is a .npy file, an IDX file (*-ubyte or *.idx, optionally .gz) or file.h5:/dataset.
"""
import argparse
import gzip
import math
import sys
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

import h5py
import numpy as np

FORMAT = "dbn-model"
SUPPORTED_VERSIONS = (1,)
VISIBLE_UNITS = ("bernoulli", "gaussian")
HIDDEN_UNITS = ("bernoulli", "relu")


class FormatError(ValueError):
    """The file is not a dbn model this reader understands; the message names the object."""


@dataclass
class Layer:
    """One RBM. weights W is [n_visible, n_hidden] (row i: the weights of visible unit i)."""
    visible_units: str
    hidden_units: str
    weights: np.ndarray
    visible_bias: np.ndarray
    hidden_bias: np.ndarray
    visible_sigma: Optional[np.ndarray] = None  # Gaussian visible units only
    hook: Optional[dict] = None  # /layers/<k>/hook: {"kind": ..., its arrays and numbers}

    @property
    def n_visible(self):
        return self.weights.shape[0]

    @property
    def n_hidden(self):
        return self.weights.shape[1]


@dataclass
class Preprocessing:
    """Applied to raw data before layer 0: x / scale, then binarize or standardize."""
    scale: np.float32 = np.float32(1)
    binarize: bool = False
    threshold: np.float32 = np.float32(0.5)
    standardize: bool = False
    mean: Optional[np.ndarray] = None
    stddev: Optional[np.ndarray] = None


@dataclass
class Classifier:
    """Softmax head of a fine-tuned classifier: p(classes[j] | x) = softmax(h W + b)_j."""
    weights: np.ndarray  # [n_hidden_top, n_classes], the RBM orientation ([in, out])
    bias: np.ndarray     # [n_classes]
    classes: np.ndarray  # int32 [n_classes], the label of each output


@dataclass
class Model:
    path: str
    format_version: int
    library_version: str
    layers: List[Layer]
    preprocessing: Preprocessing = field(default_factory=Preprocessing)
    name: str = ""
    seed: int = 0
    fine_tuned: str = ""                     # "", "classifier" or "autoencoder"
    classifier: Optional[Classifier] = None  # when fine_tuned == "classifier"
    sample_shape: Optional[Tuple[int, ...]] = None  # e.g. (28, 28) for images; None for a table

    @property
    def n_visible(self):
        return self.layers[0].n_visible


def _text(value):
    """String attribute: h5py gives str (variable length) or bytes (fixed length, padded)."""
    return value.decode().rstrip("\0 ") if isinstance(value, bytes) else str(value)


def _attr(path, obj, name):
    if name not in obj.attrs:
        raise FormatError(f"{path}: {obj.name}: missing attribute \"{name}\"")
    return obj.attrs[name]


def _array(path, group, name, shape):
    """A float32 dataset of the given shape, finite."""
    where = f"{path}: {group.name}/{name}"
    if name not in group or not isinstance(group[name], h5py.Dataset):
        raise FormatError(f"{where}: missing")
    ds = group[name]
    if ds.dtype != np.float32:
        raise FormatError(f"{where}: dtype {ds.dtype} (expected float32)")
    if ds.shape != tuple(shape):
        raise FormatError(f"{where}: shape {list(ds.shape)} (expected {list(shape)})")
    a = ds[()]
    if not np.all(np.isfinite(a)):
        raise FormatError(f"{where}: holds a value that is not finite")
    return a


def _flag(path, obj, name):
    v = int(_attr(path, obj, name))
    if v not in (0, 1):
        raise FormatError(f"{path}: {obj.name}: attribute \"{name}\" = {v} (expected 0 or 1)")
    return bool(v)


def _hook(path, group, k, n_layers):
    """The hook applied to layer k's hidden values before they feed layer k+1, or None."""
    if "hook" not in group:
        return None
    h = group["hook"]
    kind = _text(_attr(path, h, "kind"))
    if kind == "none":
        return None
    if k == n_layers - 1:
        raise FormatError(f"{path}: {h.name}: a hook above the top layer has no layer to feed")
    n_h = group["weights"].shape[1]
    if kind == "standardize":
        hook = {"kind": kind, "mean": _array(path, h, "mean", (n_h,)),
                "stddev": _array(path, h, "stddev", (n_h,))}
        if not np.all(hook["stddev"] > 0):
            raise FormatError(f"{path}: {h.name}/stddev: not all positive")
        return hook
    if kind == "layernorm":
        eps = float(_attr(path, h, "epsilon"))
        if not eps > 0:
            raise FormatError(f"{path}: {h.name}: epsilon = {eps} (expected > 0)")
        return {"kind": kind, "gain": _array(path, h, "gain", (n_h,)),
                "shift": _array(path, h, "shift", (n_h,)), "epsilon": eps}
    # FORMAT.md: an unknown kind is refused, or the features would silently differ.
    raise FormatError(f"{path}: {h.name}: unknown hook kind \"{kind}\" (this reader knows "
                      "\"standardize\" and \"layernorm\")")


def apply_hook(hook, h):
    """A hook on rows of hidden values, in the library's arithmetic (layernorm in float64)."""
    if hook is None:
        return h
    if hook["kind"] == "standardize":
        return (h - hook["mean"]) / hook["stddev"]
    x = h.astype(np.float64)
    c = x - x.mean(axis=1, keepdims=True)
    s = np.sqrt((c * c).mean(axis=1, keepdims=True)) + hook["epsilon"]
    return (hook["gain"].astype(np.float64) * (c / s) + hook["shift"]).astype(np.float32)


def load(path):
    """Reads and checks a model file; raises FormatError naming what is wrong."""
    with h5py.File(path, "r") as f:
        fmt = _text(f.attrs.get("format", b""))
        if fmt != FORMAT:
            raise FormatError(f"{path}: not a dbn model (format \"{fmt}\")")
        version = int(_attr(path, f, "format_version"))
        if version not in SUPPORTED_VERSIONS:
            raise FormatError(f"{path}: format_version {version} is not supported "
                              f"(this reader knows {', '.join(map(str, SUPPORTED_VERSIONS))})")
        n_layers = int(_attr(path, f, "n_layers"))
        if n_layers < 1:
            raise FormatError(f"{path}: n_layers = {n_layers} (expected at least 1)")
        if f"layers/{n_layers}" in f:
            raise FormatError(f"{path}: /layers/{n_layers} exists but n_layers = {n_layers}")
        layers = []
        for k in range(n_layers):
            if f"layers/{k}" not in f:
                raise FormatError(f"{path}: /layers/{k}: missing")
            g = f[f"layers/{k}"]
            vis = _text(_attr(path, g, "visible_units"))
            hid = _text(_attr(path, g, "hidden_units"))
            if vis not in VISIBLE_UNITS or hid not in HIDDEN_UNITS:
                raise FormatError(f"{path}: {g.name}: unsupported units {vis} -> {hid}")
            if "weights" not in g or len(g["weights"].shape) != 2:
                raise FormatError(f"{path}: {g.name}/weights: missing or not a matrix")
            n_v, n_h = g["weights"].shape
            if layers and n_v != layers[-1].n_hidden:
                raise FormatError(f"{path}: {g.name}: {n_v} visible units, but layer {k - 1} "
                                  f"has {layers[-1].n_hidden} hidden units")
            layer = Layer(vis, hid, _array(path, g, "weights", (n_v, n_h)),
                          _array(path, g, "visible_bias", (n_v,)),
                          _array(path, g, "hidden_bias", (n_h,)),
                          hook=_hook(path, g, k, n_layers))
            if vis == "gaussian":
                layer.visible_sigma = _array(path, g, "visible_sigma", (n_v,))
                if not np.all(layer.visible_sigma > 0):
                    raise FormatError(f"{path}: {g.name}/visible_sigma: not all positive")
            layers.append(layer)

        pre = Preprocessing()
        if "preprocessing" in f:
            p = f["preprocessing"]
            pre.scale = np.float32(_attr(path, p, "scale"))
            pre.binarize = _flag(path, p, "binarize")
            pre.threshold = np.float32(_attr(path, p, "threshold"))
            pre.standardize = _flag(path, p, "standardize")
            if pre.standardize:
                n = layers[0].n_visible
                pre.mean = _array(path, p, "mean", (n,))
                pre.stddev = _array(path, p, "stddev", (n,))
        t = f["training"] if "training" in f else None
        model = Model(path=path, format_version=version,
                      library_version=_text(_attr(path, f, "library_version")),
                      layers=layers, preprocessing=pre,
                      name=_text(t.attrs.get("name", "")) if t is not None else "",
                      seed=int(t.attrs.get("seed", 0)) if t is not None else 0)
        if "sample_shape" in f.attrs:
            shape = np.atleast_1d(f.attrs["sample_shape"])
            n = layers[0].n_visible
            if (shape.dtype.kind not in "iu" or not 2 <= shape.size <= 8 or np.any(shape <= 0)
                    or math.prod(int(d) for d in shape) != n):
                raise FormatError(f"{path}: attribute \"sample_shape\" {shape.tolist()} is not "
                                  f"the shape of {n} visible units")
            model.sample_shape = tuple(int(d) for d in shape)
        if "fine_tuned" in f.attrs:
            model.fine_tuned = _text(f.attrs["fine_tuned"])
            if model.fine_tuned not in ("classifier", "autoencoder"):
                raise FormatError(f"{path}: fine_tuned = \"{model.fine_tuned}\" (expected "
                                  "\"classifier\" or \"autoencoder\")")
        if model.fine_tuned == "classifier":
            model.classifier = _classifier(path, f, layers[-1].n_hidden)
        # An autoencoder's decoder (/decoder) is not read: its layers give the features as usual.
        return model


def _classifier(path, f, n_top):
    if "classifier" not in f:
        raise FormatError(f"{path}: /classifier: missing")
    g = f["classifier"]
    if "classes" not in g or g["classes"].dtype.kind not in "iu" or g["classes"].ndim != 1:
        raise FormatError(f"{path}: /classifier/classes: missing or not integers of one dimension")
    classes = g["classes"][()].astype(np.int64)
    n = classes.size
    if n < 2 or np.any(np.diff(classes) <= 0):
        raise FormatError(f"{path}: /classifier/classes: need at least 2, strictly increasing")
    return Classifier(_array(path, g, "weights", (n_top, n)), _array(path, g, "bias", (n,)),
                      classes.astype(np.int32))


def preprocess(model, raw):
    """Raw data [n, n_visible] -> the input of layer 0, in float32 as the library computes it."""
    p = model.preprocessing
    x = np.asarray(raw, dtype=np.float32)
    if x.ndim != 2 or x.shape[1] != model.n_visible:
        raise ValueError(f"data of shape {x.shape}: the model expects [n, {model.n_visible}]")
    if p.scale != 1:
        x = x / p.scale  # division, as the library: x / 255 rounds as written
    if p.binarize:
        return (x > p.threshold).astype(np.float32)
    if p.standardize:
        return (x - p.mean) / p.stddev
    return x


def _sigmoid(a):
    e = np.exp(-np.abs(a))  # never overflows
    return np.where(a >= 0, np.float32(1) / (np.float32(1) + e), e / (np.float32(1) + e))


def hidden_values(layer, x):
    """Mean-field hidden values of one layer: sigmoid (bernoulli) or max(0, .) (relu) of x W + b,
    x being divided by sigma for Gaussian visible units."""
    if layer.visible_units == "gaussian":
        x = x / layer.visible_sigma
    act = x @ layer.weights + layer.hidden_bias
    if layer.hidden_units == "relu":
        return np.maximum(act, np.float32(0))
    return _sigmoid(act).astype(np.float32)


def features(model, x, layer=None, chunk_rows=4096):
    """Hidden values of `layer` (0 = first hidden layer; None = top) for raw data x [n, n_visible],
    as `dbn features` writes them. Works through x chunk_rows rows at a time."""
    top = len(model.layers) - 1
    k = top if layer is None else int(layer)
    if not 0 <= k <= top:
        raise ValueError(f"layer {k} does not exist (valid layers are 0..{top})")
    x = np.asarray(x)
    out = np.empty((x.shape[0], model.layers[k].n_hidden), dtype=np.float32)
    for first in range(0, x.shape[0], chunk_rows):
        h = preprocess(model, x[first:first + chunk_rows])
        for j, lay in enumerate(model.layers[:k + 1]):
            h = hidden_values(lay, h)
            if j < k:  # the hook after layer j feeds layer j+1; layer k's values are the output
                h = apply_hook(lay.hook, h)
        out[first:first + chunk_rows] = h
    return out


def to_torch_linear_weights(model, layer=None):
    """Parameters of layers 0..layer (None = all) in torch.nn.Linear orientation.

    Returns one dict per layer: "weight" [out, in] = W.T (for Gaussian visible units the
    division by sigma is folded in: (W / sigma[:, None]).T), "bias" [out] = hidden_bias,
    "activation": "sigmoid" or "relu", and "hook": None or the hook applied before the next
    layer (see apply_hook). Copy them into nn.Linear(in, out).weight / .bias, follow each with
    nn.Sigmoid() or nn.ReLU() (and the hook, except after the last), and feed the net
    preprocess(model, raw).
    """
    top = len(model.layers) - 1
    k = top if layer is None else int(layer)
    params = []
    for lay in model.layers[:k + 1]:
        w = lay.weights
        if lay.visible_units == "gaussian":
            w = w / lay.visible_sigma[:, None]
        params.append({"weight": np.ascontiguousarray(w.T, dtype=np.float32),
                       "bias": lay.hidden_bias.astype(np.float32),
                       "activation": "relu" if lay.hidden_units == "relu" else "sigmoid",
                       "hook": lay.hook})
    return params


def to_torch(model, layer=None, classifier=True):
    """A torch.nn.Sequential that computes features(model, raw, layer) from the raw data (the
    preprocessing is its first module), followed, for a fine-tuned classifier when `layer` is the
    top and `classifier` is true, by the softmax head (then it computes classifier_outputs).
    Every module is an ordinary torch module (Linear, Sigmoid, ReLU, Softmax) or one of three
    small ones (DbnPreprocess, DbnStandardize, DbnLayerNorm) with the library's formulas; the
    Linear weights and biases and layernorm's gain and shift are trainable parameters, the
    preprocessing's and standardize's statistics buffers. Needs torch (Debian: python3-torch)."""
    import torch
    from torch import nn

    class DbnPreprocess(nn.Module):
        """x / scale, then binarize (x > threshold) or standardize ((x - mean) / stddev)."""

        def __init__(self, p, n):
            super().__init__()
            self.binarize, self.standardize = bool(p.binarize), bool(p.standardize)
            self.register_buffer("scale", torch.tensor(float(p.scale), dtype=torch.float32))
            self.register_buffer("threshold", torch.tensor(float(p.threshold),
                                                           dtype=torch.float32))
            mean = p.mean if p.standardize else np.zeros(n, np.float32)
            std = p.stddev if p.standardize else np.ones(n, np.float32)
            self.register_buffer("mean", torch.from_numpy(np.array(mean, np.float32)))
            self.register_buffer("stddev", torch.from_numpy(np.array(std, np.float32)))

        def forward(self, x):
            x = x / self.scale
            if self.binarize:
                return (x > self.threshold).to(x.dtype)
            if self.standardize:
                return (x - self.mean) / self.stddev
            return x

    class DbnStandardize(nn.Module):
        """The standardize hook: (h - mean) / stddev, with the statistics of pretraining."""

        def __init__(self, hook):
            super().__init__()
            self.register_buffer("mean", torch.from_numpy(np.array(hook["mean"], np.float32)))
            self.register_buffer("stddev", torch.from_numpy(np.array(hook["stddev"],
                                                                      np.float32)))

        def forward(self, h):
            return (h - self.mean) / self.stddev

    class DbnLayerNorm(nn.Module):
        """The layernorm hook: gain * (h - m) / (s + epsilon) + shift, m and s the row's mean and
        population standard deviation (nn.LayerNorm divides by sqrt(var + eps) instead)."""

        def __init__(self, hook):
            super().__init__()
            self.epsilon = float(hook["epsilon"])
            self.gain = nn.Parameter(torch.from_numpy(np.array(hook["gain"], np.float32)))
            self.shift = nn.Parameter(torch.from_numpy(np.array(hook["shift"], np.float32)))

        def forward(self, h):
            c = h - h.mean(dim=1, keepdim=True)
            s = torch.sqrt((c * c).mean(dim=1, keepdim=True)) + self.epsilon
            return self.gain * (c / s) + self.shift

    def linear(weight, bias):
        lin = nn.Linear(weight.shape[1], weight.shape[0])
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(weight, np.float32)))
            lin.bias.copy_(torch.from_numpy(np.ascontiguousarray(bias, np.float32)))
        return lin

    top = len(model.layers) - 1
    k = top if layer is None else int(layer)
    if not 0 <= k <= top:
        raise ValueError(f"layer {k} does not exist (valid layers are 0..{top})")
    mods = [DbnPreprocess(model.preprocessing, model.n_visible)]
    for j, p in enumerate(to_torch_linear_weights(model, k)):
        mods += [linear(p["weight"], p["bias"]),
                 nn.ReLU() if p["activation"] == "relu" else nn.Sigmoid()]
        if j < k and p["hook"] is not None:
            mods.append(DbnStandardize(p["hook"]) if p["hook"]["kind"] == "standardize"
                        else DbnLayerNorm(p["hook"]))
    if classifier and k == top and model.classifier is not None:
        mods += [linear(model.classifier.weights.T, model.classifier.bias), nn.Softmax(dim=1)]
    return nn.Sequential(*mods)


def classifier_outputs(model, x):
    """Class probabilities [n, n_classes] of a fine-tuned classifier (columns in the order of
    model.classifier.classes): softmax(h W + b), h the top layer's features."""
    if model.classifier is None:
        raise ValueError(f"{model.path}: not a fine-tuned classifier")
    h = features(model, x)
    z = h.astype(np.float64) @ model.classifier.weights + model.classifier.bias
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def predict(model, x):
    """The most probable class label of each row."""
    return model.classifier.classes[np.argmax(classifier_outputs(model, x), axis=1)]


def read_data(spec):
    """Rows of a .npy file, an IDX file (optionally .gz) or file.h5:/dataset, as a 2-D array."""
    lower = spec.lower()
    for ext in (".h5:", ".hdf5:"):
        if ext in lower:
            cut = lower.index(ext) + len(ext) - 1
            with h5py.File(spec[:cut], "r") as f:
                x = f[spec[cut + 1:]][()]
            return x.reshape(x.shape[0], -1)
    if lower.endswith(".npy"):
        x = np.load(spec)
        return x.reshape(x.shape[0], -1)
    opener = gzip.open if lower.endswith(".gz") else open
    with opener(spec, "rb") as f:
        data = f.read()
    dtypes = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    if data[0] != 0 or data[1] != 0 or data[2] not in dtypes:
        raise ValueError(f"{spec}: not a .npy, IDX or file.h5:/dataset input")
    dims = np.frombuffer(data, ">u4", count=data[3], offset=4).astype(int)
    x = np.frombuffer(data, dtypes[data[2]], count=int(np.prod(dims)), offset=4 + 4 * data[3])
    return x.reshape(dims[0], -1)


def summary(model):
    """A few lines describing the model."""
    sizes = [model.n_visible] + [lay.n_hidden for lay in model.layers]
    lines = [f"{model.path}: dbn-model version {model.format_version}, written by "
             f"{model.library_version}; {len(model.layers)} layers "
             f"({'-'.join(map(str, sizes))})" + (f", \"{model.name}\"" if model.name else "")]
    p = model.preprocessing
    steps = ([f"x / {p.scale:g}"] if p.scale != 1 else []) + \
        ([f"binarize at {p.threshold:g}"] if p.binarize else []) + \
        (["standardize"] if p.standardize else [])
    lines.append("  preprocessing: " + (", ".join(steps) or "none"))
    for k, lay in enumerate(model.layers):
        lines.append(f"  layer {k}: {lay.n_visible} {lay.visible_units} -> {lay.n_hidden} "
                     f"{lay.hidden_units}, weights {list(lay.weights.shape)}"
                     + (f", then hook {lay.hook['kind']}" if lay.hook else ""))
    if model.classifier is not None:
        c = model.classifier
        lines.append(f"  classifier: {c.weights.shape[0]} -> {c.classes.size} classes "
                     f"({', '.join(map(str, c.classes))})")
    elif model.fine_tuned:
        lines.append(f"  fine-tuned: {model.fine_tuned} (decoder not read)")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("--data", help=".npy, IDX (optionally .gz) or file.h5:/dataset")
    ap.add_argument("--layer", type=int, help="0 = first hidden layer (default: the top)")
    ap.add_argument("--out", help="write the features: OUT.npy, or OUT.h5 (dataset /features)")
    args = ap.parse_args(argv)
    try:
        model = load(args.model)
    except (FormatError, OSError) as e:
        print(f"dbn_reader: error: {e}", file=sys.stderr)
        return 2
    print(summary(model))
    if args.data is None:
        return 0
    x = read_data(args.data)
    feats = features(model, x, args.layer)
    print(f"features: {feats.shape[0]} rows x {feats.shape[1]}, mean {feats.mean():.6g}")
    probs = classifier_outputs(model, x) if model.classifier is not None else None
    if probs is not None:
        print(f"classifier: {probs.shape[0]} rows x {probs.shape[1]} class probabilities")
    if args.out:
        if args.out.lower().endswith((".h5", ".hdf5")):
            with h5py.File(args.out, "w") as f:
                f["features"] = feats
                if probs is not None:
                    f["probabilities"] = probs
                    f["predictions"] = model.classifier.classes[np.argmax(probs, axis=1)]
        else:
            np.save(args.out, feats)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
