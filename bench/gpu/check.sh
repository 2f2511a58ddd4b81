#!/usr/bin/env bash
# The CUDA path on a real GPU, in one run (the device tool lends a GPU for
# 15 minutes a session): goldens through the CUDA device, kiln generate on
# the GPU against the CPU, and the step-time benchmark against diffusers.
# Runs on the GPU machine from the repository root, with build/gpu-bundle
# carried (bench/gpu/make_bundle.sh made it here):
#
#   run(command="bash bench/gpu/check.sh", carry=["build/gpu-bundle"], timeout_s=540)
#
# DEVICE=cpu runs the correctness checks on the CPU (to try the script
# here, on a machine without a GPU; the benchmark models are CUDA-only). Each section prints PASS/FAIL lines; the exit
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
# The tiny artifacts travel gzipped (make_bundle.sh).
TINY=/tmp/kiln-tiny
mkdir -p "$TINY"
for name in tiny tiny-bf16mma; do
  gunzip -c "$B/$name.kiln.gz" > "$TINY/$name.kiln" || fail "unpack $name.kiln"
done

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
    check --device="$DEVICE" "$2" "$TINY/$1" test/goldens/cases/$component/*.safetensors \
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
kiln generate "$TINY/tiny.kiln" "${gen[@]}" --device "$DEVICE" --save-latents "$LOG/latents.$DEVICE.safetensors" \
  -o "$LOG/fox.$DEVICE.png" || fail "kiln generate --device $DEVICE"
kiln generate "$TINY/tiny.kiln" "${gen[@]}" --device cpu --save-latents "$LOG/latents.cpu.safetensors" \
  -o "$LOG/fox.cpu.png" || fail "kiln generate --device cpu"
python3 bench/gpu/compare_latents.py "$LOG/latents.$DEVICE.safetensors" "$LOG/latents.cpu.safetensors" \
  --max 1e-4 || fail "latents $DEVICE vs cpu"
python3 bench/gpu/compare_latents.py "$LOG/latents.$DEVICE.safetensors" "$CASE:out.latents" \
  --max 1e-4 || fail "latents $DEVICE vs diffusers"
kiln generate "$TINY/tiny-bf16mma.kiln" "${gen[@]}" --device "$DEVICE" \
  --save-latents "$LOG/latents.$DEVICE.bf16mma.safetensors" -o "$LOG/fox.$DEVICE.bf16mma.png" ||
  fail "kiln generate --device $DEVICE (tensor cores)"
echo "tensor-core linears vs the CPU's f32 (printed, not bounded: 4 steps of bf16 rounding):"
python3 bench/gpu/compare_latents.py "$LOG/latents.$DEVICE.bf16mma.safetensors" \
  "$LOG/latents.cpu.safetensors" --max 1 || fail "latents $DEVICE tensor cores vs cpu"

# 3. Step time, Kiln and diffusers on the same GPU in this same run, the
# issue's comparison first (it must fit the device time): the FLUX.1-dev
# shape (hidden 3072, 24 heads, 19 double + 38 single blocks, zero bf16
# weights: bench/gpu/deepen_checkpoint.py; 4096 image + 512 text tokens)
# against diffusers bf16 eager, then the medium transformer, then
# torch.compile.
torch_ok=0
if [[ "$DEVICE" == cuda ]] && python3 -c 'import torch' 2>/dev/null; then
  torch_ok=1
  if [[ -d $B/wheels ]]; then
    python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site $B/wheels/*.whl &&
      export PYTHONPATH=/tmp/site
  fi
fi
torch_bench() {  # TIMEOUT ARGS...
  local limit=$1
  shift
  PYTHONUNBUFFERED=1 timeout "$limit" python3 bench/gpu/bench_torch.py "$@"
}
# Kiln's side of one model: a timed run (--repeat) and the slowest
# dispatches of one run waited for one by one.
kiln_bench() {  # ARTIFACT INPUTS TAG REPEAT
  kiln run "$1" denoise --device "$DEVICE" --inputs "$2" --outputs "$LOG/$3.out.safetensors" \
    --repeat "$4" 2> "$LOG/kiln.$3.log" || fail "kiln run $3"
  grep 'runs, dispatches per run' "$LOG/kiln.$3.log" | sed 's/^/kiln /'
  kiln run "$1" denoise --device "$DEVICE" --inputs "$2" --outputs "$LOG/$3.out.safetensors" \
    --timing 2> "$LOG/kiln.$3.timing.log" >/dev/null
  echo "slowest dispatches (ms, waited for one by one):"
  grep -E '^[0-9]+ ' "$LOG/kiln.$3.timing.log" | sort -k4 -n -r | head -8
}
if [[ -f $B/full.kiln.pack && "$DEVICE" == cuda ]]; then
  echo "== benchmark: FLUX.1-dev shape, 4096 image + 512 text tokens"
  python3 bench/gpu/sparse_pack.py unpack "$B/full.kiln.pack" /tmp/full.kiln || fail "unpack full.kiln"
  kiln_bench /tmp/full.kiln "$B/full_inputs.safetensors" full 6
  rm -f /tmp/full.kiln
  [[ $torch_ok == 1 ]] && torch_bench 150 --config full --image-tokens 4096 --text-tokens 512 \
    --variants bf16-eager | tee "$LOG/torch.full.log"
fi
if [[ -f $B/medium.kiln.gz && "$DEVICE" == cuda ]]; then  # compiled for CUDA only
  echo "== benchmark: medium FLUX transformer, 1024 image + 256 text tokens"
  gunzip -c "$B/medium.kiln.gz" > /tmp/medium.kiln
  kiln_bench /tmp/medium.kiln "$B/medium_case.safetensors" medium 12
  rm -f /tmp/medium.kiln
  [[ $torch_ok == 1 ]] && torch_bench 150 --config medium --medium-config "$B/medium_config.json" \
    --variants bf16-eager,f32-eager | tee "$LOG/torch.medium.log"
fi
if [[ $torch_ok == 1 && "${COMPILE:-1}" == 1 ]]; then
  echo "== torch.compile (last: it takes the longest)"
  torch_bench 120 --config medium --medium-config "$B/medium_config.json" \
    --variants bf16-compile | tee -a "$LOG/torch.medium.log"
  torch_bench 150 --config full --image-tokens 4096 --text-tokens 512 \
    --variants bf16-compile | tee -a "$LOG/torch.full.log"
fi

echo "== $([[ $failed == 0 ]] && echo 'all checks passed' || echo 'some checks FAILED')"
exit $failed
