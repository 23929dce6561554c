#!/usr/bin/env bash
# Configures and builds dbn in build/ (Release). Extra arguments go to CMake's configure step.
# DBN_BUILD_DIR chooses another folder; DBN_BUILD_TARGET builds one target (e.g. dbn_cli) only.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${DBN_BUILD_DIR:-$root/build}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build "$build" -j"$(nproc)" ${DBN_BUILD_TARGET:+--target "$DBN_BUILD_TARGET"}
