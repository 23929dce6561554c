#!/usr/bin/env bash
# Installs everything dbn needs to build, test and run, from Debian 12's packages, as root.
# Idempotent: when every package is already installed it does nothing (and needs no network).
# --test adds what only the tests use: python3-torch (about 230 packages), for the test that
# compares dbn_reader.to_torch's network with dbn predict (skipped where torch is absent), and
# chromium, in which the test of dbn report renders the page headless.
set -euo pipefail

packages=(
  g++ make cmake pkg-config git clang-format-14 ccache
  clang-14 libclang-rt-14-dev
  libxtensor-dev xtl-dev libxsimd-dev libxtensor-blas-dev
  libopenblas-dev libhdf5-dev zlib1g-dev libcairo2-dev libpng-dev fonts-dejavu-core
  libcli11-dev nlohmann-json3-dev
  libopenmpi-dev openmpi-bin
  libgtest-dev libgmock-dev libbenchmark-dev
  python3-numpy python3-h5py python3-sklearn python3-threadpoolctl
  pybind11-dev python3-pybind11 python3-dev
  dataset-fashion-mnist
)
case "${1:-}" in
  --test) packages+=(python3-torch chromium) ;;
  "") ;;
  *) echo "usage: setup.sh [--test]" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: run as root (missing: ${missing[*]})" >&2; exit 1; }
  SUDO=sudo
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
