#!/usr/bin/env bash
# The CUDA path on a real GPU, in one run (the device tool lends a GPU for
# 15 minutes a session): goldens through the CUDA device, kiln generate on
# the GPU against the CPU, and the step-time benchmark against diffusers.
# Runs on the GPU machine from the repository root, with build/gpu-bundle
# carried (bench/gpu/make_bundle.sh made it here):
#
#   run(command="bash bench/gpu/check.sh", carry=["build/gpu-bundle"], timeout_s=540)
#
# DEVICE=cpu runs the same checks on the CPU (to try the script here, on a
# machine without a GPU). Each section prints PASS/FAIL lines; the exit
# status is 1 when any check failed. Logs go to $OUT (the device tool's
# output folder) or /tmp/kiln-gpu.
set -uo pipefail
cd "$(dirname "$0")/../.."
B=build/gpu-bundle
DEVICE=${DEVICE:-cuda}
LOG=${OUT:-/tmp/kiln-gpu}
mkdir -p "$LOG"
kiln() { LD_LIBRARY_PATH=$B/lib "$B/bin/kiln" "$@"; }
check() { LD_LIBRARY_PATH=$B/lib "$B/bin/kiln-artifact-check" "$@"; }
failed=0
fail() { echo "FAIL: $*"; failed=1; }

echo "== machine: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), git $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader 2>/dev/null ||
  echo "no nvidia-smi"
grep -m1 'model name' /proc/cpuinfo | cut -d: -f2

# 1. Every golden case through the artifact on the device. tiny.kiln's
# CUDA kernels compute in f32 as the CPU's do (--cuda-matmul=f32), so the
# goldens' f32 bound holds: max relative error <= 1e-4 against
# diffusers/transformers. tiny-bf16mma.kiln runs the linears on tensor cores
# (mma.sync, inputs rounded to bf16, f32 accumulation): relative L2 <= 1e-2,
# the bound of the CPU levels that round activations to bf16 the same way.
golden() {  # ARTIFACT TOLERANCE TAG
  echo "== goldens on $DEVICE, $1 ($2)"
  for component in transformer vae text_encoder text_encoder_2; do
    check --device="$DEVICE" "$2" "$B/$1" test/goldens/cases/$component/*.safetensors \
      > "$LOG/golden.$3.$component.log" 2>&1 || fail "goldens $3 $component (see golden.$3.$component.log)"
    grep -E '^device|passed' "$LOG/golden.$3.$component.log" | tr '\n' ' '; echo " [$component]"
    grep '^FAIL' "$LOG/golden.$3.$component.log" | head -5
  done
}
golden tiny.kiln --rtol=1e-4 f32
golden tiny-bf16mma.kiln --rel-l2=1e-2 bf16mma

# 2. kiln generate end to end with the goldens' initial noise: the latents
# on the device against the CPU's (same artifact, same run) and against
# diffusers' FluxPipeline (the case's out.latents).
echo "== kiln generate --device $DEVICE vs --device cpu (t2i, 4 steps, --init-noise)"
CASE=test/goldens/cases/generate/t2i.safetensors
gen=(-p "a red fox in the snow, watercolor" --width 48 --height 32 --steps 4 --guidance 3.5
     --max-sequence-length 32 --seed 42 --init-noise "$CASE" -q)
kiln generate "$B/tiny.kiln" "${gen[@]}" --device "$DEVICE" --save-latents "$LOG/latents.$DEVICE.safetensors" \
  -o "$LOG/fox.$DEVICE.png" || fail "kiln generate --device $DEVICE"
kiln generate "$B/tiny.kiln" "${gen[@]}" --device cpu --save-latents "$LOG/latents.cpu.safetensors" \
  -o "$LOG/fox.cpu.png" || fail "kiln generate --device cpu"
python3 bench/gpu/compare_latents.py "$LOG/latents.$DEVICE.safetensors" "$LOG/latents.cpu.safetensors" \
  --max 1e-4 || fail "latents $DEVICE vs cpu"
python3 bench/gpu/compare_latents.py "$LOG/latents.$DEVICE.safetensors" "$CASE:out.latents" \
  --max 1e-4 || fail "latents $DEVICE vs diffusers"
kiln generate "$B/tiny-bf16mma.kiln" "${gen[@]}" --device "$DEVICE" \
  --save-latents "$LOG/latents.$DEVICE.bf16mma.safetensors" -o "$LOG/fox.$DEVICE.bf16mma.png" ||
  fail "kiln generate --device $DEVICE (tensor cores)"
echo "tensor-core linears vs the CPU's f32 (printed, not bounded: 4 steps of bf16 rounding):"
python3 bench/gpu/compare_latents.py "$LOG/latents.$DEVICE.bf16mma.safetensors" \
  "$LOG/latents.cpu.safetensors" --max 1 || fail "latents $DEVICE tensor cores vs cpu"

# 3. Step time: Kiln's medium artifact (zero weights, same kernels and
# sizes) against diffusers on the same GPU, in this same run.
if [[ -f $B/medium.kiln.gz ]]; then
  echo "== benchmark: medium FLUX transformer, 1024 image + 256 text tokens"
  gunzip -c "$B/medium.kiln.gz" > /tmp/medium.kiln
  kiln run /tmp/medium.kiln denoise --device "$DEVICE" --inputs "$B/medium_case.safetensors" \
    --outputs "$LOG/medium.out.safetensors" --repeat 12 2> "$LOG/kiln.medium.log" ||
    fail "kiln run medium"
  grep 'runs, dispatches per run' "$LOG/kiln.medium.log" | sed 's/^/kiln /'
  kiln run /tmp/medium.kiln denoise --device "$DEVICE" --inputs "$B/medium_case.safetensors" \
    --outputs "$LOG/medium.out.safetensors" --repeat 3 --timing 2> "$LOG/kiln.medium.timing.log" >/dev/null
  echo "slowest dispatches (ms, waited for one by one):"
  grep -E '^[0-9]+ ' "$LOG/kiln.medium.timing.log" | sort -k4 -n -r | head -8
  rm -f /tmp/medium.kiln
fi
if [[ "$DEVICE" == cuda ]] && python3 -c 'import torch' 2>/dev/null; then
  if [[ -d $B/wheels ]]; then
    python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site $B/wheels/*.whl &&
      export PYTHONPATH=/tmp/site
  fi
  PYTHONUNBUFFERED=1 timeout 240 python3 bench/gpu/bench_torch.py --config medium \
    --medium-config "$B/medium_config.json" | tee "$LOG/torch.medium.log" || fail "diffusers medium"
  [[ "${FULL:-1}" == 1 ]] && PYTHONUNBUFFERED=1 timeout 180 python3 bench/gpu/bench_torch.py \
    --config full --image-tokens 4096 --text-tokens 512 --variants bf16-eager,bf16-compile |
    tee "$LOG/torch.full.log"
fi

echo "== $([[ $failed == 0 ]] && echo 'all checks passed' || echo 'some checks FAILED')"
exit $failed
