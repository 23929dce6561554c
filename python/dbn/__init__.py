"""Deep belief networks from Python: the dbn library through its C++ API (docs/PYTHON.md).

    import dbn
    model = dbn.DBN(hidden_layer_sizes=(64, 32), random_state=0).fit(X)   # pretraining
    features = model.transform(X)                 # top-layer mean-field features, float32
    clf = dbn.DBNClassifier(hidden_layer_sizes=(64,), random_state=0).fit(X, y)
    clf.predict(X), clf.predict_proba(X)
    clf.save("model.h5")                          # the model file of `dbn pretrain`/`dbn finetune`
    same = dbn.load("model.h5")                   # a DBN, or a DBNClassifier when fine-tuned so
    net = dbn.to_torch("model.h5")                # torch.nn.Sequential (dbn_reader.to_torch)

Estimators follow scikit-learn's conventions. Training releases the GIL and reports progress
through the logger "dbn" (logging.INFO); Ctrl-C stops it between minibatches (KeyboardInterrupt).
The library's errors are raised with its messages: ShapeError, ConfigError and FormatError are
ValueErrors, IoError an OSError, NumericalError an ArithmeticError.
"""
from . import _dbn
from ._dbn import (ConfigError, Error, FormatError, IoError, NumericalError, ShapeError,
                   library_version)
from .estimators import DBN, DBNClassifier, load

__version__ = library_version
__all__ = ["DBN", "DBNClassifier", "load", "to_torch", "Error", "ShapeError", "ConfigError",
           "FormatError", "IoError", "NumericalError", "library_version"]


def to_torch(model, layer=None, classifier=True):
    """A torch.nn.Sequential computing what the model computes (dbn_reader.to_torch): `model` is
    a model file's path or a fitted DBN / DBNClassifier. Needs torch."""
    import os
    import tempfile

    import dbn_reader
    if isinstance(model, (str, os.PathLike)):
        return dbn_reader.to_torch(dbn_reader.load(os.fspath(model)), layer, classifier)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "model.h5")
        model.save(path)
        return dbn_reader.to_torch(dbn_reader.load(path), layer, classifier)
