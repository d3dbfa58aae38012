#!/usr/bin/env bash
# make bench, part 2: `bootbank verify` on a device with real-sized banks, against
#  - the floor: read the banks' used bytes once, inflate every payload, SHA-256 of the output
#    (each step timed alone with the fastest tool here: dd, ISA-L's igzip, openssl; their sum);
#  - the peer pipeline an admin runs today: sgdisk -v, fsck.fat -n per bank, mcopy out, then
#    `gzip -dc | openssl dgst -sha256` per module.
# Interleaved runs, medians, ratios. Goals: verify <= 1.3x floor, <= 0.2x peers.
# Also: per-file checksums of the FAT banks >= 3x faster than mcopy extraction
# followed by `rhash --crc32 --sha256 -r`, with the same digests.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BOOTBANK:-.build/release/bootbank}
RUNS=${RUNS:-5}
SCALE=${BOOTBANK_PAYLOAD_SCALE:-256}
DATA=${BENCH_DATA:-bench-data}
mkdir -p "$DATA"
IMG=$DATA/verify-device.img
W=$(realpath -m "$DATA/verify-work")
for tool in sgdisk fsck.fat mcopy igzip openssl losetup; do
  command -v "$tool" >/dev/null || { echo "bench-verify: $tool is missing (make bench installs it)"; exit 1; }
done
[ -x "$BIN" ] || { echo "bench-verify: $BIN is not built (make build)"; exit 1; }

# --- the device: ESXi 7 layout with 1000 MiB banks holding payloads scaled x$SCALE ------------
BANK_SECTORS=$((1000 * 2048))
P5=208896
P6=$((P5 + BANK_SECTORS + 2048))
if [ ! -f "$IMG" ] || [ "${REBUILD:-0}" = 1 ]; then
  echo "building $IMG (payload scale $SCALE) ..."
  rm -rf "$W"; mkdir -p "$W"
  BOOTBANK_PAYLOAD_SCALE=$SCALE python3 images/mkbank.py bank "$W/a" --build 7.0.3-0.55.20328353 --updated 2 --bootstate 0 >/dev/null
  BOOTBANK_PAYLOAD_SCALE=$SCALE python3 images/mkbank.py bank "$W/b" --build 7.0.3-0.50.20036589 --updated 1 --bootstate 0 >/dev/null
  rm -f "$IMG"; truncate -s $(((P6 + BANK_SECTORS + 4096) * 512)) "$IMG"
  sgdisk -n 1:64:204863 -t 1:EF00 -c 1:BOOT -n 5:$P5:$((P5 + BANK_SECTORS - 1)) -t 5:0700 -c 5:BOOTBANK1 \
    -n 6:$P6:$((P6 + BANK_SECTORS - 1)) -t 6:0700 -c 6:BOOTBANK2 "$IMG" >/dev/null
  for n in 5 6; do
    src=$W/a; start=$P6; uuid=c8a21063d2e6943a0600000c29a7e501
    [ $n = 5 ] && { src=$W/b; start=$P5; uuid=c4a21063b3c7218e0500000c29a7e501; }
    bank=$W/bank$n.img; rm -f "$bank"; truncate -s $((BANK_SECTORS * 512)) "$bank"
    mkfs.fat -F 16 -s 32 -R 4 -n BOOTBANK$((n - 4)) -i 6310000$n --invariant "$bank" >/dev/null
    (cd "$src" && mcopy -m -i "$bank" ./* ::/)
    { printf 'VMWARE FAT16    '; xxd -r -p <<<"$uuid"; } | dd of="$bank" bs=512 seek=1 conv=notrunc status=none
    dd if="$bank" of="$IMG" bs=1M seek=$((start * 512)) oflag=seek_bytes conv=notrunc,sparse status=none
    rm -f "$bank"
  done
  # What the floor and the peers read: the payloads the profile maps (not per-host files).
  for n in 5 6; do mkdir -p "$W/files$n"; done
fi
PAYLOADS="b.b00 k.b00 s.v00 sb.v00 esx_ui.v00 basemisc.tgz"

"$BIN" verify "$IMG" >/dev/null || { echo "bench-verify: verify did not pass on the bench device"; "$BIN" verify "$IMG"; exit 1; }
cat "$IMG" >/dev/null  # page cache warm: every run reads from memory

now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.4f}')" "$1" "$2"; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

run_verify() { local t0; t0=$(now); "$BIN" verify "$IMG" >/dev/null; elapsed "$t0" "$(now)"; }

run_peers() {
  local t0 dev part out off; t0=$(now)
  dev=$(losetup -f --show -r "$IMG")
  sgdisk -v "$dev" >/dev/null
  for n in 5 6; do
    # One loop device per partition, as /dev/sdb5 and /dev/sdb6 are (no udev here for loopNpM).
    off=$P5; [ $n = 6 ] && off=$P6
    part=$(losetup -f --show -r -o $((off * 512)) --sizelimit $((BANK_SECTORS * 512)) "$IMG")
    fsck.fat -n "$part" >/dev/null 2>&1
    out=$W/peer$n; rm -rf "$out"; mkdir -p "$out"
    mcopy -n -s -m -i "$part" '::/*' "$out/" 2>/dev/null
    for f in $PAYLOADS; do gzip -dc "$out/$f" | openssl dgst -sha256 >/dev/null; done
    losetup -d "$part"
  done
  losetup -d "$dev"
  elapsed "$t0" "$(now)"
}

# The floor, in three timed parts over the same bytes verify reads.
prepare_floor() {
  local n
  for n in 5 6; do
    rm -rf "$W/floor$n"; mkdir -p "$W/floor$n"
    local off=$P5; [ $n = 6 ] && off=$P6
    mcopy -n -m -i "$IMG@@$((off * 512))" $(for f in $PAYLOADS; do echo "::/$f"; done) "$W/floor$n/"
    for f in $PAYLOADS; do igzip -dc "$W/floor$n/$f" >"$W/floor$n/$f.raw"; done
  done
  USED=$(for n in 5 6; do "$BIN" checksum "$IMG" --partition $n --files --json; done | python3 -c "
import json,sys
total=0
for doc in sys.stdin.read().replace('}\n{','}\x00{').split('\x00'):
    total += sum(f['size'] for f in json.loads(doc)['files'])
print(total)")
}
run_floor() {
  local t0 t1 t2 t3; t0=$(now)
  for n in 5 6; do local off=$P5; [ $n = 6 ] && off=$P6
    dd if="$IMG" of=/dev/null bs=4M skip=$((off * 512)) count=$((USED / 2)) iflag=skip_bytes,count_bytes status=none; done
  t1=$(now)
  for n in 5 6; do for f in $PAYLOADS; do igzip -dc "$W/floor$n/$f" >/dev/null; done; done
  t2=$(now)
  for n in 5 6; do (cd "$W/floor$n" && cat $(for f in $PAYLOADS; do echo "$f.raw"; done) | openssl dgst -sha256 >/dev/null); done
  t3=$(now)
  elapsed "$t0" "$t3"
}

# One call digests every file of every FAT partition of the device (both banks and the ESP).
run_files() { local t0; t0=$(now)
  "$BIN" checksum "$IMG" --files --algo crc32,sha256 >/dev/null
  elapsed "$t0" "$(now)"; }
run_mcopy_rhash() { local t0 n off; t0=$(now)
  for n in 5 6; do off=$P5; [ $n = 6 ] && off=$P6
    rm -rf "$W/mr$n"; mkdir -p "$W/mr$n"
    mcopy -n -s -m -i "$IMG@@$((off * 512))" '::/*' "$W/mr$n/"
    rhash --crc32 --sha256 -r "$W/mr$n" >/dev/null; done
  elapsed "$t0" "$(now)"; }
# Same digests first: bootbank's per-file SHA-256 and CRC-32 against rhash's on mcopy's files.
run_mcopy_rhash >/dev/null
for n in 5 6; do
  "$BIN" checksum "$IMG" --partition $n --files --algo crc32,sha256 --json | python3 -c "
import json,sys; [print(f['crc32'], f['sha256'], f['path'].lstrip('/')) for f in json.load(sys.stdin)['files']]" | sort >"$W/bb$n.txt"
  rhash --crc32 --sha256 -r "$W/mr$n" | awk -v d="$W/mr$n/" '{sub(d, "", $1); print tolower($2), $3, $1}' | sort >"$W/rh$n.txt"
  diff "$W/bb$n.txt" "$W/rh$n.txt" >/dev/null || { echo "bench-verify: per-file digests differ from rhash's (partition $n)"; exit 1; }
done
echo "per-file digests: bootbank and mcopy+rhash agree on every file of both banks"

prepare_floor
echo "device: $IMG ($(du -h --apparent-size "$IMG" | cut -f1) apparent, $(du -h "$IMG" | cut -f1) used), payload bytes read: $USED"
: >"$W/t.verify"; : >"$W/t.floor"; : >"$W/t.peers"; : >"$W/t.files"; : >"$W/t.mr"
for i in $(seq "$RUNS"); do
  run_verify >>"$W/t.verify"
  run_floor >>"$W/t.floor"
  run_peers >>"$W/t.peers"
  run_files >>"$W/t.files"
  run_mcopy_rhash >>"$W/t.mr"
done
V=$(median <"$W/t.verify"); F=$(median <"$W/t.floor"); P=$(median <"$W/t.peers")
FI=$(median <"$W/t.files"); MR=$(median <"$W/t.mr")
python3 - "$V" "$F" "$P" "$FI" "$MR" <<'PY'
import sys
v, f, p, fi, mr = map(float, sys.argv[1:])
print(f"{'':28}{'median s':>10}")
print(f"{'bootbank verify':28}{v:10.3f}")
print(f"{'floor (dd+igzip+openssl)':28}{f:10.3f}")
print(f"{'peer pipeline':28}{p:10.3f}")
r1, r2 = v / f, v / p
print(f"verify / floor = {r1:.2f}  (goal <= 1.3: {'PASS' if r1 <= 1.3 else 'MISS'})")
print(f"verify / peers = {r2:.2f}  (goal <= 0.2: {'PASS' if r2 <= 0.2 else 'MISS'})")
print(f"{'checksum --files':28}{fi:10.3f}")
print(f"{'mcopy + rhash -r':28}{mr:10.3f}")
r3 = mr / fi
print(f"per-file speed-up = {r3:.2f}x  (goal >= 3: {'PASS' if r3 >= 3 else 'MISS'})")
PY
