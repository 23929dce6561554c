#!/usr/bin/env bash
# Usage: scripts/bit-identity/run.sh OLD_DBN NEW_DBN [OUTDIR]. Trains the same configurations with two
# builds of dbn (e.g. before and after a restructuring) and compares the model files bit for bit.
set -u
old=$1; new=$2; out=${3:-$(mktemp -d)}; mkdir -p "$out"; cfg=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd); root=$(cd "$cfg/../.." && pwd)
fm=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
fmv=/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz
status=0
run() {  # name, args...
  local name=$1; shift
  for side in old new; do
    local bin=$old; [ $side = new ] && bin=$new
    "$bin" "$@" --out "$out/$name.$side.h5" --quiet >"$out/$name.$side.log" 2>&1 || echo "$name/$side: exit $? (see $out/$name.$side.log)"
  done
  printf '%-10s ' "$name"; /usr/bin/python3 "$cfg/compare_models.py" "$out/$name.old.h5" "$out/$name.new.h5" || status=1
}
export OMP_NUM_THREADS=2
run cd       pretrain --config $cfg/cd.json    --data $fm --limit 3000 --threads 2
run pcd      pretrain --config $cfg/pcd.json   --data $fm --limit 2000 --threads 2
run gauss    pretrain --config $cfg/gauss.json --data $fm --limit 2000 --threads 1
run exact    pretrain --config $cfg/exact.json --data bars-and-stripes:3
run quick    pretrain --config "$root/models/quick.json" --data $fm --validation $fmv --limit 4000
run ftclass  finetune $out/quick.old.h5 --data $fm --limit 2000 --mode classifier --epochs 2
run ftauto   finetune $out/quick.old.h5 --data $fm --limit 1000 --mode autoencoder --epochs 2 --optimizer sgd
exit $status
