#!/usr/bin/env bash
# Issue 4's claim-proof benchmark: the diffusers denoise step and Kiln's, in
# one invocation on the same machine, each after a quiet-wait, then both
# medians side by side with GFLOP/s, share of the GEMM ceiling, peak RSS and
# the ratio. Performance may be claimed only from this output (both halves
# come from the same run).
#
#   bench/compare.sh                         # THREADS=2, REF_RUNS=7, KILN_RUNS=7, WARMUP=2 (both)
#   RECOMPILE=0 bench/compare.sh             # reuse build/bench/medium.kiln
#
# Needs what bench/run.sh and bench/bench_kiln.sh need (reference venv, the
# medium model, build/bin/kiln + kiln-compile). The GEMM ceiling is the one
# bench/run.sh last measured (build/bench/gemm_ceiling.*.json), 156.5 GFLOP/s
# when none is there. Logs in $OUT/compare/.
set -euo pipefail
cd "$(dirname "$0")/.."
export THREADS=${THREADS:-2}
REF_RUNS=${REF_RUNS:-7}
KILN_RUNS=${KILN_RUNS:-7}
WARMUP=${WARMUP:-2}
export PY=${PY:-$HOME/.venvs/kiln-ref/bin/python}
export OUT=${OUT:-build/bench}
export MODEL=${MODEL:-$OUT/medium-flux}
export CASE=${CASE:-$OUT/cases/transformer/t2i_32x32.safetensors}
LOG=$OUT/compare
mkdir -p "$LOG"
GFLOP=499.08
CEILING=$(cat "$OUT"/gemm_ceiling.*.json 2>/dev/null | grep -o '"ceiling_gflops": *[0-9.]*' | awk -F: '$2>m{m=$2} END{print m+0}')
[[ "$CEILING" == 0 || -z "$CEILING" ]] && CEILING=156.5
export CEILING

source bench/quiet.sh   # busy_cores, wait_quiet

echo "== $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, $THREADS threads, git $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- compiler runtime || echo '+dirty')"

# 1. diffusers (its own quiet checks run per step; wait once before it).
wait_quiet
echo "== diffusers denoise step"
"$PY" bench/bench_reference.py --model "$MODEL" --case "$CASE" --threads "$THREADS" \
  --warmup "$WARMUP" --runs "$REF_RUNS" --ceiling "$CEILING" > "$LOG/reference.log" 2>&1 \
  || { cat "$LOG/reference.log"; exit 1; }
grep -v '^{' "$LOG/reference.log" | grep -E 'denoise step|achieved|ceiling|peak RSS|output vs|machine' || true
grep '^{' "$LOG/reference.log" | tail -1 > "$LOG/reference.json"

# 2. Kiln (bench_kiln.sh quiet-waits before each run).
echo "== kiln denoise step"
RUNS=$KILN_RUNS WARMUP=$WARMUP LOGS=$LOG/kiln bash bench/bench_kiln.sh > "$LOG/kiln.log" 2>&1 \
  || { cat "$LOG/kiln.log"; exit 1; }
grep -E '^warm-up|^run |^kiln denoise|^max \||kiln-compile:|Elapsed|Maximum resident' "$LOG/kiln.log" || true

# 3. Side by side.
"$PY" - "$LOG/reference.json" "$LOG/kiln.log" "$GFLOP" "$CEILING" <<'PYEOF'
import json, re, statistics, sys
ref = json.load(open(sys.argv[1]))
log = open(sys.argv[2]).read()
gflop, ceiling = float(sys.argv[3]), float(sys.argv[4])
runs = [float(x) / 1000 for x in re.findall(r"^run \d+: step \(all dispatches\) ([0-9.]+) ms", log, re.M)]
rss = max(int(x) for x in re.findall(r"^run \d+: .*peak RSS (\d+) KiB", log, re.M)) * 1024
k_med, r_med = statistics.median(runs), ref["median_s"]
row = "{:10s} {:>9s} {:>8s} {:>9s} {:>10s} {:>10s}"
print("== same run, same machine")
print(row.format("", "median s", "best s", "GFLOP/s", "% ceiling", "peak RSS"))
print(row.format("diffusers", f"{r_med:.3f}", f"{ref['min_s']:.3f}", f"{gflop / r_med:.1f}",
                 f"{100 * gflop / r_med / ceiling:.0f} %", f"{ref['peak_rss_bytes'] / 2**20:.0f} MiB"))
print(row.format("kiln", f"{k_med:.3f}", f"{min(runs):.3f}", f"{gflop / k_med:.1f}",
                 f"{100 * gflop / k_med / ceiling:.0f} %", f"{rss / 2**20:.0f} MiB"))
print(f"kiln / diffusers time: {k_med / r_med:.3f} (kiln is {r_med / k_med:.2f}x diffusers' speed; "
      f"target 1.25x = {r_med / 1.25:.3f} s); ceiling {ceiling:.1f} GFLOP/s (OpenBLAS fp32 GEMM), {gflop} GFLOP per step")
PYEOF
