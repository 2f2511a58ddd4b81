#!/usr/bin/env bash
# Kiln's half of issue 4's benchmark (see bench/README.md): compiles the medium
# FLUX transformer with kiln-compile, runs its denoise step with `kiln run`
# WARMUP + RUNS times in one process, and prints the median timed step, GFLOP/s (499.08 GFLOP analytic
# work per step), the fraction of the measured GEMM ceiling, the peak RSS
# (/usr/bin/time -v) and a per-kernel-kind breakdown (bench/kernel_kinds.py).
# It also checks the output against diffusers' `out.sample` in the case file.
#
#   bench/bench_kiln.sh                  # THREADS=2 WARMUP=2 RUNS=7, logs in build/bench/kiln
#   RECOMPILE=0 bench/bench_kiln.sh      # reuse build/bench/medium.kiln
#
# Nothing here is part of the CMake build or ctest. Needs build/bin/kiln and
# build/bin/kiln-compile (ninja -C build kiln kiln-compile) and the medium
# model (made here with the reference venv when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=${THREADS:-2}
RUNS=${RUNS:-7}
WARMUP=${WARMUP:-2}
RECOMPILE=${RECOMPILE:-1}
PY=${PY:-$HOME/.venvs/kiln-ref/bin/python}
BIN=${BIN:-build/bin}
# The compiler may come from another build (bench/compare.sh's BEFORE_COMPILE:
# the same runtime on an artifact of an earlier compiler).
COMPILE=${COMPILE:-$BIN/kiln-compile}
# kiln-compile --weights (f32, bf16, fp8-e4m3): the storage of the linears'
# weights.
# Passed only when not f32, so that a compiler from before the flag (the
# BEFORE_COMPILE side of bench/compare.sh) still runs.
WEIGHTS=${WEIGHTS:-f32}
WEIGHT_FLAGS=()
[[ "$WEIGHTS" == f32 ]] || WEIGHT_FLAGS=(--weights="$WEIGHTS")
OUT=${OUT:-build/bench}
MODEL=${MODEL:-$OUT/medium-flux}
CASE=${CASE:-$OUT/cases/transformer/t2i_32x32.safetensors}
ARTIFACT=${ARTIFACT:-$OUT/medium.kiln}
LOGS=${LOGS:-$OUT/kiln}
GFLOP=${GFLOP:-499.08}
# The higher of the two OpenBLAS ceilings measured by bench/run.sh (GFLOP/s).
CEILING=${CEILING:-$( { cat "$OUT"/gemm_ceiling.*.json 2>/dev/null || true; } | { grep -o '"ceiling_gflops": *[0-9.]*' || true; } | awk -F: '$2>m{m=$2} END{print m+0}')}
[[ "$CEILING" == 0 || -z "$CEILING" ]] && CEILING=156.5
QUIET_WAIT_S=${QUIET_WAIT_S:-600}
mkdir -p "$LOGS"

source bench/quiet.sh   # busy_cores, wait_quiet (the scripts run from the repository root)

if [[ ! -f "$MODEL/transformer/config.json" || ! -f "$CASE" ]]; then
  "$PY" bench/make_medium_flux.py "$MODEL" --case "$CASE"
fi

if [[ "$RECOMPILE" == 1 || ! -f "$ARTIFACT" ]]; then
  /usr/bin/time -v "$COMPILE" "$MODEL" --component=transformer \
      --target="${TARGET:-cpu}" "${WEIGHT_FLAGS[@]}" -v -o "$ARTIFACT" 2>&1 | tee "$LOGS/compile.log" \
      | grep -E "kiln-compile:|Elapsed|Maximum resident"
  "$COMPILE" "$MODEL" --component=transformer "${WEIGHT_FLAGS[@]}" --emit=dispatches \
      -o "$LOGS/dispatches.mlir"
fi

# The same protocol as the reference (bench_reference.py): one process, a
# quiet-wait, WARMUP untimed steps, then RUNS timed ones. The warm-up pays for
# what a long-lived process pays once: faulting in the mapped weights and the
# arena's pages (about 7 % of a first step here).
rm -f "$LOGS"/run*.log
wait_quiet
/usr/bin/time -v "$BIN/kiln" run "$ARTIFACT" denoise --inputs "$CASE" \
    --outputs "$LOGS/out.safetensors" --threads "$THREADS" --timing \
    --repeat $((WARMUP + RUNS)) > "$LOGS/run1.log" 2>&1
read -r -a all < <(sed -n 's/^[0-9]* runs, dispatches per run (ms): \([0-9. ]*\);.*/\1/p' "$LOGS/run1.log")
[[ ${#all[@]} == $((WARMUP + RUNS)) ]] || { echo "kiln run failed, see $LOGS/run1.log" >&2; exit 1; }
times=("${all[@]:$WARMUP}")
echo "warm-up steps (ms): ${all[*]:0:$WARMUP}"
rss=$(grep -h 'Maximum resident' "$LOGS/run1.log" | awk '{print $NF}')
for i in "${!times[@]}"; do
  echo "run $((i + 1)): step (all dispatches) ${times[$i]} ms, peak RSS ${rss} KiB (the process's)"
done
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END{print (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}')
awk -v ms="$median" -v g="$GFLOP" -v c="$CEILING" -v rss="$rss" -v t="$THREADS" 'BEGIN{
  s = ms / 1000; printf "kiln denoise step, %d threads: median %.3f s, %.1f GFLOP/s, %.0f %% of the %.1f GFLOP/s ceiling, peak RSS %.0f MiB\n", t, s, g / s, 100 * g / s / c, c, rss / 1024 }'

if [[ -x "$PY" ]]; then
  "$PY" - "$LOGS/out.safetensors" "$CASE" <<'EOF'
import sys
import numpy as np
from safetensors.numpy import load_file
a = load_file(sys.argv[1])["out.sample"]
r = load_file(sys.argv[2])["out.sample"]
print(f"max |kiln - diffusers| / max |diffusers| = {np.abs(a - r).max() / np.abs(r).max():.2e}")
EOF
fi
python3 bench/kernel_kinds.py "$LOGS/dispatches.mlir" "$LOGS"/run*.log
