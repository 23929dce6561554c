#!/usr/bin/env bash
# Installs, builds and runs the tests, in three parts, each timed: the whole suite (unit,
# command-line and package tests, Release, build/), the same suite under AddressSanitizer
# (LeakSanitizer on) and UndefinedBehaviorSanitizer (build-sanitize/, -O1 -g1), and the fuzz
# harnesses (scripts/fuzz.sh, DBN_FUZZ_SECONDS each, default 30, build-fuzz/). --all (the
# default, what CI's .ci/run runs) runs the three; --normal, --sanitize or --fuzz one.
# Times on the 2-core machine: docs/ROBUSTNESS.md, "Fuzzing and sanitizers, in CI".
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
part=${1:---all}
case "$part" in
  --all | --normal | --sanitize | --fuzz) ;;
  *) echo "usage: test.sh [--normal | --sanitize | --fuzz | --all]" >&2; exit 2 ;;
esac
bash "$root/scripts/setup.sh" --test  # with python3-torch, for the tests only

launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi

# Skipped under the sanitizers only (they run in the normal suite): each is 3-4 minutes under
# ASan+UBSan (measured: 197-233 s, 2 cores) and exercises no code the rest of the suite does not;
# they repeat AIS runs many times to test an estimate's statistical accuracy. ctest -E patterns.
sanitize_skip=(
  # 233 s: path-AIS dlogZ interval against two independent AIS runs on Fashion-MNIST layers
  "^PathAis\.NarrowerThanTwoIndependentAisEstimatesOnFashionMnist$"
  # 223 s: AIS log Z of a Fashion-MNIST RBM with 20 hidden units against exact enumeration
  "^FashionMnistAis\.AgreesWithExactLogZOnTwentyHiddenUnits$"
  # 197 s: AIS within three standard errors of the exact log Z, repeated runs
  "^Ais\.WithinThreeStandardErrorsOfExactOnAStrokeImageModel$"
  # a timing measurement (dbn bench) with its own 180 s limit, which the instrumented program
  # exceeds; the bench code's correctness is in bench_tests, which do run
  "^cli\.bench_json_reports_every_measurement$"
)

timings=()
timed() {  # timed NAME COMMAND...: runs it and records how long it took
  local name=$1 start=$SECONDS
  shift
  "$@"
  timings+=("$name: $((SECONDS - start)) s")
  echo "test.sh: $name took $((SECONDS - start)) s"
}

normal_build() { DBN_BUILD_DIR=$root/build bash "$root/scripts/build.sh" "${launcher[@]}"; }
normal_suite() { (cd "$root/build" && ctest --output-on-failure -j"$(nproc)" --timeout 900); }

# -O1 -g1 (line tables for the reports' stack traces): half the compile time of -O2 -g
# (config.cpp: 15 s of CPU against 28 s), the whole build 858 s of CPU from cold.
# DBN_MPI=OFF: this build also checks the library without MPI (the normal build has it on when
# Open MPI is installed), and Open MPI's own allocations would fill LeakSanitizer's report.
sanitize_build() {
  DBN_BUILD_DIR=$root/build-sanitize bash "$root/scripts/build.sh" -DDBN_SANITIZE=ON -DDBN_MPI=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" \
    "${launcher[@]}"
}
sanitize_suite() {
  local exclude=()
  if [ ${#sanitize_skip[@]} -gt 0 ]; then
    exclude=(-E "$(IFS='|'; echo "${sanitize_skip[*]}")")
  fi
  (
    cd "$root/build-sanitize"
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=0
    if [ -f "$root/tests/lsan.supp" ]; then  # leaks inside system libraries, each with its why
      export LSAN_OPTIONS=suppressions=$root/tests/lsan.supp:print_suppressions=0
    fi
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    ctest --output-on-failure -j"$(nproc)" --timeout 900 "${exclude[@]}"
  )
}

if [ "$part" = --all ] || [ "$part" = --normal ]; then
  timed "build (Release)" normal_build
  timed "test suite" normal_suite
fi
if [ "$part" = --all ] || [ "$part" = --sanitize ]; then
  timed "build (ASan+UBSan)" sanitize_build
  timed "test suite under ASan+UBSan" sanitize_suite
fi
if [ "$part" = --all ] || [ "$part" = --fuzz ]; then
  export DBN_FUZZ_SECONDS=${DBN_FUZZ_SECONDS:-30}
  timed "fuzz harnesses (build and $DBN_FUZZ_SECONDS s each)" bash "$root/scripts/fuzz.sh"
fi

echo "test.sh: times"
for t in "${timings[@]}"; do echo "  $t"; done
