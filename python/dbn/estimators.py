"""scikit-learn estimators over the dbn library (docs/PYTHON.md, "The Python module").

DBN pretrains a stack of RBMs greedily (as `dbn pretrain`); DBNClassifier pretrains and then
fine-tunes the stack with a softmax head by backpropagation (as `dbn finetune --mode
classifier`). The constructor parameters become a configuration of docs/CONFIG.md (JSON, checked
by the library, whose messages name the keys) and fine-tuning settings.
"""
import json
import logging
import numbers
import os
import tempfile

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, check_is_fitted, column_or_1d

from . import _dbn

logger = logging.getLogger("dbn")

#: What the library's messages call the configuration the parameters make.
SOURCE = "parameters"

# Keys of the comment in the configuration JSON (ignored by the library, saved with the model)
# that let dbn.load() give back the estimator with its parameters.
_COMMENT_KEY = "python"


def _progress(line):
    logger.info("%s", line)


def _check_X(X, estimator):
    """X as a 2-D C-contiguous float array (float32 kept, else float64). Its width and finiteness
    are the library's to check, with its messages ("X: NaN value at row 3, column 5")."""
    return check_array(X, dtype=[np.float32, np.float64], order="C", force_all_finite=False,
                       estimator=estimator)


def _seed(random_state):
    """The library's seed: random_state itself when it is an integer (as `dbn pretrain --seed`),
    else drawn from it."""
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        return int(random_state)
    return int(check_random_state(random_state).randint(0, 2**31 - 1))


def _sizes(hidden_layer_sizes):
    if isinstance(hidden_layer_sizes, numbers.Integral):
        return [int(hidden_layer_sizes)]
    return [int(h) if isinstance(h, numbers.Integral) else h for h in hidden_layer_sizes]


def _json_value(v):
    if isinstance(v, np.generic):
        return v.item()
    raise TypeError(f"{type(v).__name__} is not JSON")


class _Base(BaseEstimator):
    """What DBN and DBNClassifier share: the pretraining parameters and the model file."""

    def _config(self, seed, comment):
        """The configuration JSON (docs/CONFIG.md) the parameters stand for."""
        defaults = {
            "hidden_units": self.hidden_units,
            "algorithm": self.algorithm,
            "k": self.k,
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "learning_rate": self.learning_rate,
            "weight_decay": self.weight_decay,
            "momentum_switch_epoch": self.momentum_switch_epoch,
        }
        layers = [{"hidden": h} for h in _sizes(self.hidden_layer_sizes)]
        if self.hook not in (None, "none"):
            for layer in layers[:-1]:
                layer["hook"] = self.hook
        config = {
            "name": "",
            "comment": comment,
            "seed": seed,
            "heldout_fraction": self.heldout_fraction,
            "input": {"units": self.visible_units, "scale": self.scale,
                      "binarize": self.binarize, "standardize": self.standardize},
            "defaults": defaults,
            "layers": layers,
            "checks": {"enabled": bool(self.checks)},
        }
        return json.dumps(config, default=_json_value)

    def _pretrain(self, X, classes=None):
        seed = _seed(self.random_state)
        comment = {_COMMENT_KEY: {"estimator": type(self).__name__,
                                  "params": self.get_params(deep=False)}}
        if classes is not None:
            comment[_COMMENT_KEY]["classes"] = classes
        try:
            config = self._config(seed, comment)
        except TypeError:  # a parameter JSON cannot hold: keep the comment to what it can
            del comment[_COMMENT_KEY]["params"]
            comment[_COMMENT_KEY].pop("classes", None)
            config = self._config(seed, comment)
        self.seed_ = seed
        return _dbn.pretrain(config, SOURCE, X, threads=self.threads or 0, progress=_progress)

    def save(self, path):
        """Writes the model file (docs/FORMAT.md) that `dbn info`, `dbn features`, `dbn predict`
        and dbn.load() read."""
        check_is_fitted(self, "model_")
        self.model_.save(os.fspath(path))

    # Pickling (and copy.deepcopy) go through the model file's bytes.
    def __getstate__(self):
        state = self.__dict__.copy()
        if "model_" in state:
            with tempfile.TemporaryDirectory() as d:
                path = os.path.join(d, "model.h5")
                state["model_"].save(path)
                with open(path, "rb") as f:
                    state["model_"] = f.read()
        return state

    def __setstate__(self, state):
        if isinstance(state.get("model_"), bytes):
            with tempfile.TemporaryDirectory() as d:
                path = os.path.join(d, "model.h5")
                with open(path, "wb") as f:
                    f.write(state["model_"])
                state["model_"] = _dbn.load(path)
        self.__dict__.update(state)

    def _set_fitted(self, model):
        self.model_ = model
        self.n_features_in_ = model.n_visible
        self.layer_sizes_ = list(model.layer_sizes)


class DBN(TransformerMixin, _Base):
    """A deep belief network pretrained greedily, layer by layer (as `dbn pretrain`).

    Parameters are those of a configuration file (docs/CONFIG.md), for every layer:
    hidden_layer_sizes: hidden units of each RBM, bottom first.
    visible_units: "bernoulli" (data in [0, 1] after scaling) or "gaussian" (then standardize).
    scale: divide the data by this; "auto": its maximum when it exceeds 1.
    binarize: None, or a threshold applied after scaling; standardize: per-feature z-scores.
    hidden_units: "bernoulli" or "relu"; algorithm: "cd", "pcd" or "exact"; k: Gibbs steps.
    epochs, batch_size, learning_rate, weight_decay, momentum_switch_epoch: training settings.
    hook: None, "standardize" or "layernorm" between the layers.
    heldout_fraction: rows held out for the monitors (0: train on every row).
    checks: run the free-energy consistency checks after each layer (slower).
    random_state: None, an int (the library's seed) or a RandomState.
    threads: OpenBLAS threads (None: OpenBLAS's choice).

    Fitted attributes: model_ (the library's model), n_features_in_, layer_sizes_ (visible and
    hidden sizes), seed_. transform gives the top layer's mean-field features in float32;
    score_samples the negative free energy -F(v) of each row under layer 0 (log p(v) + log Z,
    an unnormalized log-likelihood: see log_partition()).
    """

    def __init__(self, hidden_layer_sizes=(16,), *, visible_units="bernoulli", scale="auto",
                 binarize=None, standardize=False, hidden_units="bernoulli", algorithm="cd", k=1,
                 epochs=10, batch_size=10, learning_rate=0.1, weight_decay=0.0002,
                 momentum_switch_epoch=5, hook=None, heldout_fraction=0.0, checks=False,
                 random_state=None, threads=None):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.visible_units = visible_units
        self.scale = scale
        self.binarize = binarize
        self.standardize = standardize
        self.hidden_units = hidden_units
        self.algorithm = algorithm
        self.k = k
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.momentum_switch_epoch = momentum_switch_epoch
        self.hook = hook
        self.heldout_fraction = heldout_fraction
        self.checks = checks
        self.random_state = random_state
        self.threads = threads

    def fit(self, X, y=None):
        """Pretrains the stack on the rows of X (y is ignored)."""
        X = _check_X(X, self)
        self._check_feature_names(X, reset=True)
        self._set_fitted(self._pretrain(X))
        return self

    def transform(self, X, layer=None):
        """Mean-field features of `layer` (0 = the first hidden layer; None: the top), float32,
        as `dbn features` writes them."""
        check_is_fitted(self, "model_")
        X = _check_X(X, self)
        self._check_feature_names(X, reset=False)
        return self.model_.transform(X, -1 if layer is None else int(layer))

    def score_samples(self, X):
        """-F(v) of each row under layer 0, after the preprocessing (float64): log p(v) up to
        log Z, as `dbn score` writes F(v)."""
        check_is_fitted(self, "model_")
        X = _check_X(X, self)
        self._check_feature_names(X, reset=False)
        return -self.model_.free_energy(X)

    def log_partition(self):
        """log Z of layer 0 when it can be enumerated (the smaller side has at most 20 units),
        else None: score_samples(X) - log_partition() is then each row's log p(v)."""
        check_is_fitted(self, "model_")
        known, value = self.model_.log_z()[:2]
        return value if known else None

    def _more_tags(self):
        return {"preserves_dtype": [np.float32]}  # the library computes in float32


class DBNClassifier(ClassifierMixin, _Base):
    """A DBN pretrained greedily and fine-tuned with a softmax head by backpropagation (as
    `dbn pretrain`, then `dbn finetune --mode classifier`).

    Pretraining parameters as DBN's; fine-tuning: finetune_epochs, finetune_batch_size,
    finetune_learning_rate (0: the optimizer's default, 0.001 for Adam), optimizer ("adam" or
    "sgd"), finetune_weight_decay, dropout, validation_fraction (rows held out for early stopping
    on validation accuracy; 0, the default: none, the last epoch's weights are kept) and patience
    (epochs without improvement before it stops).

    Fitted attributes: model_, classes_, n_features_in_, layer_sizes_, seed_. Integer labels go
    into the model file as they are (`dbn predict` then prints them); other labels are saved as
    their index in classes_ (the file's comment keeps classes_ for dbn.load()).
    """

    def __init__(self, hidden_layer_sizes=(16,), *, visible_units="bernoulli", scale="auto",
                 binarize=None, standardize=False, hidden_units="bernoulli", algorithm="cd", k=1,
                 epochs=5, batch_size=10, learning_rate=0.1, weight_decay=0.0002,
                 momentum_switch_epoch=5, hook=None, heldout_fraction=0.0, checks=False,
                 finetune_epochs=50, finetune_batch_size=10, finetune_learning_rate=0.01,
                 optimizer="adam", finetune_weight_decay=1e-5, dropout=0.0, patience=5,
                 validation_fraction=0.0, random_state=None, threads=None):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.visible_units = visible_units
        self.scale = scale
        self.binarize = binarize
        self.standardize = standardize
        self.hidden_units = hidden_units
        self.algorithm = algorithm
        self.k = k
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.momentum_switch_epoch = momentum_switch_epoch
        self.hook = hook
        self.heldout_fraction = heldout_fraction
        self.checks = checks
        self.finetune_epochs = finetune_epochs
        self.finetune_batch_size = finetune_batch_size
        self.finetune_learning_rate = finetune_learning_rate
        self.optimizer = optimizer
        self.finetune_weight_decay = finetune_weight_decay
        self.dropout = dropout
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.threads = threads

    def fit(self, X, y):
        """Pretrains on X, then fine-tunes on (X, y)."""
        X = _check_X(X, self)
        self._check_feature_names(X, reset=True)
        if y is None:
            raise ValueError("DBNClassifier requires y to be passed, but the target y is None")
        y = column_or_1d(y, warn=True)
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]} labels")
        check_classification_targets(y)
        classes, index = np.unique(y, return_inverse=True)
        integral = (classes.dtype.kind in "iu" or
                    (classes.dtype.kind == "f" and np.all(classes == np.round(classes))))
        if integral and classes.size and classes.min() >= -2**31 and classes.max() < 2**31:
            labels, saved_classes = classes.astype(np.int64)[index], None
        else:
            labels, saved_classes = index, classes.tolist()
        pretrained = self._pretrain(X, classes=saved_classes)
        tuned = pretrained.fine_tune_classifier(
            X, labels.astype(np.int32), threads=self.threads or 0, progress=_progress,
            epochs=self.finetune_epochs, batch_size=self.finetune_batch_size,
            learning_rate=self.finetune_learning_rate, optimizer=self.optimizer,
            weight_decay=self.finetune_weight_decay, dropout=self.dropout,
            patience=self.patience, validation_fraction=self.validation_fraction,
            seed=self.seed_)
        self._set_fitted(tuned)
        self.classes_ = classes
        self._labels_are_classes = saved_classes is None
        return self

    def predict_proba(self, X):
        """Class probabilities [n, n_classes], columns in the order of classes_ (as `dbn
        predict` writes them); rows sum to 1."""
        check_is_fitted(self, "model_")
        X = _check_X(X, self)
        self._check_feature_names(X, reset=False)
        p = self.model_.predict_proba(X)
        if p.shape[1] != len(self.classes_):
            # Fine-tuning's held-out rows took every row of a class: the head lacks it.
            model_classes = self.model_.classes
            cols = (np.searchsorted(self.classes_, model_classes) if self._labels_are_classes
                    else model_classes)
            full = np.zeros((p.shape[0], len(self.classes_)), dtype=p.dtype)
            full[:, cols] = p
            p = full
        return p

    def predict(self, X):
        """The class of the first largest probability of each row."""
        check_is_fitted(self, "model_")
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def load(path):
    """The estimator of a model file written by save(), `dbn pretrain` or `dbn finetune`: a
    DBNClassifier for a fine-tuned classifier, else a DBN, fitted. Its parameters are the ones
    it was trained with when Python wrote the configuration, else the defaults with the file's
    layer sizes."""
    model = _dbn.load(os.fspath(path))
    saved = {}
    try:
        saved = json.loads(model.config_json).get("comment", {}).get(_COMMENT_KEY, {})
    except (ValueError, AttributeError):
        pass
    cls = DBNClassifier if model.fine_tuned == "classifier" else DBN
    est = cls()
    params = saved.get("params") if saved.get("estimator") == cls.__name__ else None
    if params:
        if isinstance(params.get("hidden_layer_sizes"), list):
            params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
        est.set_params(**{k: v for k, v in params.items() if k in est.get_params(deep=False)})
    else:
        est.set_params(hidden_layer_sizes=tuple(model.layer_sizes[1:]))
    est._set_fitted(model)
    est.seed_ = model.seed
    if cls is DBNClassifier:
        classes = saved.get("classes")
        est._labels_are_classes = classes is None
        est.classes_ = np.asarray(classes) if classes is not None else model.classes.astype(np.int64)
    return est
