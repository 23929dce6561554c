#!/bin/bash
# Reproduces the fine-tuning figures on Fashion-MNIST (issue 4, "Targets"), one command each:
#
#   scripts/reproduce-finetune.sh classifier    fine-tuned DBN classifier, test accuracy
#   scripts/reproduce-finetune.sh random        the same network and settings from random weights
#   scripts/reproduce-finetune.sh classifier-all / random-all   both, trained on all 60,000 images
#   scripts/reproduce-finetune.sh logreg        logistic regression on the pretrained top-layer
#                                               features (dbn finetune --head-only)
#   scripts/reproduce-finetune.sh logreg-sklearn  the same with scikit-learn (dbn features + python)
#   scripts/reproduce-finetune.sh autoencoder   784-1000-500-250-30 autoencoder, test reconstruction error
#   scripts/reproduce-finetune.sh pca           PCA with the same code size (30), test reconstruction error
#   scripts/reproduce-finetune.sh all           all of the above
#
# Pretrained models are made on first use (models/fashion-mnist-dbn.json and
# models/fashion-mnist-autoencoder.json) and reused. Nothing here touches the test images during
# training or for choosing settings: the test set (t10k) is only evaluated at the end (--test).
#
# Environment: DBN (the program, default build/bin/dbn), OUT (results folder, default
# results/finetune), DATA (default /usr/share/datasets/fashion-mnist), THREADS (BLAS threads).
set -euo pipefail
cd "$(dirname "$0")/.."
DBN=${DBN:-build/bin/dbn}
OUT=${OUT:-results/finetune}
DATA=${DATA:-/usr/share/datasets/fashion-mnist}
THREADS=${THREADS:-2}
TRAIN=$DATA/train-images-idx3-ubyte.gz
TEST=$DATA/t10k-images-idx3-ubyte.gz
mkdir -p "$OUT"

# The classifier's settings, shared by the pretrained and the random-init runs.
# CLASSIFIER: early stopping on a seeded 10% of the training images (best epoch 16 of 22).
# CLASSIFIER_ALL: the same settings for those 16 epochs on all 60,000 training images.
CLASSIFIER=(--mode classifier --epochs 40 --optimizer adam --learning-rate 0.001
            --learning-rate-decay 0.95 --weight-decay 1e-5 --patience 6 --batch-size 100 --seed 1)
CLASSIFIER_ALL=(--mode classifier --epochs 16 --optimizer adam --learning-rate 0.001
                --learning-rate-decay 0.95 --weight-decay 1e-5 --validation-fraction 0
                --batch-size 100 --seed 1)
AUTOENCODER=(--mode autoencoder --linear-code --epochs 30 --optimizer adam --learning-rate 0.001
             --patience 4 --batch-size 100 --seed 1)

timed() {  # runs a command, then prints its wall time
    local t0=$SECONDS
    "$@"
    echo "  (wall time $((SECONDS - t0)) s: $*)"
}

pretrained() {
    [ -f "$OUT/fashion-mnist-dbn.h5" ] ||
        timed "$DBN" pretrain --config models/fashion-mnist-dbn.json --validation "$TEST" \
            --threads "$THREADS" --quiet --out "$OUT/fashion-mnist-dbn.h5"
}

pretrained_autoencoder() {
    [ -f "$OUT/fashion-mnist-autoencoder.h5" ] ||
        timed "$DBN" pretrain --config models/fashion-mnist-autoencoder.json --validation "$TEST" \
            --threads "$THREADS" --quiet --out "$OUT/fashion-mnist-autoencoder.h5"
}

run() {
    case "$1" in
    classifier)
        pretrained
        timed "$DBN" finetune "$OUT/fashion-mnist-dbn.h5" --data "$TRAIN" "${CLASSIFIER[@]}" \
            --threads "$THREADS" --test "$TEST" --out "$OUT/classifier.h5" ;;
    random)
        pretrained
        timed "$DBN" finetune "$OUT/fashion-mnist-dbn.h5" --data "$TRAIN" "${CLASSIFIER[@]}" \
            --random-init=glorot --threads "$THREADS" --test "$TEST" --out "$OUT/classifier-random.h5" ;;
    classifier-all)
        pretrained
        timed "$DBN" finetune "$OUT/fashion-mnist-dbn.h5" --data "$TRAIN" "${CLASSIFIER_ALL[@]}" \
            --threads "$THREADS" --test "$TEST" --out "$OUT/classifier-all.h5" ;;
    random-all)
        pretrained
        timed "$DBN" finetune "$OUT/fashion-mnist-dbn.h5" --data "$TRAIN" "${CLASSIFIER_ALL[@]}" \
            --random-init=glorot --threads "$THREADS" --test "$TEST" --out "$OUT/classifier-random-all.h5" ;;
    logreg)
        pretrained
        timed "$DBN" finetune "$OUT/fashion-mnist-dbn.h5" --data "$TRAIN" --mode classifier --head-only \
            --epochs 50 --patience 5 --seed 1 --threads "$THREADS" --test "$TEST" \
            --out "$OUT/logreg.h5" ;;
    logreg-sklearn)
        pretrained
        timed "$DBN" features "$OUT/fashion-mnist-dbn.h5" --data "$TRAIN" --out "$OUT/features-train.h5" --quiet
        timed "$DBN" features "$OUT/fashion-mnist-dbn.h5" --data "$TEST" --out "$OUT/features-test.h5" --quiet
        timed /usr/bin/python3 scripts/logreg_features.py "$OUT/features-train.h5" "$OUT/features-test.h5" ;;
    autoencoder)
        pretrained_autoencoder
        timed "$DBN" finetune "$OUT/fashion-mnist-autoencoder.h5" --data "$TRAIN" "${AUTOENCODER[@]}" \
            --threads "$THREADS" --test "$TEST" --out "$OUT/autoencoder.h5" ;;
    pca)
        timed /usr/bin/python3 scripts/pca_baseline.py --code 30 ;;
    all)
        for t in classifier random classifier-all random-all logreg logreg-sklearn autoencoder pca; do run "$t"; done ;;
    *)
        echo "usage: $0 classifier|random|classifier-all|random-all|logreg|logreg-sklearn|autoencoder|pca|all" >&2
        exit 1 ;;
    esac
}

run "${1:-all}"
