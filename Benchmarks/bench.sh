#!/usr/bin/env bash
# make bench: bootbank's checksum core against dd, rhash and openssl on the same data, in the
# same run, interleaved, REPS repetitions; prints medians, ratios and the issue-4 targets.
#
#   Benchmarks/bench.sh                 # 4 GiB image + 16 GiB sparse image, 3 repetitions
#   REPS=5 SIZE_MIB=4096 Benchmarks/bench.sh
#   BENCH_DIR=/tmp/bb-bench Benchmarks/bench.sh
#
# Data (made once, kept in $BENCH_DIR, default ./bench-data, git-ignored):
#   image-4g.img    SIZE_MIB MiB of AES-CTR keystream written with dd bs=4M (large page-cache
#                   folios), read once before timing so every run sees a warm page cache
#   sparse-16g.img  16 GiB, all hole (peak-RSS check: must stay flat)
# Until `bootbank checksum` exists, the stand-in is `bootbank-bench file IMG --reader mmap|pread`,
# and rows say so. Output: a Markdown report on stdout, also saved to $BENCH_DIR/last-run.md.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
REPS=${REPS:-3}
SIZE_MIB=${SIZE_MIB:-4096}
SPARSE_GIB=${SPARSE_GIB:-16}
BENCH_DIR=${BENCH_DIR:-$ROOT/bench-data}
mkdir -p "$BENCH_DIR"
IMG=$BENCH_DIR/image-4g.img
SPARSE=$BENCH_DIR/sparse-16g.img
OUT=$BENCH_DIR/last-run.md
RAW=$BENCH_DIR/raw.tsv

need() { command -v "$1" >/dev/null 2>&1 || { echo "bench: $1 is required ($2)" >&2; exit 2; }; }
need rhash "apt-get install rhash"
need openssl "apt-get install openssl"
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time is required (apt-get install time)" >&2; exit 2; }

echo "bench: building release binaries" >&2
swift build -c release --product bootbank-bench >&2
BIN=$(swift build -c release --show-bin-path)
BENCH=$BIN/bootbank-bench
HAVE_CLI=0
if swift build -c release --product bootbank >/dev/null 2>&1 &&
  "$BIN/bootbank" checksum --help 2>&1 | grep -q -- '--algo'; then
  HAVE_CLI=1
fi

# --- data -------------------------------------------------------------------------------------
size_bytes=$((SIZE_MIB * 1024 * 1024))
if [ ! -f "$IMG" ] || [ "$(stat -c %s "$IMG")" -ne "$size_bytes" ]; then
  echo "bench: writing $IMG ($SIZE_MIB MiB, dd bs=4M)" >&2
  openssl enc -aes-128-ctr -pass pass:bootbank-bench -pbkdf2 -nosalt </dev/zero 2>/dev/null |
    dd of="$IMG" bs=4M count=$((SIZE_MIB / 4)) iflag=fullblock status=none || true  # openssl ends on SIGPIPE
  [ "$(stat -c %s "$IMG")" -eq "$size_bytes" ] || { echo "bench: could not write $IMG" >&2; exit 2; }
fi
if [ ! -f "$SPARSE" ]; then
  truncate -s "${SPARSE_GIB}G" "$SPARSE"
fi
cat "$IMG" >/dev/null  # warm the page cache
cache_state=$(command -v fincore >/dev/null && fincore --bytes --noheadings "$IMG" | awk '{print $1}' || echo "?")

# --- runners ----------------------------------------------------------------------------------
# run NAME CMD...: one timed run; appends "NAME wall user sys maxrss_kib" to $RAW.
run() {
  local name=$1
  shift
  local t0 t1 stats
  t0=$(date +%s%N)
  /usr/bin/time -o "$BENCH_DIR/time.out" -f "%U %S %M" "$@" >/dev/null 2>&1
  t1=$(date +%s%N)
  stats=$(tail -1 "$BENCH_DIR/time.out")
  echo "$name $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.4f", (b-a)/1e9}') $stats" >>"$RAW"
}

# The bootbank runs: the CLI when it has `checksum`, else the bench tool's file mode (both readers).
bootbank_cmds() { # ALGO IMAGE -> lines "NAME<TAB>command"
  local algo=$1 image=$2
  if [ "$HAVE_CLI" = 1 ]; then
    printf 'bootbank:%s\t%s\n' "$algo" "$BIN/bootbank checksum $image --algo $algo"
  fi
  # The stand-in readers run either way: they are the two candidates DiskIO chooses between.
  printf 'bench-mmap:%s\t%s\n' "$algo" "$BENCH file $image --reader mmap --algo $algo"
  printf 'bench-pread:%s\t%s\n' "$algo" "$BENCH file $image --reader pread --algo $algo"
}

# --- the digests must agree before anything is timed ----------------------------------------
want_sha=$(openssl dgst -sha256 -r "$IMG" | cut -d' ' -f1)
want_crc=$(rhash --crc32 --printf='%c' "$IMG")
while IFS=$'\t' read -r name cmd; do
  # shellcheck disable=SC2086
  got=$($cmd 2>/dev/null | tr 'A-F' 'a-f')
  for want in "$want_sha" "$want_crc"; do
    case $got in *"$want"*) ;; *) echo "bench: $name does not print $want (got: $got)" >&2; exit 1 ;; esac
  done
done < <(bootbank_cmds crc32,sha256 "$IMG")

: >"$RAW"
echo "bench: $REPS repetitions, interleaved" >&2
for rep in $(seq "$REPS"); do
  echo "bench: repetition $rep" >&2
  run dd dd if="$IMG" of=/dev/null bs=1M
  run rhash:crc32 rhash --crc32 "$IMG"
  run openssl:sha256 openssl dgst -sha256 "$IMG"
  run rhash:crc32,sha256 rhash --crc32 --sha256 "$IMG"
  for algo in crc32 sha256 crc32,sha256; do
    while IFS=$'\t' read -r name cmd; do
      # shellcheck disable=SC2086
      run "$name" $cmd
    done < <(bootbank_cmds "$algo" "$IMG")
  done
done
echo "bench: sparse ${SPARSE_GIB} GiB image (peak RSS)" >&2
while IFS=$'\t' read -r name cmd; do
  # shellcheck disable=SC2086
  run "sparse/$name" $cmd
done < <(bootbank_cmds crc32,sha256 "$SPARSE")

# --- report -----------------------------------------------------------------------------------
median() { # NAME FIELD(2=wall,3=user,4=sys,5=rss)
  awk -v n="$1" -v f="$2" '$1==n {print $f}' "$RAW" | sort -g | awk '{a[NR]=$1} END{if(NR==0){print "nan"} else if(NR%2){print a[(NR+1)/2]} else {print (a[NR/2]+a[NR/2+1])/2}}'
}
maxof() { awk -v n="$1" -v f="$2" '$1==n && $f>m {m=$f} END{print m+0}' "$RAW"; }
gbs() { awk -v b="$1" -v s="$2" 'BEGIN{ if (s>0) printf "%.2f", b/s/1e9; else print "nan"}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b>0) printf "%.2f", a/b; else print "nan"}'; }
verdict() { awk -v r="$1" -v t="$2" 'BEGIN{ print (r+0 >= t+0) ? "PASS" : "MISS" }'; }
rate() { gbs "$size_bytes" "$(median "$1" 2)"; }

names=$(awk '{print $1}' "$RAW" | awk '!s[$0]++')
best_of() { # ALGO -> name of the faster bootbank variant (by median wall)
  local algo=$1 best="" bt=""
  for n in $names; do
    case $n in
      bootbank:$algo | bench-mmap:$algo | bench-pread:$algo)
        if [ "$HAVE_CLI" = 1 ]; then case $n in bench-*) continue ;; esac; fi
        local t
        t=$(median "$n" 2)
        if [ -z "$bt" ] || awk -v a="$t" -v b="$bt" 'BEGIN{exit !(a<b)}'; then best=$n; bt=$t; fi ;;
    esac
  done
  echo "$best"
}

{
  echo "## Run of $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "- CPU: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores online; flags: $(grep -m1 -o 'sha_ni' /proc/cpuinfo || echo no-sha_ni) $(grep -m1 -o 'vpclmulqdq' /proc/cpuinfo || echo no-vpclmulqdq)"
  echo "- Kernel: $(uname -r); filesystem of the data: $(stat -f -c %T "$BENCH_DIR"); RAM: $(free -g | awk '/Mem:/{print $2}') GiB"
  echo "- Data: $SIZE_MIB MiB image written with dd bs=4M, page-cached before timing ($cache_state bytes resident per fincore); ${SPARSE_GIB} GiB all-hole sparse image"
  echo "- Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (other work shares these cores; wall-clock figures drop with it)"
  echo "- $REPS repetitions, interleaved; medians of wall-clock time; bootbank = $([ "$HAVE_CLI" = 1 ] && echo '`bootbank checksum`; bench-* rows: the stand-in readers of `bootbank-bench file`' || echo 'stand-in `bootbank-bench file` (no `bootbank checksum` yet)')"
  echo
  echo "### Kernels in memory"
  echo
  echo '```'
  "$BENCH" kernels --mib 256 --seconds 1.5
  echo '```'
  echo
  echo "Peers, same divisor (user CPU time): \`openssl speed -evp sha256|sha1 -bytes 1048576\`:"
  echo
  echo '```'
  for md in sha256 sha1; do
    openssl speed -evp "$md" -bytes 1048576 -seconds 2 2>/dev/null | awk -v md="$md" '$1==md {printf "%-36s %9.2f GB/s\n", "openssl speed " md, $2/1e6}'
  done
  echo '```'
  echo
  echo "### Tools on the ${SIZE_MIB} MiB page-cached image"
  echo
  echo "| run | median s | GB/s | user s | sys s | peak RSS MiB |"
  echo "|---|---:|---:|---:|---:|---:|"
  for n in $names; do
    case $n in sparse/*) continue ;; esac
    echo "| $n | $(median "$n" 2) | $(rate "$n") | $(median "$n" 3) | $(median "$n" 4) | $(awk -v k="$(maxof "$n" 5)" 'BEGIN{printf "%.1f", k/1024}') |"
  done
  for n in $names; do
    case $n in sparse/*) ;; *) continue ;; esac
    echo "| $n (${SPARSE_GIB} GiB sparse) | $(median "$n" 2) | $(gbs $((SPARSE_GIB * 1073741824)) "$(median "$n" 2)") | $(median "$n" 3) | $(median "$n" 4) | $(awk -v k="$(maxof "$n" 5)" 'BEGIN{printf "%.1f", k/1024}') |"
  done
  echo
  echo "### Targets (issue 4), $([ "$HAVE_CLI" = 1 ] && echo '`bootbank checksum`' || echo 'best stand-in reader per algorithm')"
  echo
  echo "| target | measured | verdict |"
  echo "|---|---|---|"
  crc=$(best_of crc32); sha=$(best_of sha256); both=$(best_of crc32,sha256)
  dd_t=$(median dd 2); rc_t=$(median rhash:crc32 2); os_t=$(median openssl:sha256 2); rcs_t=$(median rhash:crc32,sha256 2)
  r=$(ratio "$dd_t" "$(median "$crc" 2)"); echo "| CRC-32 ≥ 0.6× dd bs=1M | $r× ($crc) | $(verdict "$r" 0.6) |"
  r=$(ratio "$rc_t" "$(median "$crc" 2)"); echo "| CRC-32 ≥ 8× rhash --crc32 | $r× ($crc) | $(verdict "$r" 8) |"
  r=$(ratio "$os_t" "$(median "$sha" 2)"); echo "| SHA-256 ≥ 0.95× openssl dgst -sha256 | $r× ($sha) | $(verdict "$r" 0.95) |"
  r=$(ratio "$os_t" "$(median "$both" 2)"); echo "| CRC-32+SHA-256 ≥ 0.95× openssl dgst -sha256 | $r× ($both) | $(verdict "$r" 0.95) |"
  r=$(ratio "$rcs_t" "$(median "$both" 2)"); echo "| CRC-32+SHA-256 ≥ 1.7× rhash --crc32 --sha256 | $r× ($both) | $(verdict "$r" 1.7) |"
  for n in $names; do
    case $n in *:crc32,sha256) ;; *) continue ;; esac
    case $n in rhash:*) continue ;; esac
    if [ "$HAVE_CLI" = 1 ]; then case $n in bench-* | sparse/bench-*) continue ;; esac; fi
    m=$(awk -v k="$(maxof "$n" 5)" 'BEGIN{printf "%.1f", k/1024}')
    echo "| peak RSS ≤ 64 MiB, $n | $m MiB | $(awk -v m="$m" 'BEGIN{print (m<=64)?"PASS":"MISS"}') |"
  done
  echo
  echo "Ratios are peer time / bootbank time (higher is better). Raw runs: \`$RAW\`."
} | tee "$OUT"
