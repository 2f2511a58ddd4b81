#!/usr/bin/env bash
# Kiln's one-command setup: installs the Debian packages the build needs (only
# those missing), configures with CMake + Ninja, builds everything into
# build/, then runs the main job.
#
# The main job, until the generation pipeline exists: kiln-opt runs Kiln's
# model-level optimization pipeline (kiln-optimize) on one FLUX.1
# double-stream transformer block written in the kiln dialect
# (examples/flux_double_stream_block.mlir) and writes the result to
# build/examples/. It compiles IR; it does not generate an image yet.
#
# Usage: ./setup.sh [--no-run]     (--no-run: install and build only)
set -euo pipefail

cd "$(dirname "$0")"
run_main_job=1
for arg in "$@"; do
  case "$arg" in
    --no-run) run_main_job=0 ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

# Debian packages the build and tests need. libMLIR.so, mlir-tblgen, lit and
# FileCheck come from the LLVM/MLIR 22 packages.
packages=(
  cmake ninja-build g++ ccache lld
  llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools
  libgtest-dev libabsl-dev nlohmann-json3-dev
  libflatbuffers-dev flatbuffers-compiler libsentencepiece-dev libpng-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done
if ((${#missing[@]})); then
  echo "==> Installing Debian packages: ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || {
      echo "setup.sh: need root (or sudo) to install: ${missing[*]}" >&2
      exit 1
    }
    sudo="sudo"
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "==> Debian packages: all present"
fi

echo "==> Configuring (build/)"
if [ ! -f build/build.ninja ]; then
  mkdir -p build
  cmake -G Ninja -S . -B build -DCMAKE_BUILD_TYPE=Release \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir >build/cmake.log 2>&1 ||
    { cat build/cmake.log >&2; exit 1; }
fi

echo "==> Building"
# Two parallel jobs fit the 2-core, 24 GiB machines this project runs on.
cmake --build build -- -j"${KILN_BUILD_JOBS:-$(nproc)}"

if ((run_main_job)); then
  echo "==> Main job: kiln-opt --kiln-optimize on one FLUX.1 double-stream block"
  mkdir -p build/examples
  out=build/examples/flux_double_stream_block.optimized.mlir
  build/bin/kiln-opt --kiln-optimize examples/flux_double_stream_block.mlir -o "$out"
  echo "    wrote $out"
  for op in linear attention rope layer_norm rms_norm modulate add mul reshape; do
    before=$(grep -c "= kiln.$op " examples/flux_double_stream_block.mlir || true)
    after=$(grep -c "= kiln.$op " "$out" || true)
    printf '    kiln.%-11s %3d -> %3d\n' "$op" "$before" "$after"
  done
fi
echo "==> Done. Run the tests with: ctest --test-dir build --output-on-failure"
