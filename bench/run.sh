#!/usr/bin/env bash
# The reference half of issue 4's benchmark, in one run (see bench/README.md):
#   1. builds build/bench/gemm_ceiling (OpenBLAS; installs libopenblas-dev if missing),
#   2. makes the medium model + input case if they are missing,
#   3. measures the fp32 GEMM ceiling twice: as the environment is, and with
#      OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset (in that command alone),
#   4. runs the diffusers denoise step against the higher of the two ceilings.
# One heavy process at a time; before each measurement it waits (up to
# QUIET_WAIT_S seconds) until other processes use less than 0.15 cores.
# Logs and JSON lines go to $OUT (default build/bench).
#
#   bench/run.sh                      # THREADS=2 RUNS=7 WARMUP=2
#   THREADS=1 RUNS=5 bench/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=${THREADS:-2}
RUNS=${RUNS:-7}
WARMUP=${WARMUP:-2}
PY=${PY:-$HOME/.venvs/kiln-ref/bin/python}
OUT=${OUT:-build/bench}
MODEL=${MODEL:-$OUT/medium-flux}
CASE=${CASE:-$OUT/cases/transformer/t2i_32x32.safetensors}
QUIET_WAIT_S=${QUIET_WAIT_S:-600}
mkdir -p "$OUT"

now() { date +%s.%N; }
took() { awk -v a="$2" -v b="$(now)" -v n="$1" 'BEGIN{printf "[%s took %.1f s]\n", n, b - a}'; }

source bench/quiet.sh   # busy_cores, wait_quiet (the scripts run from the repository root)

t=$(now)
if ! dpkg -s libopenblas-dev >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq libopenblas-dev
fi
g++ -O2 -std=c++17 bench/gemm_ceiling.cc -o "$OUT/gemm_ceiling" -lopenblas
took "build gemm_ceiling" "$t"

if [[ ! -f "$MODEL/transformer/config.json" || ! -f "$CASE" ]]; then
  t=$(now)
  "$PY" bench/make_medium_flux.py "$MODEL" --case "$CASE" | tee "$OUT/make_medium_flux.log"
  took "make_medium_flux" "$t"
fi

wait_quiet
t=$(now)
echo "== fp32 GEMM ceiling, environment as it is (OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE-unset} OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE-unset})"
OPENBLAS_NUM_THREADS=$THREADS "$OUT/gemm_ceiling" | tee "$OUT/gemm_ceiling.env.log"
grep '^{' "$OUT/gemm_ceiling.env.log" > "$OUT/gemm_ceiling.env.json"
took "gemm_ceiling (env)" "$t"

wait_quiet
t=$(now)
echo "== fp32 GEMM ceiling, OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset"
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=$THREADS "$OUT/gemm_ceiling" \
  | tee "$OUT/gemm_ceiling.unset.log"
grep '^{' "$OUT/gemm_ceiling.unset.log" > "$OUT/gemm_ceiling.unset.json"
took "gemm_ceiling (unset)" "$t"

wait_quiet
t=$(now)
echo "== diffusers denoise step"
"$PY" bench/bench_reference.py --model "$MODEL" --case "$CASE" --threads "$THREADS" \
  --warmup "$WARMUP" --runs "$RUNS" \
  --ceiling-json "$OUT/gemm_ceiling.env.json" "$OUT/gemm_ceiling.unset.json" \
  | tee "$OUT/reference.log"
grep '^{' "$OUT/reference.log" > "$OUT/reference.json"
took "bench_reference" "$t"
