#!/usr/bin/env bash
# Installs, builds and runs the whole test suite (unit, command-line and package tests).
# --sanitize builds and runs it under AddressSanitizer and UndefinedBehaviorSanitizer instead.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$root/scripts/setup.sh"
if [ "${1:-}" = "--sanitize" ]; then
  export DBN_BUILD_DIR=$root/build-sanitize
  bash "$root/scripts/build.sh" -DDBN_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
else
  export DBN_BUILD_DIR=$root/build
  bash "$root/scripts/build.sh"
fi
cd "$DBN_BUILD_DIR"
ctest --output-on-failure -j"$(nproc)" --timeout 900
