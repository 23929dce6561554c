#!/usr/bin/env bash
# Formats the C++ sources with clang-format 14 and the repository's .clang-format.
# --check changes nothing and exits 1 naming the files that differ (the test suite runs it).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
tool=$(command -v clang-format-14 || command -v clang-format || true)
if [ -z "$tool" ]; then
  echo "format.sh: clang-format 14 is not installed (apt-get install clang-format-14)" >&2
  exit 2
fi
mapfile -t files < <(git ls-files 'lib/*.cpp' 'lib/*.hpp' 'apps/*.cpp' 'apps/*.hpp' \
                                  'tests/*.cpp' 'tests/*.hpp' 'benchmarks/*.cpp' 'python/*.cpp')
if [ "${1:-}" = "--check" ]; then
  bad=0
  for f in "${files[@]}"; do
    if ! "$tool" --style=file "$f" | cmp -s - "$f"; then
      echo "not formatted: $f (run scripts/format.sh)"
      bad=1
    fi
  done
  [ $bad -eq 0 ] && echo "format.sh: ${#files[@]} files follow .clang-format"
  exit $bad
fi
"$tool" --style=file -i "${files[@]}"
