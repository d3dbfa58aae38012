#!/usr/bin/env bash
# make bench: `bootbank image` (with its bmap and SHA-256 per range) against `cp --sparse=always`
# and `bmaptool create` + `bmaptool copy`, on the same device image, sparse and dense, in the
# same run, interleaved, REPS repetitions; then `bootbank restore` of that image and bmap against
# `bmaptool copy` of the same, onto the same dense target file; prints median wall times, ratios,
# the output's allocated size, and the load.
#
#   Benchmarks/bench-image.sh                  # images/esxi7-real-layout.img, 3 repetitions
#   REPS=5 IMAGE=path/to/device.img Benchmarks/bench-image.sh
#
# Data (made once, kept in $BENCH_DIR, default ./bench-data, git-ignored): dense.img, a copy of
# IMAGE with every hole written as zeros (what a real device looks like to a reader). Every
# input is read once before timing, so every run sees a warm page cache.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
REPS=${REPS:-3}
IMAGE=${IMAGE:-$ROOT/images/esxi7-real-layout.img}
BENCH_DIR=${BENCH_DIR:-$ROOT/bench-data}
mkdir -p "$BENCH_DIR"
DENSE=$BENCH_DIR/dense.img
OUTDIR=$BENCH_DIR/image-out
RAW=$BENCH_DIR/image-raw.tsv

need() { command -v "$1" >/dev/null 2>&1 || { echo "bench: $1 is required ($2)" >&2; exit 2; }; }
need bmaptool "apt-get install bmap-tools"
[ -f "$IMAGE" ] || { echo "bench: $IMAGE is missing (make images)" >&2; exit 2; }

BIN=${BIN:-}
if [ -z "$BIN" ]; then
  echo "bench: building the release binary" >&2
  swift build -c release --product bootbank >&2
  BIN=$(swift build -c release --show-bin-path)
fi
BOOTBANK=$BIN/bootbank

if [ ! -f "$DENSE" ] || [ "$(stat -c %s "$DENSE")" -ne "$(stat -c %s "$IMAGE")" ]; then
  cp --sparse=never "$IMAGE" "$DENSE"
fi
cat "$IMAGE" "$DENSE" >/dev/null

run() { # NAME CMD...: one timed run, output removed first; appends "NAME wall" to $RAW.
  local name=$1
  shift
  rm -rf "$OUTDIR" && mkdir -p "$OUTDIR"
  local t0 t1
  t0=$(date +%s%N)
  "$@" >/dev/null 2>&1
  t1=$(date +%s%N)
  echo "$name $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.4f", (b-a)/1e9}')" >>"$RAW"
}
bmap_both() { # IMAGE: bmaptool create, then copy with that bmap
  bmaptool create -o "$OUTDIR/x.bmap" "$1" && bmaptool copy --bmap "$OUTDIR/x.bmap" "$1" "$OUTDIR/copy.img"
}

: >"$RAW"
for rep in $(seq "$REPS"); do
  echo "bench: repetition $rep" >&2
  for kind in sparse dense; do
    src=$IMAGE
    [ "$kind" = dense ] && src=$DENSE
    run "bootbank-image/$kind" "$BOOTBANK" image "$src" -o "$OUTDIR/out.img"
    run "bootbank-image-gz/$kind" "$BOOTBANK" image "$src" -o "$OUTDIR/out.img.gz"
    run "bootbank-image-zst/$kind" "$BOOTBANK" image "$src" -o "$OUTDIR/out.img.zst"
    run "cp-sparse/$kind" cp --sparse=always "$src" "$OUTDIR/out.img"
    run "bmaptool/$kind" bmap_both "$src"
  done
done

# Restore: the image of the dense copy and its bmap, written onto a dense target file (what a
# device looks like), by bootbank restore (check, plan, write, barriers, read-back) and by
# bmaptool copy (which checks each range as it writes, then syncs).
RESTORE_DIR=$BENCH_DIR/restore-in
TARGET=$BENCH_DIR/restore-target.img
rm -rf "$RESTORE_DIR" && mkdir -p "$RESTORE_DIR"
"$BOOTBANK" image "$DENSE" -o "$RESTORE_DIR/in.img" >/dev/null
"$BOOTBANK" image "$DENSE" -o "$RESTORE_DIR/in.img.zst" --bmap "$RESTORE_DIR/zst.bmap" >/dev/null
[ -f "$TARGET" ] && [ "$(stat -c %s "$TARGET")" -eq "$(stat -c %s "$DENSE")" ] || cp --sparse=never "$DENSE" "$TARGET"
restore_run() { # NAME CMD...: like run, but keeps the input and the target
  local name=$1
  shift
  rm -rf "$OUTDIR" && mkdir -p "$OUTDIR"
  local t0 t1
  t0=$(date +%s%N)
  "$@" >/dev/null 2>&1 || echo "bench: $name failed" >&2
  t1=$(date +%s%N)
  echo "$name $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.4f", (b-a)/1e9}')" >>"$RAW"
}
for rep in $(seq "$REPS"); do
  echo "bench: restore repetition $rep" >&2
  restore_run "bootbank-restore/raw" "$BOOTBANK" restore "$RESTORE_DIR/in.img" "$TARGET" --no-backup --yes \
    --undo "$OUTDIR/undo"
  restore_run "bmaptool-copy/raw" bmaptool copy --bmap "$RESTORE_DIR/in.img.bmap" "$RESTORE_DIR/in.img" "$TARGET"
  restore_run "bootbank-restore/zst" "$BOOTBANK" restore "$RESTORE_DIR/in.img.zst" "$TARGET" \
    --bmap "$RESTORE_DIR/zst.bmap" --no-backup --yes --undo "$OUTDIR/undo"
  restore_run "bmaptool-copy/zst" bmaptool copy --bmap "$RESTORE_DIR/zst.bmap" "$RESTORE_DIR/in.img.zst" "$TARGET"
done
mapped=$(python3 -c 'import re,sys; t=open(sys.argv[1]).read(); print(int(re.search(r"<MappedBlocksCount> *(\d+)", t).group(1)) * 4096)' "$RESTORE_DIR/in.img.bmap")

rm -rf "$OUTDIR" && mkdir -p "$OUTDIR"
"$BOOTBANK" image "$DENSE" -o "$OUTDIR/out.img" --json >"$OUTDIR/summary.json"
allocated=$(($(stat -c %b "$OUTDIR/out.img") * $(stat -c %B "$OUTDIR/out.img")))
read_bytes=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["bytesRead"])' "$OUTDIR/summary.json")

median() { awk -v n="$1" '$1==n {print $2}' "$RAW" | sort -g | awk '{a[NR]=$1} END{if(NR%2){print a[(NR+1)/2]} else {print (a[NR/2]+a[NR/2+1])/2}}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b>0) printf "%.2f", a/b; else print "nan"}'; }
{
  echo "## bootbank image, run of $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "Image: $(basename "$IMAGE"), $(stat -c %s "$IMAGE") bytes apparent; $REPS repetitions, median wall" \
    "seconds, warm page cache. Load: $(uptime | sed 's/.*load average/load average/')"
  echo
  echo "| input | bootbank image | bootbank image .gz | bootbank image .zst | cp --sparse=always | bmaptool create + copy | image / cp | image / bmaptool |"
  echo "|---|---|---|---|---|---|---|---|"
  for kind in sparse dense; do
    a=$(median "bootbank-image/$kind")
    g=$(median "bootbank-image-gz/$kind")
    z=$(median "bootbank-image-zst/$kind")
    c=$(median "cp-sparse/$kind")
    b=$(median "bmaptool/$kind")
    echo "| $kind | $a | $g | $z | $c | $b | $(ratio "$a" "$c") | $(ratio "$a" "$b") |"
  done
  echo
  echo "Image of the dense copy: $read_bytes bytes read, $allocated bytes allocated."
  echo
  echo "Restore of that image ($mapped bytes mapped) onto a dense target file:"
  echo
  echo "| image | bootbank restore (incl. read-back) | bmaptool copy | restore / bmaptool |"
  echo "|---|---|---|---|"
  for kind in raw zst; do
    r=$(median "bootbank-restore/$kind")
    b=$(median "bmaptool-copy/$kind")
    echo "| $kind | $r | $b | $(ratio "$r" "$b") |"
  done
} | tee "$BENCH_DIR/image-last-run.md"
