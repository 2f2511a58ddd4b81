# Sourced by the benchmark scripts: wait_quiet waits (up to QUIET_WAIT_S
# seconds, default 600) until other processes keep fewer than 0.15 cores
# busy. This machine has 2 cores, and a build beside a benchmark halves it.

# CPU cores other processes keep busy, sampled over 3 s (from /proc/stat).
busy_cores() {
  local a b
  a=$(awk '/^cpu /{print $2+$3+$4+$7+$8}' /proc/stat)
  sleep 3
  b=$(awk '/^cpu /{print $2+$3+$4+$7+$8}' /proc/stat)
  awk -v a="$a" -v b="$b" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.2f", (b - a) / hz / 3}'
}

wait_quiet() {
  local start=$SECONDS c
  while :; do
    c=$(busy_cores)
    if awk -v c="$c" 'BEGIN{exit !(c < 0.15)}'; then
      echo "machine quiet (${c} cores busy, load $(cut -d' ' -f1-3 /proc/loadavg))"
      return
    fi
    if (( SECONDS - start >= ${QUIET_WAIT_S:-600} )); then
      echo "WARNING: machine still busy (${c} cores) after ${QUIET_WAIT_S:-600} s; measuring anyway"
      return
    fi
    echo "waiting: other processes use ${c} cores"; sleep 12
  done
}
