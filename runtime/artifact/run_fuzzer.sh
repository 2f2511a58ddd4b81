#!/usr/bin/env bash
# Builds the .kiln artifact fuzzer (libFuzzer + AddressSanitizer + UBSan) in
# its own build tree and runs it for a bounded time over a seed corpus that
# the artifact writer produces.
#
# Usage: runtime/artifact/run_fuzzer.sh [seconds] [extra libFuzzer flags...]
#   seconds                 run time, default 60 (-max_total_time)
#   KILN_FUZZ_BUILD_DIR     build tree, default build/fuzz (inside the
#                           ignored build/ directory, separate from it)
#   KILN_BUILD_JOBS         parallel compile jobs, default 1
#
# Needs clang with libFuzzer (Debian: clang-22 or clang-14 with
# libclang-rt-14-dev). The runtime only: configured with
# -DKILN_BUILD_COMPILER=OFF, no MLIR. Exit status: 0 when the run ends
# without a crash; otherwise libFuzzer's, with the crashing input saved
# under <build tree>/artifacts/ and its path printed.
set -euo pipefail

cd "$(dirname "$0")/../.."
seconds="${1:-60}"
shift || true
build_dir="${KILN_FUZZ_BUILD_DIR:-build/fuzz}"

cc="" cxx=""
for version in 22 14; do
  if [ -x "/usr/bin/clang++-$version" ] && [ -x "/usr/bin/clang-$version" ]
  then
    cc="/usr/bin/clang-$version" cxx="/usr/bin/clang++-$version"
    break
  fi
done
if [ -z "$cxx" ]; then
  echo "run_fuzzer.sh: no clang-22 or clang-14 in /usr/bin;" \
       "install clang-14 and libclang-rt-14-dev" >&2
  exit 1
fi

echo "==> Configuring $build_dir with $cxx"
mkdir -p "$build_dir"
cmake -G Ninja -S . -B "$build_dir" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" \
  -DKILN_BUILD_COMPILER=OFF -DKILN_BUILD_FUZZERS=ON \
  >"$build_dir/configure.log" 2>&1 ||
  { cat "$build_dir/configure.log" >&2; exit 1; }

echo "==> Building kiln_artifact_fuzzer"
ninja -C "$build_dir" -j"${KILN_BUILD_JOBS:-1}" \
  kiln_artifact_fuzzer kiln_artifact_fuzz_seeds

corpus="$build_dir/corpus/artifact"
mkdir -p "$corpus" "$build_dir/artifacts"
"$build_dir/bin/kiln_artifact_fuzz_seeds" "$corpus"
echo "==> Fuzzing for ${seconds}s ($corpus: $(ls "$corpus" | wc -l) inputs)"
# -max_len: room to grow past the largest seed (the sample is ~5 KB).
"$build_dir/bin/kiln_artifact_fuzzer" \
  -max_total_time="$seconds" -print_final_stats=1 -max_len=16384 \
  -artifact_prefix="$build_dir/artifacts/" "$@" "$corpus"
