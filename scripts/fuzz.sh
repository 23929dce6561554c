#!/usr/bin/env bash
# Builds the libFuzzer harnesses of tests/fuzz/ (clang 14, the library with
# -fsanitize=fuzzer-no-link,address,undefined) in build-fuzz/ and, for each harness:
#   1. runs every input of tests/fuzz/regressions/<harness>/ once: each must pass;
#   2. runs every input of tests/fuzz/known/<harness>/ (open findings, fixed in other branches):
#      each is reported, failing is expected; one that passes should move to regressions/;
#   3. fuzzes for DBN_FUZZ_SECONDS (default 60) from tests/fuzz/seeds/<harness>/ and the
#      regression inputs, with a working corpus in build-fuzz/corpus/<harness>/.
# A crash whose signature (the sanitizer's error kind and the first frame in lib/dbn/) is that of
# a known input is reported and fuzzing goes on for the rest of the time; any other crash, leak,
# sanitizer report, timeout (-timeout, DBN_FUZZ_TIMEOUT s) or allocation past
# DBN_FUZZ_MEMORY_MB (1024) fails the script, with the input saved under build-fuzz/artifacts/<harness>/.
# Prints the time, executions and executions per second of each harness.
#   DBN_FUZZ_HARNESSES="fuzz_idx fuzz_csv"  only these (default: every tests/fuzz/fuzz_*.cpp)
#   DBN_FUZZ_BUILD_DIR                      another build folder
#   DBN_FUZZ_NO_BUILD=1                     use the harnesses already built
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${DBN_FUZZ_BUILD_DIR:-$root/build-fuzz}
seconds=${DBN_FUZZ_SECONDS:-60}
timeout=${DBN_FUZZ_TIMEOUT:-10}
memory=${DBN_FUZZ_MEMORY_MB:-1024}  # one allocation
# The whole process: ASan's quarantine and libhdf5's suppressed leaks on refused files grow it
# over thousands of inputs (fuzz_model passed 1 GB after ~1,200 inputs with 27 MB live).
rss=${DBN_FUZZ_RSS_MB:-2560}
fuzz=$root/tests/fuzz

if [ -z "${DBN_FUZZ_HARNESSES:-}" ]; then
  DBN_FUZZ_HARNESSES=$(cd "$fuzz" && ls fuzz_*.cpp | sed 's/\.cpp$//' | tr '\n' ' ')
fi

if [ "${DBN_FUZZ_NO_BUILD:-0}" != 1 ]; then
  start=$SECONDS
  launcher=()
  if command -v ccache >/dev/null; then
    launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  fi
  CC=clang-14 CXX=clang++-14 cmake -S "$root" -B "$build" -DDBN_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDBN_BUILD_TESTS=OFF -DDBN_BUILD_APPS=OFF \
    -DDBN_INSTALL=OFF "${launcher[@]}" >/dev/null
  # shellcheck disable=SC2086
  cmake --build "$build" -j"$(nproc)" --target $DBN_FUZZ_HARNESSES
  echo "fuzz: built the harnesses in $((SECONDS - start)) s"
fi

# LeakSanitizer stays on (libFuzzer's -detect_leaks=1); UBSan stops at its first report.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# Leaks inside system libraries, each with its reason (tests/lsan.supp).
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$root/tests/lsan.supp:print_suppressions=0}
options=(-timeout="$timeout" -rss_limit_mb="$rss" -malloc_limit_mb="$memory")

# The signature of a crash log: the error kind and the first stack frame in lib/dbn/.
signature() {
  local kind frame
  kind=$(grep -m1 -oE "(ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer): [a-z-]+|runtime error|property violated: .*|terminate called.*)" "$1" || true)
  frame=$(grep -E "^ *#[0-9]+ 0x[0-9a-f]+ in .*/lib/dbn/" "$1" | head -n1 |
    sed -E 's/^ *#[0-9]+ 0x[0-9a-f]+ in (.*) \/.*$/\1/' || true)
  echo "${kind:-unknown} @ ${frame:-outside lib/dbn}"
}

failed=()
summary=()
for h in $DBN_FUZZ_HARNESSES; do
  bin=$build/tests/fuzz/$h
  [ -x "$bin" ] || { echo "fuzz: $bin is not built" >&2; exit 1; }
  logs=$build/logs/$h
  artifacts=$build/artifacts/$h
  corpus=$build/corpus/$h
  mkdir -p "$logs" "$artifacts" "$corpus"
  start=$SECONDS

  regressions=0
  if [ -d "$fuzz/regressions/$h" ]; then
    for input in "$fuzz/regressions/$h"/*; do
      [ -f "$input" ] || continue
      regressions=$((regressions + 1))
      if ! "$bin" "${options[@]}" "$input" >"$logs/regression.log" 2>&1; then
        echo "fuzz: $h: regression input $input FAILS: $(signature "$logs/regression.log")" >&2
        tail -n 40 "$logs/regression.log" >&2
        failed+=("$h: regression $(basename "$input")")
      fi
    done
  fi

  known_signatures=()
  if [ -d "$fuzz/known/$h" ]; then
    for input in "$fuzz/known/$h"/*; do
      [ -f "$input" ] || continue
      [ "${input##*.}" = md ] && continue
      if "$bin" "${options[@]}" "$input" >"$logs/known.log" 2>&1; then
        echo "fuzz: $h: known finding $(basename "$input") now passes: move it to regressions/"
      else
        sig=$(signature "$logs/known.log")
        known_signatures+=("$sig")
        echo "fuzz: $h: known finding $(basename "$input") still fails (expected): $sig"
      fi
    done
  fi

  # Fuzz until the time is used; a crash with a known signature restarts the fuzzer.
  dirs=("$corpus" "$fuzz/seeds/$h")
  [ -d "$fuzz/regressions/$h" ] && dirs+=("$fuzz/regressions/$h")
  dict=()
  [ -f "$fuzz/$h.dict" ] && dict=(-dict="$fuzz/$h.dict")
  deadline=$((SECONDS + seconds))
  execs=0
  fuzz_time=0
  run=0
  while [ $SECONDS -lt "$deadline" ]; do
    run=$((run + 1))
    log=$logs/run-$run.log
    left=$((deadline - SECONDS))
    [ "$left" -ge 1 ] || break
    before=$SECONDS
    status=0
    "$bin" "${options[@]}" "${dict[@]}" -max_total_time="$left" -print_final_stats=1 \
      -artifact_prefix="$artifacts/" "${dirs[@]}" >"$log" 2>&1 || status=$?
    fuzz_time=$((fuzz_time + SECONDS - before))
    n=$(grep -oE "stat::number_of_executed_units: [0-9]+" "$log" | grep -oE "[0-9]+$" || echo 0)
    execs=$((execs + n))
    [ "$status" -eq 0 ] && break
    sig=$(signature "$log")
    artifact=$(grep -oE "Test unit written to [^ ]+" "$log" | tail -n1 | sed 's/Test unit written to //')
    known=0
    for s in "${known_signatures[@]}"; do [ "$s" = "$sig" ] && known=1; done
    if [ "$known" = 1 ]; then
      echo "fuzz: $h: found a known finding again ($sig), going on"
      [ -n "$artifact" ] && mkdir -p "$artifacts/known" && mv "$artifact" "$artifacts/known/"
    else
      echo "fuzz: $h: NEW FINDING: $sig; input: ${artifact:-none}; log: $log" >&2
      grep -E "ERROR|SUMMARY|runtime error|#[0-9]+ 0x" "$log" | head -n 30 >&2
      failed+=("$h: $sig (${artifact:-no input saved})")
      break
    fi
  done
  rate=$((execs / (fuzz_time > 0 ? fuzz_time : 1)))
  line="$h: $regressions regression inputs, ${#known_signatures[@]} known open findings,"
  line+=" fuzzed ${fuzz_time} s ($execs executions, $rate exec/s), $((SECONDS - start)) s in all"
  echo "fuzz: $line"
  summary+=("$line")
done

echo "fuzz: summary"
for line in "${summary[@]}"; do echo "  $line"; done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED:" >&2
  for f in "${failed[@]}"; do echo "  $f" >&2; done
  exit 1
fi
