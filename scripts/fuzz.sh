#!/usr/bin/env bash
# Runs every libFuzzer target of bootbank-fuzz (built by `make fuzz`) for FUZZ_SECONDS each, over
# its seeds (scripts/fuzz-seeds.py) and a corpus kept between runs, and prints one line per target:
# executions, coverage (libFuzzer's cov: edges, ft: features), corpus size, and the verdict.
# Exits 1 when any target crashes, hangs (-timeout) or allocates without bound (-rss_limit_mb,
# -malloc_limit_mb); the input is saved under FUZZ_DIR/crashes/.
#
# FUZZ_SECONDS   seconds per target (default 30)
# FUZZ_RUNS      executions per target, stopping a target earlier than FUZZ_SECONDS (default: no
#                limit), e.g. FUZZ_RUNS=1000000 FUZZ_SECONDS=3600 for the 10^6 goal
# FUZZ_TARGETS   targets to run (default: all)
# FUZZ_DIR       work folder (default .build-fuzz)
# FUZZ_JOBS      targets run at once (default 1)
# FUZZ_CONFIG    the build configuration make fuzz built (default release)
# ASAN_OPTIONS   default: no leak check (the Swift runtime's caches live for the process), no
#                allocation stacks in reports (recording them took most of the time; re-run a
#                saved input with ASAN_OPTIONS=detect_leaks=0 to get them), and a 64 MiB
#                quarantine of freed memory instead of 256 MiB (the 256 MiB default made every
#                target's RSS grow by that much and each new allocation fault in fresh pages)
set -u
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
FUZZ_RUNS=${FUZZ_RUNS:--1}
FUZZ_DIR=${FUZZ_DIR:-.build-fuzz}
FUZZ_JOBS=${FUZZ_JOBS:-1}
FUZZ_CONFIG=${FUZZ_CONFIG:-release}
BIN=$FUZZ_DIR/$FUZZ_CONFIG/bootbank-fuzz
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:malloc_context_size=0:quarantine_size_mb=64}
ALL="partition-table fat boot-config loader-replay archive image-database"
TARGETS=${FUZZ_TARGETS:-$ALL}

max_len() {
  case $1 in
    partition-table) echo 139264 ;;  # MBR, GPT header and entries at 4096 bytes per sector
    fat) echo 524288 ;;
    archive) echo 65536 ;;
    *) echo 16384 ;;
  esac
}

run_one() {
  local target=$1
  local corpus=$FUZZ_DIR/corpus/$target seeds=$FUZZ_DIR/seeds/$target log=$FUZZ_DIR/logs/$target.log
  mkdir -p "$corpus" "$seeds" "$FUZZ_DIR/crashes" "$FUZZ_DIR/logs"
  BOOTBANK_FUZZ_TARGET=$target /usr/bin/time -f '%U %S' -o "$FUZZ_DIR/logs/$target.cpu" "$BIN" \
    -max_total_time="$FUZZ_SECONDS" -runs="$FUZZ_RUNS" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 \
    -max_len="$(max_len "$target")" -print_final_stats=1 -print_pcs=0 \
    -artifact_prefix="$FUZZ_DIR/crashes/$target-" "$corpus" "$seeds" >"$log" 2>&1
  local status=$?
  local execs cov ft units
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  units=$(find "$corpus" -type f | wc -l)
  # Executions per CPU second: what the target gives on an idle core, whatever the load.
  local cpu
  cpu=$(awk 'END {printf "%.0f", $1 + $2}' "$FUZZ_DIR/logs/$target.cpu" 2>/dev/null)
  local verdict=ok
  if [ "$status" -ne 0 ]; then verdict="FAILED (exit $status, see $log)"; fi
  local rate=?
  if [ -n "${execs:-}" ] && [ "${cpu:-0}" -gt 0 ]; then rate=$((execs / cpu)); fi
  printf '%-16s execs %-10s cov %-6s ft %-7s corpus %-6s cpu %-5s execs/cpu-s %-6s %s\n' "$target" "${execs:-?}" \
    "${cov:-?}" "${ft:-?}" "$units" "${cpu:-?}" "$rate" "$verdict"
  return "$status"
}

[ -x "$BIN" ] || { echo "fuzz.sh: $BIN is missing: run make fuzz" >&2; exit 2; }
failed=0
pids=()
for target in $TARGETS; do
  run_one "$target" &
  pids+=($!)
  if [ "${#pids[@]}" -ge "$FUZZ_JOBS" ]; then
    wait "${pids[0]}" || failed=1
    pids=("${pids[@]:1}")
  fi
done
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
uptime
exit $failed
