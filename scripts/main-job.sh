#!/usr/bin/env bash
# The main job: install, build, pretrain the default 784-500-500-2000 DBN on Fashion-MNIST's
# 60,000 training images (the 10,000 test images feed the held-out monitors), then describe the
# model with `dbn info`, draw its pictures (filters.png, samples.png and curves.png beside the
# model), write its HTML report beside it and read it back with h5py.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$root/scripts/setup.sh"
DBN_BUILD_TARGET=dbn_cli bash "$root/scripts/build.sh"
data=/usr/share/datasets/fashion-mnist
out=${1:-$root/fashion-mnist-dbn.h5}
"$root/build/bin/dbn" pretrain --config "$root/models/fashion-mnist-dbn.json" \
  --data "$data/train-images-idx3-ubyte.gz" --validation "$data/t10k-images-idx3-ubyte.gz" \
  --out "$out"
"$root/build/bin/dbn" info "$out"
"$root/build/bin/dbn" report "$out" --out "${out%.h5}.html"
echo "the report: ${out%.h5}.html (open it in a browser)"
/usr/bin/python3 "$root/scripts/inspect_model.py" "$out"
pictures=$(dirname "$out")
"$root/build/bin/dbn" show "$out" --layer 0 --count 100 --out "$pictures/filters.png"
"$root/build/bin/dbn" sample "$out" --count 100 --seed 1 --out "$pictures/samples.png"
"$root/build/bin/dbn" plot "$out" --out "$pictures/curves.png"
echo "main job: pictures of the model in $pictures/filters.png, $pictures/samples.png and $pictures/curves.png"
