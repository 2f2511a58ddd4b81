#!/usr/bin/env bash
# Issue 4's claim-proof benchmark: the diffusers denoise step and Kiln's, in
# one invocation on the same machine, each after a quiet-wait, then both
# medians side by side with GFLOP/s, share of the GEMM ceiling, peak RSS and
# the ratio. Performance may be claimed only from this output (both halves
# come from the same run).
#
#   bench/compare.sh                         # THREADS=2, ROUNDS=2, REF_RUNS=7, KILN_RUNS=7, WARMUP=2 (both)
#   RECOMPILE=0 bench/compare.sh             # reuse build/bench/medium.kiln
#   WEIGHTS=bf16 bench/compare.sh            # both sides with bf16 weights:
#                                            # diffusers in torch.bfloat16,
#                                            # Kiln --weights=bf16 (f32 math)
#   WEIGHTS=fp8-e4m3 bench/compare.sh        # Kiln --weights=fp8-e4m3 against
#                                            # diffusers in torch.bfloat16
#   WEIGHTS=bf16 ALSO_WEIGHTS=fp8-e4m3 bench/compare.sh
#                                            # one more Kiln side per format
#   TARGET=cpu,cpu-x86_64-avx512bf16 bench/compare.sh
#                                            # kiln-compile --target (default
#                                            # cpu) for every Kiln side
#   ALSO_CPU_TARGETS=cpu-x86_64-avx2 bench/compare.sh
#                                            # the same artifact once more
#                                            # per CPU level named (the
#                                            # runtime's KILN_CPU_TARGET)
#   BEFORE_COMPILE=/path/kiln-compile bench/compare.sh
#                                            # a third side: the same kiln
#                                            # binary on an artifact of an
#                                            # earlier compiler (before/after)
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
ROUNDS=${ROUNDS:-2}
export PY=${PY:-$HOME/.venvs/kiln-ref/bin/python}
export OUT=${OUT:-build/bench}
export MODEL=${MODEL:-$OUT/medium-flux}
export CASE=${CASE:-$OUT/cases/transformer/t2i_32x32.safetensors}
export WEIGHTS=${WEIGHTS:-f32}
case "$WEIGHTS" in
  f32) REF_DTYPE=float32; SUFFIX= ;;
  bf16) REF_DTYPE=bfloat16; SUFFIX=-bf16 ;;
  fp8-e4m3) REF_DTYPE=bfloat16; SUFFIX=-fp8 ;;  # against diffusers in bf16
  *) echo "WEIGHTS must be f32, bf16 or fp8-e4m3" >&2; exit 2 ;;
esac
export ARTIFACT=${ARTIFACT:-$OUT/medium$SUFFIX.kiln}
# Extra Kiln sides: "before" (BEFORE_COMPILE) and each of ALSO_WEIGHTS.
EXTRA_SIDES=()
[[ -n "${BEFORE_COMPILE:-}" ]] && EXTRA_SIDES+=(before)
IFS=, read -r -a also <<< "${ALSO_WEIGHTS:-}"
for w in "${also[@]}"; do
  case "$w" in f32|bf16|fp8-e4m3) EXTRA_SIDES+=("$w") ;;
    *) echo "ALSO_WEIGHTS: $w is not f32, bf16 or fp8-e4m3" >&2; exit 2 ;; esac
done
IFS=, read -r -a levels <<< "${ALSO_CPU_TARGETS:-}"
for l in "${levels[@]}"; do EXTRA_SIDES+=("$l"); done
LOG=$OUT/compare
mkdir -p "$LOG"
GFLOP=499.08
CEILING=$( { cat "$OUT"/gemm_ceiling.*.json 2>/dev/null || true; } | { grep -o '"ceiling_gflops": *[0-9.]*' || true; } | awk -F: '$2>m{m=$2} END{print m+0}')
[[ "$CEILING" == 0 || -z "$CEILING" ]] && CEILING=156.5
export CEILING

source bench/quiet.sh   # busy_cores, wait_quiet

# The reference side runs first and needs the model (bench_kiln.sh would make
# it only after).
if [[ ! -f "$MODEL/transformer/config.json" || ! -f "$CASE" ]]; then
  "$PY" bench/make_medium_flux.py "$MODEL" --case "$CASE"
fi

echo "== $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, $THREADS threads, weights $WEIGHTS, git $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- compiler runtime || echo '+dirty')"
echo "== cpu flags: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx2|fma|avx512f|avx512_bf16|amx_bf16|amx_tile)$' | tr '\n' ' ')"

# The machine's speed drifts by 10-20 % over minutes (a plain FMA loop
# measured 174-197 GFLOP/s within one minute), so the two halves alternate,
# ROUNDS times (diffusers, Kiln, diffusers, Kiln, ...), and each side's
# timed steps are pooled over the rounds.
for round in $(seq 1 "$ROUNDS"); do
  # 1. diffusers (its own quiet checks run per step; wait once before it).
  wait_quiet
  echo "== round $round: diffusers denoise step"
  "$PY" bench/bench_reference.py --model "$MODEL" --case "$CASE" --threads "$THREADS" \
    --warmup "$WARMUP" --runs "$REF_RUNS" --ceiling "$CEILING" --dtype "$REF_DTYPE" \
    > "$LOG/reference.$round.log" 2>&1 \
    || { cat "$LOG/reference.$round.log"; exit 1; }
  grep -v '^{' "$LOG/reference.$round.log" | grep -E 'denoise step|achieved|ceiling|peak RSS|output vs|machine' || true
  grep '^{' "$LOG/reference.$round.log" | tail -1 > "$LOG/reference.$round.json"

  # 2. Kiln (bench_kiln.sh quiet-waits before its run; compiles in round 1).
  echo "== round $round: kiln denoise step"
  [[ $round -gt 1 ]] && export RECOMPILE=0
  RUNS=$KILN_RUNS WARMUP=$WARMUP LOGS=$LOG/kiln bash bench/bench_kiln.sh > "$LOG/kiln.$round.log" 2>&1 \
    || { cat "$LOG/kiln.$round.log"; exit 1; }
  cp "$LOG/kiln/run1.log" "$LOG/kiln/round$round.log"
  grep -E '^warm-up|^run |^kiln denoise|^max \||kiln-compile:|Elapsed|Maximum resident' "$LOG/kiln.$round.log" || true

  # 3. Optionally more Kiln sides: the earlier compiler's artifact, other
  # weight formats (same kiln binary, same quiet-wait protocol).
  for side in "${EXTRA_SIDES[@]}"; do
    echo "== round $round: kiln denoise step, $side"
    if [[ "$side" == cpu-* ]]; then
      # The main side's artifact, so its dispatch list too.
      mkdir -p "$LOG/kiln-$side" && cp "$LOG/kiln/dispatches.mlir" "$LOG/kiln-$side/"
      KILN_CPU_TARGET=$side RECOMPILE=0 RUNS=$KILN_RUNS WARMUP=$WARMUP \
        LOGS=$LOG/kiln-$side bash bench/bench_kiln.sh \
        > "$LOG/kiln-$side.$round.log" 2>&1 || { cat "$LOG/kiln-$side.$round.log"; exit 1; }
    elif [[ "$side" == before ]]; then
      COMPILE=$BEFORE_COMPILE ARTIFACT=$OUT/medium-before$SUFFIX.kiln RUNS=$KILN_RUNS \
        WARMUP=$WARMUP LOGS=$LOG/kiln-before bash bench/bench_kiln.sh \
        > "$LOG/kiln-$side.$round.log" 2>&1 || { cat "$LOG/kiln-$side.$round.log"; exit 1; }
    else
      WEIGHTS=$side ARTIFACT=$OUT/medium-$side.kiln RUNS=$KILN_RUNS WARMUP=$WARMUP \
        LOGS=$LOG/kiln-$side bash bench/bench_kiln.sh \
        > "$LOG/kiln-$side.$round.log" 2>&1 || { cat "$LOG/kiln-$side.$round.log"; exit 1; }
    fi
    grep -E '^run |^kiln denoise|^max \|' "$LOG/kiln-$side.$round.log" || true
  done
done

# 4. Side by side.
"$PY" - "$LOG" "$ROUNDS" "$GFLOP" "$CEILING" "${EXTRA_SIDES[@]}" <<'PYEOF'
import json, re, statistics, sys
log_dir, rounds = sys.argv[1], int(sys.argv[2])
gflop, ceiling = float(sys.argv[3]), float(sys.argv[4])
sides = sys.argv[5:]
extra = {side: [] for side in sides}
ref_runs, runs, rss, ref_rss = [], [], 0, 0
step_re = r"^run \d+: step \(all dispatches\) ([0-9.]+) ms"
for r in range(1, rounds + 1):
    ref = json.load(open(f"{log_dir}/reference.{r}.json"))
    ref_runs += ref["times_s"]
    ref_rss = max(ref_rss, ref["peak_rss_bytes"])
    log = open(f"{log_dir}/kiln.{r}.log").read()
    mine = [float(x) / 1000 for x in re.findall(step_re, log, re.M)]
    rss = max([rss] + [int(x) * 1024 for x in re.findall(r"^run \d+: .*peak RSS (\d+) KiB", log, re.M)])
    line = (f"round {r}: diffusers median {statistics.median(ref['times_s']):.3f} s, "
            f"kiln median {statistics.median(mine):.3f} s")
    for side in sides:
        theirs = [float(x) / 1000 for x in re.findall(
            step_re, open(f"{log_dir}/kiln-{side}.{r}.log").read(), re.M)]
        line += f", kiln ({side}) median {statistics.median(theirs):.3f} s"
        extra[side] += theirs
    print(line)
    runs += mine
k_med, r_med = statistics.median(runs), statistics.median(ref_runs)
row = "{:10s} {:>9s} {:>8s} {:>9s} {:>10s} {:>10s}"
print(f"== same run, same machine: {len(ref_runs)} diffusers and {len(runs)} Kiln timed steps over {rounds} alternating round(s)")
print(row.format("", "median s", "best s", "GFLOP/s", "% ceiling", "peak RSS"))
print(row.format("diffusers", f"{r_med:.3f}", f"{min(ref_runs):.3f}", f"{gflop / r_med:.1f}",
                 f"{100 * gflop / r_med / ceiling:.0f} %", f"{ref_rss / 2**20:.0f} MiB"))
print(row.format("kiln", f"{k_med:.3f}", f"{min(runs):.3f}", f"{gflop / k_med:.1f}",
                 f"{100 * gflop / k_med / ceiling:.0f} %", f"{rss / 2**20:.0f} MiB"))
for side, steps in extra.items():
    m = statistics.median(steps)
    print(row.format(f"kiln {side}", f"{m:.3f}", f"{min(steps):.3f}", f"{gflop / m:.1f}",
                     f"{100 * gflop / m / ceiling:.0f} %", ""))
    print(f"kiln / kiln {side} time: {k_med / m:.3f}; kiln {side} / diffusers: {m / r_med:.3f} "
          f"({len(steps)} timed steps)")
print(f"kiln / diffusers time: {k_med / r_med:.3f} (kiln is {r_med / k_med:.2f}x diffusers' speed; "
      f"target 1.25x = {r_med / 1.25:.3f} s); ceiling {ceiling:.1f} GFLOP/s (OpenBLAS fp32 GEMM), {gflop} GFLOP per step")
PYEOF
