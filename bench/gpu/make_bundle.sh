#!/usr/bin/env bash
# Prepares build/gpu-bundle/ for bench/gpu/check.sh, which runs on a GPU
# machine lent through the device tool: that machine has CUDA, CMake and
# torch but no MLIR, and takes at most 64 MiB of files, so everything is
# compiled here and carried (bench/gpu/README.md).
#
#   bench/gpu/make_bundle.sh          # needs build/ (./setup.sh --no-run)
#   MEDIUM=0 bench/gpu/make_bundle.sh # without the medium benchmark model
#
# The bundle: the `kiln` and `kiln-artifact-check` binaries with the shared
# libraries they need beyond glibc; the tiny model compiled for CPU and
# CUDA (f32 and tensor-core linears); the medium FLUX transformer (bench/make_medium_flux.py) with zeroed
# weights, compiled for CUDA and gzipped, plus its input case and config; and
# the diffusers wheel the reference side needs (build/gpu-bundle/wheels,
# fetched by hand: see the README).
set -euo pipefail
cd "$(dirname "$0")/../.."
B=build/gpu-bundle
mkdir -p "$B/bin" "$B/lib" build/bench
cp build/bin/kiln build/bin/kiln-artifact-check "$B/bin/"
# Shared libraries beyond the C library: Debian's absl, libpng,
# SentencePiece, libstdc++ (the GPU machine's distribution has others).
ldd build/bin/kiln build/bin/kiln-artifact-check | awk '/=> \//{print $3}' | sort -u |
  grep -Ev '/(libc|libm|libdl|libpthread|librt|ld-linux[^/]*)\.so' |
  while read -r lib; do cp -L "$lib" "$B/lib/"; done

# Two tiny artifacts: exact f32 kernels (the goldens' 1e-4 bound, latents
# against the CPU) and the default tensor-core linears (bf16 inputs, f32
# accumulation: kiln-cuda-tile-contractions), checked at relative L2 1e-2 as
# the CPU's bf16-rounding levels are.
echo "== tiny model (cpu + cuda:sm_90a, --cuda-matmul=f32 and bf16)"
# (gzipped: the CPU code makes them 15 MB each, 4 MB packed)
for matmul in f32 bf16; do
  build/bin/kiln-compile test/goldens/tiny-flux -o build/bench/tiny-$matmul.kiln \
    --target=cpu,cuda:sm_90a --max-image-size 512 --cuda-matmul=$matmul
done
rm -f "$B"/tiny*.kiln
gzip -9 -c build/bench/tiny-f32.kiln > "$B/tiny.kiln.gz"
gzip -9 -c build/bench/tiny-bf16.kiln > "$B/tiny-bf16mma.kiln.gz"

if [[ "${MEDIUM:-1}" == 1 ]]; then
  MODEL=build/bench/medium-flux
  CASE=build/bench/cases/transformer/t2i_32x32.safetensors
  [[ -d $MODEL && -f $CASE ]] || {
    echo "make_bundle.sh: $MODEL or $CASE missing: run bench/make_medium_flux.py (bench/README.md)" >&2
    exit 1
  }
  echo "== medium model, zero weights (cuda:sm_90a)"
  rm -rf build/bench/medium-flux-zero
  python3 bench/gpu/zero_checkpoint.py "$MODEL" build/bench/medium-flux-zero
  build/bin/kiln-compile build/bench/medium-flux-zero -o build/bench/medium-zero.kiln \
    --target=cuda:sm_90a --max-image-size 1024 -v
  gzip -1 -c build/bench/medium-zero.kiln > "$B/medium.kiln.gz"
  cp "$CASE" "$B/medium_case.safetensors"
  cp "$MODEL/transformer/config.json" "$B/medium_config.json"
fi
if [[ "${FULL:-1}" == 1 ]]; then
  # FLUX.1-dev's shape with zero weights, from a 1 + 1 block model's layout
  # (torch cannot build the 12 G parameters in this machine's memory).
  SRC=build/bench/flux-wide-1x1
  [[ -d $SRC ]] || {
    echo "make_bundle.sh: $SRC missing: ~/.venvs/kiln-ref/bin/python bench/make_flux_wide.py $SRC 1 1" >&2
    exit 1
  }
  echo "== FLUX.1-dev shape, zero bf16 weights (cuda:sm_90a; ~4 min, 24 GB under build/bench)"
  rm -rf build/bench/flux-dev-zero
  python3 bench/gpu/deepen_checkpoint.py "$SRC" build/bench/flux-dev-zero 19 38
  build/bin/kiln-compile build/bench/flux-dev-zero -o build/bench/flux-dev-zero.kiln \
    --target=cuda:sm_90a --max-image-size 1024 -v
  # Only its non-zero 1 MiB blocks travel (code, constant tables): ~7 MB.
  python3 bench/gpu/sparse_pack.py pack build/bench/flux-dev-zero.kiln "$B/full.kiln.pack"
  rm -f build/bench/flux-dev-zero.kiln
  python3 bench/gpu/make_inputs.py "$B/full_inputs.safetensors" 4096 512
fi
du -sh "$B"
ls -la "$B" "$B/wheels" 2>/dev/null || true
