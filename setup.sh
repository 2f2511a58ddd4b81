#!/usr/bin/env bash
# Kiln's one-command setup: installs the Debian packages the build needs (only
# those missing), configures with CMake + Ninja, builds everything into
# build/, then runs the main job.
#
# The main job: kiln-compile compiles the embedded demo model
# (models/shapes-demo: a small FLUX-architecture pipeline trained by
# examples/demo-model/train.py to draw colored shapes) into
# build/shapes-demo.kiln (about a minute), and `kiln generate` makes
# build/kiln-example.png from a prompt with it.
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
  python3-numpy python3-pil
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

# The CUDA target's tools: ptxas (lit checks the emitted PTX with it) and
# libdevice (the math functions kiln-compile links into GPU kernels). Taken
# from $CUDA_HOME or /usr/local/cuda; where neither has them, from NVIDIA's
# nvcc wheel on PyPI, unpacked into build/cuda-toolkit (lit and kiln-compile
# look there too). Where that fails, the PTX tests are skipped and lit says
# why; everything else works without them.
cuda_root=""
for root in "${CUDA_HOME:-}" /usr/local/cuda build/cuda-toolkit; do
  if [ -n "$root" ] && [ -x "$root/bin/ptxas" ] && [ -d "$root/nvvm/libdevice" ]; then
    cuda_root=$root
    break
  fi
done
if [ -z "$cuda_root" ]; then
  echo "==> CUDA toolkit: none found; fetching ptxas and libdevice (nvidia-cuda-nvcc-cu12 wheel)"
  wheel_dir=$(mktemp -d)
  if python3 -m pip download --no-deps -q -d "$wheel_dir" 'nvidia-cuda-nvcc-cu12>=12.4' &&
     mkdir -p build/cuda-toolkit &&
     python3 - "$wheel_dir" build/cuda-toolkit <<'PY'
import pathlib, sys, zipfile
wheel = next(pathlib.Path(sys.argv[1]).glob("*.whl"))
out = pathlib.Path(sys.argv[2])
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        prefix = "nvidia/cuda_nvcc/"
        rel = name[len(prefix):] if name.startswith(prefix) else ""
        if rel == "bin/ptxas" or rel.startswith("nvvm/libdevice/"):
            target = out / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(z.read(name))
            target.chmod(0o755)
PY
  then
    cuda_root=build/cuda-toolkit
  else
    echo "setup.sh: could not fetch the CUDA tools; the PTX tests will be skipped" >&2
  fi
  rm -rf "$wheel_dir"
fi
[ -n "$cuda_root" ] && echo "==> CUDA toolkit: $cuda_root ($("$cuda_root/bin/ptxas" --version | tail -1))"

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
  echo "==> Main job: compile the embedded demo model, generate an image"
  # The limits the model was trained with (examples/demo-model/README.md);
  # `kiln generate` takes them as its defaults (64x64, 16 T5 tokens).
  demo=models/shapes-demo
  if [ ! build/shapes-demo.kiln -nt build/bin/kiln-compile ] ||
     [ -n "$(find "$demo" -newer build/shapes-demo.kiln -print -quit)" ]; then
    build/bin/kiln-compile "$demo" -o build/shapes-demo.kiln -v \
      --max-image-size 64 --max-references 2 --max-text-tokens 16
  fi
  # True classifier-free guidance against the empty prompt the model was
  # trained with (" " encodes as "" does).
  build/bin/kiln generate build/shapes-demo.kiln \
    -p "a red circle left of a blue square on a white background" \
    --true-cfg 3 --negative-prompt " " --seed 1 -o build/kiln-example.png
fi
echo "==> Done. Run the tests with: ctest --test-dir build --output-on-failure"
