#!/usr/bin/env bash
# make-images.sh [OUTDIR]  --  the project's ESXi boot-device fixtures (see images/README.md).
#
# No mount, no root, no loop device: sgdisk (GPT, 512-byte sectors), mkbank.py (legacy MBR with
# EBRs, GPT for 4096-byte sectors, bank content), mkfs.fat --invariant with fixed serials,
# mtools (mcopy -m into a scratch partition file, placed like dd conv=notrunc,sparse would).
# Images are sparse files.
# Byte-reproducible: fixed GUIDs/serials/UUIDs, SOURCE_DATE_EPOCH for every time stamp
# (mtools honours it), gzip members without name/mtime, tar members with fixed owner/mtime.
#
# Writes OUTDIR/*.img, OUTDIR/manifest-of-scenarios.json and OUTDIR/expected/ (oracle outputs).
# OUTDIR defaults to the directory of this script.
set -euo pipefail
case "${1:-}" in -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0;; esac
export LC_ALL=C TZ=UTC MTOOLSRC=/dev/null MTOOLS_SKIP_CHECK=1
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1662000000}   # 2022-09-01 02:40:00 UTC

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=$(mkdir -p "${1:-$HERE}" && cd "${1:-$HERE}" && pwd)
PYTHON=$(python3 -c 'import sys; print(sys.executable)')   # skip wrappers such as pyenv shims
PY=("$PYTHON" "$HERE/mkbank.py")
for t in sgdisk sfdisk fdisk blkid fallocate mkfs.fat fsck.fat mcopy mdel mdir python3 dd truncate; do
  command -v "$t" >/dev/null || { echo "make-images.sh: $t is missing (apt-get install gdisk fdisk dosfstools mtools util-linux python3)" >&2; exit 2; }
done
WORK=$(mktemp -d "${TMPDIR:-/tmp}/bootbank-images.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
FACTS=$WORK/facts.jsonl
: >"$FACTS"
START_MS=$(( $(date +%s%N) / 1000000 ))
rm -f "$OUT"/esxi*.img   # no stale images of renamed scenarios

GUID_ESP=C12A7328-F81F-11D2-BA4B-00A0C93EC93B
GUID_DATA=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7
GUID_DIAG=9D275380-40AD-11DB-BF97-000C2911D1B8
GUID_OSDATA=4EB2EA39-7855-4790-A79E-FAE495E21F8D

# builds (7.0U3f, 7.0U3g, 7.0U3i; 6.7U3, 6.7 EP)
B7_OLD=7.0.3-0.50.20036589
B7=7.0.3-0.55.20328353
B7_NEW=7.0.3-0.65.20842708
B6_OLD=6.7.0-3.73.14320388
B6=6.7.0-3.89.15160138

# --------------------------------------------------------------------------- helpers

fact() { printf '{"image":"%s","fact":"%s"%s}\n' "$1" "$2" "${3:+,$3}" >>"$FACTS"; }

# new_gpt IMG SECTORS DISKGUID, gpt_part ..., gpt_write IMG : a sparse disk with a fresh GPT
# (512-byte sectors) made by one sgdisk run (sgdisk spends about a second per run)
GPT_ARGS=()
new_gpt() {
  rm -f "$OUT/$1"; truncate -s $(( $2 * 512 )) "$OUT/$1"
  GPT_ARGS=(-o -a 32 -U "$3")
  fact "$1" image "\"sectorSize\":512,\"sizeBytes\":$(( $2 * 512 )),\"table\":\"gpt\",\"diskGUID\":\"$3\""
}

# gpt_part IMG NUM FIRST LAST TYPEGUID NAME PARTGUID ROLE
gpt_part() {
  GPT_ARGS+=(-a 32 -n "$2:$3:$4" -t "$2:$5" -c "$2:$6" -u "$2:$7")
  fact "$1" partition "\"number\":$2,\"firstLBA\":$3,\"lastLBA\":$4,\"typeGUID\":\"$5\",\"name\":\"$6\",\"partitionGUID\":\"$7\",\"role\":\"$8\""
}

gpt_write() { sgdisk "${GPT_ARGS[@]}" "$OUT/$1" >/dev/null; GPT_ARGS=(); }

# fat IMG SS NUM START SECTORS SERIAL LABEL UUIDHEX SRCDIR [FILE...]
#   FAT16 with >= 2 reserved sectors built in a scratch file, files copied with mcopy -m in the
#   given order (all of SRCDIR recursively when no FILE is given), then placed at START like
#   dd conv=notrunc,sparse would, and the VMware magic + UUID written into its sector 1 (byte SS).
fat() {
  local img=$1 ss=$2 num=$3 start=$4 sectors=$5 serial=$6 label=$7 uuid=$8 src=$9
  shift 9
  # clusters: 4 KiB; 8 KiB for the 286 MiB 6.x store (FAT16 allows at most 65524 clusters);
  # one sector for the 4 MiB boot partitions (FAT16 needs at least 4085 clusters)
  local fs=$WORK/fs.img spc=$(( 4096 / ss ))
  [ "$sectors" -gt 520000 ] && spc=$(( 8192 / ss ))
  [ "$sectors" -lt 20000 ] && spc=1
  spc=${FAT_SPC:-$spc}
  rm -f "$fs"; truncate -s $(( sectors * ss )) "$fs"
  local lab=(); [ "$label" != - ] && lab=(-n "$label")
  mkfs.fat --invariant -F 16 -S "$ss" -s "$spc" -R 2 -h "$start" -i "$serial" "${lab[@]}" --mbr=n \
    "$fs" $(( sectors * ss / 1024 )) >/dev/null
  if [ $# -gt 0 ] && [ "${FAT_UPPER:-0}" = 1 ]; then
    # names as an old (pre-VFAT) driver writes them: upper-case 8.3, no lower-case flags
    local f; for f in "$@"; do (cd "$src" && mcopy -m -i "$fs" "$f" "::/${f^^}"); done
  elif [ $# -gt 0 ]; then
    (cd "$src" && mcopy -m -i "$fs" "$@" ::/)
  elif [ -n "$src" ] && [ "$src" != - ]; then
    (cd "$src" && mcopy -s -m -i "$fs" ./* ::/)
  fi
  local mg=(); [ "$uuid" != - ] && mg=(--magic-at "$ss" --uuid "$uuid")
  "${PY[@]}" place "$fs" "$OUT/$img" $(( start * ss )) "${mg[@]}"
  POFF[$img:$num]=$(( start * ss )); PSIZE[$img:$num]=$(( sectors * ss ))
  local lj='"label":null'; [ "$label" != - ] && lj="\"label\":\"$label\""
  local uj='"vmwareUUID":null'; [ "$uuid" != - ] && uj="\"vmwareUUID\":\"$uuid\",\"vmwareUUIDOffset\":$ss"
  fact "$img" fs "\"number\":$num,\"filesystem\":{\"type\":\"FAT16\",$lj,\"serial\":\"$(echo "$serial" | tr a-f A-F | sed 's/^\(....\)/\1-/')\",\"clusterSize\":$(( spc * ss ))},$uj"
}

# bank DIR BUILD UPDATED BOOTSTATE [mkbank options] : the files of one bank into $WORK/DIR
bank() {
  local d=$WORK/$1; shift
  local b=$1 u=$2 s=$3; shift 3
  rm -rf "$d"
  "${PY[@]}" bank "$d" --build "$b" --updated "$u" --bootstate "$s" "$@" >"$d.files"
}
files_of() { cat "$WORK/$1.files"; }

# put_bank IMG SS NUM START SECTORS SERIAL LABEL UUID DIR
put_bank() {
  local img=$1 dir=$9
  # shellcheck disable=SC2046
  fat "$1" "$2" "$3" "$4" "$5" "$6" "$7" "$8" "$WORK/$dir" $(files_of "$dir")
  fact "$img" bank "\"partition\":$3,\"factsFile\":\"$WORK/$dir.json\""
  local names=lowerCaseFlags; [ "${FAT_UPPER:-0}" = 1 ] && names=upperCase
  fact "$img" set-bank "\"partition\":$3,\"values\":{\"onDiskNames\":\"$names\"}"
}

# derive NEW FROM "history" : sparse copy of a finished image
derive() {
  cp --sparse=always "$OUT/$2" "$OUT/$1"
  copy_offsets "$1" "$2"
  fact "$1" copy "\"from\":\"$2\""
  fact "$1" image "\"history\":\"$3\""
}

# byte offset and size of each FAT partition, by "IMG:NUM"
declare -A POFF PSIZE
copy_offsets() { local k; for k in "${!POFF[@]}"; do
  [ "${k%%:*}" = "$2" ] && { POFF[$1:${k#*:}]=${POFF[$k]}; PSIZE[$1:${k#*:}]=${PSIZE[$k]}; }; done; return 0; }
# mtools on a partition of an image
mt() { local img=$1 num=$2; shift 2; "$@" -i "$OUT/$img@@${POFF[$img:$num]}"; }

# replace_file IMG NUM SRCDIR FILE : overwrite one file of a bank in place (mcopy -o)
replace_file() { (cd "$3" && mcopy -o -m -i "$OUT/$1@@${POFF[$1:$2]}" "$4" ::/"$4"); }

expect() { fact "$1" expect "$2"; }
damage() { fact "$1" damage "$2"; }
# where IMG NUM FILE : JSON of a root-directory file's entry offset, first cluster, first LBA
where() { "${PY[@]}" fat-chain "$OUT/$1" "${POFF[$1:$2]}" "$3"; }
scenario() { fact "$1" image "\"scenario\":\"$2\""; }

# --------------------------------------------------------------------------- content

"${PY[@]}" esp "$WORK/esp"
"${PY[@]}" esp "$WORK/boot4x" --legacy
"${PY[@]}" store "$WORK/store"
bank b7old "$B7_OLD" 1 0
bank b7    "$B7" 2 0
bank b6old "$B6_OLD" 2 0 --host esx67
bank b6    "$B6" 3 0 --host esx67
bank bm5   "$B6" 4 0 --host esx-legacy
bank bm6   "$B6_OLD" 3 0 --host esx-legacy

# --------------------------------------------------------------------------- esxi7.img
# Scaled copy of the 7.x layout: ESP 32 MiB (real: 100 MiB), banks 64 MiB (real: 500 MB,
# 1 GiB or 4 GiB), OSDATA 8 MiB (real: up to 128 GiB), 1 MiB alignment with 1 MiB gaps
# as on real 7.x media (p5 = align_up(end of ESP, 1 MiB) + 1 MiB).
L7_SECTORS=354304
U7_ESP=c0a21063715a3f1d0100000c29a7e501
U7_5=c4a21063b3c7218e0500000c29a7e501
U7_6=c8a21063d2e6943a0600000c29a7e501
U7_8=cca21063192f7c5b0800000c29a7e501
U7_9=d0a210634a8ce0710900000c29a7e501

# esxi7_disk IMG P5DIR P6DIR [extra sectors] : the 7.x scaled device with the given banks
esxi7_disk() {
  local img=$1 sectors=${4:-$L7_SECTORS}
  new_gpt "$img" "$sectors" 6A0D6F2E-1B61-4C5B-9E11-3F1E2C7A0001
  local tpl=$WORK/gpt7-$sectors.img
  gpt_part "$img" 1 64 65599 "$GUID_ESP" BOOT 6A0D6F2E-1B61-4C5B-9E11-3F1E2C7A1001 esp
  gpt_part "$img" 5 69632 200703 "$GUID_DATA" BOOTBANK1 6A0D6F2E-1B61-4C5B-9E11-3F1E2C7A1005 bank
  gpt_part "$img" 6 202752 333823 "$GUID_DATA" BOOTBANK2 6A0D6F2E-1B61-4C5B-9E11-3F1E2C7A1006 bank
  gpt_part "$img" 7 335872 352255 "$GUID_OSDATA" OSDATA 6A0D6F2E-1B61-4C5B-9E11-3F1E2C7A1007 osdata
  if [ -e "$tpl" ]; then   # same sgdisk run as before: reuse its output
    cp --sparse=always "$tpl" "$OUT/$img"; GPT_ARGS=()
  else
    gpt_write "$img"; cp --sparse=always "$OUT/$img" "$tpl"
  fi
  fat "$img" 512 1 64 65536 63100001 - "$U7_ESP" "$WORK/esp"
  put_bank "$img" 512 5 69632 131072 63100005 BOOTBANK1 "$U7_5" "$2"
  put_bank "$img" 512 6 202752 131072 63100006 BOOTBANK2 "$U7_6" "$3"
}

esxi7_disk esxi7.img b7old b7
scenario esxi7.img "normal 7.x device one upgrade after install: p5 holds the previous build (updated=1), p6 the running one (updated=2), both bootstate=0"
expect esxi7.img "\"next\":{\"partition\":6,\"build\":\"$B7\"},\"rollback\":false"

# --------------------------------------------------------------------------- esxi7-real-layout.img
# The same device at the real 7.x LBAs of ESXI.md §1 (100 MiB ESP, 1 GiB banks with 16 KiB
# clusters); 2.1 GiB apparent, about 1 MiB of data.
new_gpt esxi7-real-layout.img 4442112 6A0D6F2E-1B61-4C5B-9E11-3F1E2C7A2001
gpt_part esxi7-real-layout.img 1 64 204863 "$GUID_ESP" BOOT 6A0D6F2E-1B61-4C5B-9E11-3F1E2C7A2101 esp
gpt_part esxi7-real-layout.img 5 208896 2306047 "$GUID_DATA" BOOTBANK1 6A0D6F2E-1B61-4C5B-9E11-3F1E2C7A2105 bank
gpt_part esxi7-real-layout.img 6 2308096 4405247 "$GUID_DATA" BOOTBANK2 6A0D6F2E-1B61-4C5B-9E11-3F1E2C7A2106 bank
gpt_part esxi7-real-layout.img 7 4407296 4440063 "$GUID_OSDATA" OSDATA 6A0D6F2E-1B61-4C5B-9E11-3F1E2C7A2107 osdata
gpt_write esxi7-real-layout.img
fat esxi7-real-layout.img 512 1 64 204800 63102001 - "$U7_ESP" "$WORK/esp"
FAT_SPC=32 put_bank esxi7-real-layout.img 512 5 208896 2097152 63102005 BOOTBANK1 "$U7_5" b7old
FAT_SPC=32 put_bank esxi7-real-layout.img 512 6 2308096 2097152 63102006 BOOTBANK2 "$U7_6" b7
scenario esxi7-real-layout.img "esxi7.img's content at the real 7.x LBAs: ESP 64-204863 (100 MiB), 1 GiB banks 208896-2306047 and 2308096-4405247 (FAT16, 16 KiB clusters), OSDATA 16 MiB"
expect esxi7-real-layout.img "\"next\":{\"partition\":6,\"build\":\"$B7\"},\"rollback\":false"

# --------------------------------------------------------------------------- esxi6.img
new_gpt esxi6.img 1845248 5D1A4F00-6B81-4E3C-9A6B-0050569A0001
gpt_part esxi6.img 1 64 8191 "$GUID_ESP" BOOT 5D1A4F00-6B81-4E3C-9A6B-0050569A1001 esp
gpt_part esxi6.img 5 8224 520191 "$GUID_DATA" BANK1 5D1A4F00-6B81-4E3C-9A6B-0050569A1005 bank
gpt_part esxi6.img 6 520224 1032191 "$GUID_DATA" BANK2 5D1A4F00-6B81-4E3C-9A6B-0050569A1006 bank
gpt_part esxi6.img 7 1032224 1257471 "$GUID_DIAG" DUMP 5D1A4F00-6B81-4E3C-9A6B-0050569A1007 dump
gpt_part esxi6.img 8 1257504 1843199 "$GUID_DATA" STORE 5D1A4F00-6B81-4E3C-9A6B-0050569A1008 store
gpt_write esxi6.img
fat esxi6.img 512 1 64 8128 5d1a0001 - 004f1a5de3816b2c01000050569a6b01 "$WORK/esp"
put_bank esxi6.img 512 5 8224 511968 5d1a0005 - 044f1a5d5ad2039f05000050569a6b01 b6
put_bank esxi6.img 512 6 520224 511968 5d1a0006 - 084f1a5dc6197a4e06000050569a6b01 b6old
fat esxi6.img 512 8 1257504 585696 5d1a0008 - 0c4f1a5df4e7580b08000050569a6b01 "$WORK/store"
scenario esxi6.img "6.7 device at the installer's exact LBAs (p9 omitted): p5 running build updated=3, p6 previous build updated=2; p8 store has the VMware magic but no boot.cfg (not a bank)"
expect esxi6.img "\"next\":{\"partition\":5,\"build\":\"$B6\"},\"rollback\":false"

# --------------------------------------------------------------------------- esxi-mbr.img
rm -f "$OUT/esxi-mbr.img"; truncate -s $(( 1843200 * 512 )) "$OUT/esxi-mbr.img"
"${PY[@]}" mbr "$OUT/esxi-mbr.img" --signature 4b8c1e00 \
  --primary 1:8192:1843199:05 --primary 4:32:8191:04:active \
  --logical 8224:520191:06 --logical 520224:1032191:06 --logical 1032224:1257471:fc --logical 1257504:1843199:06
fact esxi-mbr.img image "\"sectorSize\":512,\"sizeBytes\":$(( 1843200 * 512 )),\"table\":\"mbr\",\"diskSignature\":\"0x4b8c1e00\""
fact esxi-mbr.img partition '"number":1,"firstLBA":8192,"lastLBA":1843199,"mbrType":"0x05","role":"extended"'
fact esxi-mbr.img partition '"number":4,"firstLBA":32,"lastLBA":8191,"mbrType":"0x04","bootable":true,"role":"boot"'
fact esxi-mbr.img partition '"number":5,"firstLBA":8224,"lastLBA":520191,"mbrType":"0x06","ebrLBA":8192,"role":"bank"'
fact esxi-mbr.img partition '"number":6,"firstLBA":520224,"lastLBA":1032191,"mbrType":"0x06","ebrLBA":520192,"role":"bank"'
fact esxi-mbr.img partition '"number":7,"firstLBA":1032224,"lastLBA":1257471,"mbrType":"0xfc","ebrLBA":1032192,"role":"dump"'
fact esxi-mbr.img partition '"number":8,"firstLBA":1257504,"lastLBA":1843199,"mbrType":"0x06","ebrLBA":1257472,"role":"store"'
fat esxi-mbr.img 512 4 32 8160 4b8c0004 - 001e8c4bd1932f6a0400001b21c0ffee "$WORK/boot4x"
FAT_UPPER=1 put_bank esxi-mbr.img 512 5 8224 511968 4b8c0005 - 041e8c4b5b07e8d40500001b21c0ffee bm5
FAT_UPPER=1 put_bank esxi-mbr.img 512 6 520224 511968 4b8c0006 - 081e8c4b39cab6170600001b21c0ffee bm6
fat esxi-mbr.img 512 8 1257504 585696 4b8c0008 - 0c1e8c4b275fc4830800001b21c0ffee "$WORK/store"
scenario esxi-mbr.img "host upgraded in place from 4.x: legacy MBR, p4 active boot partition (0x04), p1 extended with logical p5-p8 at the 6.x sectors, each EBR 32 sectors before its partition; p5 running 6.7 build updated=4, p6 previous updated=3"
expect esxi-mbr.img "\"next\":{\"partition\":5,\"build\":\"$B6\"},\"rollback\":false"

# --------------------------------------------------------------------------- bank state scenarios
# Upgrade scenarios rebuild the whole device with a new p5 (ESXi wipes the alternate bank and
# copies the new image in); boot.cfg knobs are edited in place in a copy of esxi7.img.

bank b7up "$B7_NEW" 3 1
esxi7_disk esxi7-upgrade-pending.img b7up b7
scenario esxi7-upgrade-pending.img "upgrade staged into p5 and never tried: bootstate=1 updated=3; next boot is the trial boot of p5 (written 2)"
expect esxi7-upgrade-pending.img "\"next\":{\"partition\":5,\"build\":\"$B7_NEW\"},\"rollback\":false"

bank b7try "$B7_NEW" 3 2
esxi7_disk esxi7-trial-failed.img b7try b7
scenario esxi7-trial-failed.img "p5 was being tried (bootstate=2) and the host rebooted without tag-boot-bank: the trial failed, p5 becomes 3, p6 boots again"
expect esxi7-trial-failed.img "\"next\":{\"partition\":6,\"build\":\"$B7\"},\"rollback\":false"

# edit_cfg NEW DIR PART BUILD UPDATED BOOTSTATE HISTORY [mkbank options] : copy of esxi7.img
#   whose bank PART gets the boot.cfg of a regenerated bank DIR (other files are identical)
edit_cfg() {
  local img=$1 dir=$2 part=$3 b=$4 u=$5 s=$6 hist=$7; shift 7
  derive "$img" esxi7.img "$hist"
  bank "$dir" "$b" "$u" "$s" "$@"
  replace_file "$img" "$part" "$WORK/$dir" boot.cfg
  fact "$img" bank "\"partition\":$part,\"factsFile\":\"$WORK/$dir.json\""
}

edit_cfg esxi7-both-invalid.img c3a 5 "$B7_OLD" 1 3 "both banks marked invalid (bootstate=3)"
bank c3b "$B7" 2 3; replace_file esxi7-both-invalid.img 6 "$WORK/c3b" boot.cfg
fact esxi7-both-invalid.img bank "\"partition\":6,\"factsFile\":\"$WORK/c3b.json\""
scenario esxi7-both-invalid.img "both banks bootstate=3: the loader stops with No hypervisor found."
expect esxi7-both-invalid.img '"next":null,"rollback":false,"message":"No hypervisor found."'

edit_cfg esxi7-quickboot.img cqb 6 "$B7" 2 0 "p6 was staged by QuickBoot (quickboot=1)" --quickboot 1
scenario esxi7-quickboot.img "p6 boot.cfg carries quickboot=1: a one-shot bank, written 3 and not bootable; p5 boots"
expect esxi7-quickboot.img "\"next\":{\"partition\":5,\"build\":\"$B7_OLD\"},\"rollback\":false"

edit_cfg esxi7-bootstate4.img cs4 6 "$B7" 2 4 "esximage staged p6 (bootstate=4)"
scenario esxi7-bootstate4.img "p6 bootstate=4 (esximage staged, not a loader state): the loader cannot write a new state (digit not 0-3) and drops p6; p5 boots"
expect esxi7-bootstate4.img "\"next\":{\"partition\":5,\"build\":\"$B7_OLD\"},\"rollback\":false"

edit_cfg esxi7-bootstate-late.img clate 5 "$B7_OLD" 3 1 "p5 marked for a trial boot (bootstate=1, updated=3) by a tool that wrote bootstate= as the last line, past byte 512" --late
scenario esxi7-bootstate-late.img "p5 boot.cfg has bootstate=1 and updated=3 but its bootstate line starts past byte 512: the reader sees 1, the writer cannot change it to 2, so p5 is dropped from the scan; p6 boots"
expect esxi7-bootstate-late.img "\"next\":{\"partition\":6,\"build\":\"$B7\"},\"rollback\":false"

edit_cfg esxi7-bootstate-late-valid.img clatev 6 "$B7" 2 0 "p6 bootstate=0 written past byte 512" --late
scenario esxi7-bootstate-late-valid.img "p6 bootstate=0 past byte 512: no write is needed, so the loader keeps p6 and boots it; a linter finding only"
expect esxi7-bootstate-late-valid.img "\"next\":{\"partition\":6,\"build\":\"$B7\"},\"rollback\":false"

edit_cfg esxi7-no-bootstate.img cnobs 6 "$B7" 2 none "p6 boot.cfg lost its bootstate= line"
scenario esxi7-no-bootstate.img "p6 boot.cfg has no bootstate= line: the loader reads 0 (VALID) and boots p6 (u-root would call it invalid); report it"
expect esxi7-no-bootstate.img "\"next\":{\"partition\":6,\"build\":\"$B7\"},\"rollback\":false"

edit_cfg esxi7-updated-zero.img cu0 6 "$B7" 0 0 "p6 updated=0"
scenario esxi7-updated-zero.img "p6 updated=0: invalid update counter, not bootable, state stays 0 (no upgrade in flight, no rollback); p5 boots"
expect esxi7-updated-zero.img "\"next\":{\"partition\":5,\"build\":\"$B7_OLD\"},\"rollback\":false"

edit_cfg esxi7-empty-build.img ceb 5 "" 3 1 "p5 upgraded but its build= is empty" --payload-build "$B7_OLD" --family 7
scenario esxi7-empty-build.img "p5 bootstate=1 updated=3 with an empty build=: invalid while upgrading, so the upgrade failed: written 3 and the rollback flag is set; p6 boots"
expect esxi7-empty-build.img "\"next\":{\"partition\":6,\"build\":\"$B7\"},\"rollback\":true"

edit_cfg esxi7-tie.img ctie 5 "$B7_OLD" 2 0 "both banks updated=2"
scenario esxi7-tie.img "both banks valid with updated=2: a tie keeps the first scanned, p5"
expect esxi7-tie.img "\"next\":{\"partition\":5,\"build\":\"$B7_OLD\"},\"rollback\":false"

edit_cfg esxi7-bootstate-blank.img cblank 5 "$B7_OLD" 3 1 "p5 boot.cfg edited by hand to bootstate = 1 (blanks around =), updated=3" --blank
scenario esxi7-bootstate-blank.img "p5 says bootstate = 1 with blanks before =: the loader's reader does not take it (bootstate defaults to 0, VALID), so p5 boots at once with updated=3, no trial boot; the writer would have found it: a finding"
expect esxi7-bootstate-blank.img "\"next\":{\"partition\":5,\"build\":\"$B7_OLD\"},\"rollback\":false"

edit_cfg esxi7-updated-nonnumeric.img cnn 6 "$B7" two 0 "p6 boot.cfg says updated=two"
scenario esxi7-updated-nonnumeric.img "p6 updated=two: an integer option that is not numeric makes the loader reject the whole boot.cfg, so p6 is not a bank; p5 boots"
expect esxi7-updated-nonnumeric.img "\"next\":{\"partition\":5,\"build\":\"$B7_OLD\"},\"rollback\":false"

# three banks: p8 after OSDATA is a third bank (upgrades can briefly leave three)
bank b7three "$B7_NEW" 3 0
esxi7_disk esxi7-three-banks.img b7old b7 487424
gpt_part esxi7-three-banks.img 8 354304 485375 "$GUID_DATA" BOOTBANK3 6A0D6F2E-1B61-4C5B-9E11-3F1E2C7A1008 bank
gpt_write esxi7-three-banks.img
put_bank esxi7-three-banks.img 512 8 354304 131072 63100008 BOOTBANK3 "$U7_8" b7three
scenario esxi7-three-banks.img "three banks p5 (updated=1), p6 (updated=2), p8 (updated=3, all bootstate=0): p8 boots"
expect esxi7-three-banks.img "\"next\":{\"partition\":8,\"build\":\"$B7_NEW\"},\"rollback\":false"

# four banks: the loader stops after three, so p9 (updated=9) is never looked at
bank b7four "$B7_NEW" 9 0
cp --sparse=always "$OUT/esxi7-three-banks.img" "$OUT/esxi7-four-banks.img"
copy_offsets esxi7-four-banks.img esxi7-three-banks.img
truncate -s $(( 620544 * 512 )) "$OUT/esxi7-four-banks.img"
GPT_ARGS=(-e)
fact esxi7-four-banks.img copy '"from":"esxi7-three-banks.img"'
fact esxi7-four-banks.img image "\"sizeBytes\":$(( 620544 * 512 )),\"history\":\"esxi7-three-banks.img grown by 65 MiB, GPT moved to the end (sgdisk -e), p9 added\""
gpt_part esxi7-four-banks.img 9 487424 618495 "$GUID_DATA" BOOTBANK4 6A0D6F2E-1B61-4C5B-9E11-3F1E2C7A1009 bank
gpt_write esxi7-four-banks.img
put_bank esxi7-four-banks.img 512 9 487424 131072 63100009 BOOTBANK4 "$U7_9" b7four
scenario esxi7-four-banks.img "four banks: the loader stops after the third bank found (p8), so p9 with updated=9 is never scanned; p8 boots"
expect esxi7-four-banks.img "\"next\":{\"partition\":8,\"build\":\"$B7_NEW\"},\"rollback\":false"

# a forced sync done right (ESXI.md §6): p5 got p6's files, keeps its own UUID/serial/label and
# becomes the valid fallback with updated=1
bank bsync "$B7" 1 0
esxi7_disk esxi7-synced.img bsync b7
scenario esxi7-synced.img "p5 synced from p6 the right way: same build and payloads, own sector-1 UUID, serial and label, boot.cfg updated=1 bootstate=0; the banks differ only where ESXI.md section 6 allows"
expect esxi7-synced.img "\"next\":{\"partition\":6,\"build\":\"$B7\"},\"rollback\":false"

# a forced sync done wrong: p6 copied raw over p5 (dd), cloning UUID, serial, label, hidden sectors
derive esxi7-raw-cloned-bank.img esxi7.img "p6 copied raw over p5 (dd of the whole partition)"
fallocate -p -o $(( 69632 * 512 )) -l $(( 131072 * 512 )) "$OUT/esxi7-raw-cloned-bank.img"
"${PY[@]}" extract "$OUT/esxi7.img" $(( 202752 * 512 )) $(( 131072 * 512 )) "$WORK/p6.img"
"${PY[@]}" place "$WORK/p6.img" "$OUT/esxi7-raw-cloned-bank.img" $(( 69632 * 512 ))
fact esxi7-raw-cloned-bank.img fs "\"number\":5,\"vmwareUUID\":\"$U7_6\",\"hiddenSectors\":202752,\"filesystem\":{\"type\":\"FAT16\",\"label\":\"BOOTBANK2\",\"serial\":\"6310-0006\",\"clusterSize\":4096}"
fact esxi7-raw-cloned-bank.img bank "\"partition\":5,\"factsFile\":\"$WORK/b7.json\""
damage esxi7-raw-cloned-bank.img "\"kind\":\"rawClonedBank\",\"partition\":5,\"from\":6,\"lba\":69632,\"detail\":{\"duplicateUUID\":\"$U7_6\",\"serial\":\"6310-0006\",\"label\":\"BOOTBANK2\",\"hiddenSectors\":202752,\"partitionFirstLBA\":69632}"
scenario esxi7-raw-cloned-bank.img "p5 is a raw copy of p6: two banks with one UUID (and one FAT serial and label; p5's BPB hidden-sectors field says 202752); both updated=2 bootstate=0, so the tie goes to p5"
expect esxi7-raw-cloned-bank.img "\"next\":{\"partition\":5,\"build\":\"$B7\"},\"rollback\":false"

# --------------------------------------------------------------------------- damaged variants
D6=$(( 202752 ))   # p6 first LBA in esxi7.img

derive esxi7-digest-mismatch.img esxi7.img "one byte of the decompressed s.v00 of p6 changed and re-gzipped"
mkdir -p "$WORK/dmg"
j=$("${PY[@]}" regzip-flip "$WORK/b7/s.v00" "$WORK/dmg/s.v00" --offset 100000)
replace_file esxi7-digest-mismatch.img 6 "$WORK/dmg" s.v00
damage esxi7-digest-mismatch.img "\"kind\":\"payloadDigestMismatch\",\"partition\":6,\"file\":\"s.v00\",\"payload\":\"s\",\"vib\":\"esx-base\",\"detail\":$j,\"where\":$(where esxi7-digest-mismatch.img 6 s.v00)"
scenario esxi7-digest-mismatch.img "p6 s.v00 is a valid gzip whose content differs by one byte from what the VIB descriptor's sha-256/sha-1 (gunzip) digests say"
expect esxi7-digest-mismatch.img "\"next\":{\"partition\":6,\"build\":\"$B7\"},\"rollback\":false"

derive esxi7-truncated-gzip.img esxi7.img "k.b00 of p6 cut short (the copy stopped early)"
ksize=$(stat -c %s "$WORK/b7/k.b00")
j=$("${PY[@]}" truncate "$WORK/b7/k.b00" "$WORK/dmg/k.b00" $(( ksize * 2 / 3 )))
replace_file esxi7-truncated-gzip.img 6 "$WORK/dmg" k.b00
damage esxi7-truncated-gzip.img "\"kind\":\"truncatedGzip\",\"partition\":6,\"file\":\"k.b00\",\"payload\":\"k\",\"vib\":\"esx-base\",\"detail\":$j,\"where\":$(where esxi7-truncated-gzip.img 6 k.b00)"
scenario esxi7-truncated-gzip.img "p6 k.b00 holds only the first two thirds of its gzip stream (no trailer): the loader would fail loading it"
expect esxi7-truncated-gzip.img "\"next\":{\"partition\":6,\"build\":\"$B7\"},\"rollback\":false"

derive esxi7-bad-state-gzip.img esxi7.img "a bit flipped in the CRC-32 trailer of p6 state.tgz"
j=$("${PY[@]}" flip "$WORK/b7/state.tgz" "$WORK/dmg/state.tgz" -8)
replace_file esxi7-bad-state-gzip.img 6 "$WORK/dmg" state.tgz
damage esxi7-bad-state-gzip.img "\"kind\":\"gzipCRC\",\"partition\":6,\"file\":\"state.tgz\",\"detail\":$j,\"where\":$(where esxi7-bad-state-gzip.img 6 state.tgz)"
scenario esxi7-bad-state-gzip.img "p6 state.tgz (host configuration, no manifest covers it) inflates fully but its gzip CRC-32 trailer is wrong"
expect esxi7-bad-state-gzip.img "\"next\":{\"partition\":6,\"build\":\"$B7\"},\"rollback\":false"

derive esxi7-missing-module.img esxi7.img "sb.v00 deleted from p6"
j=$(where esxi7-missing-module.img 6 sb.v00)
mt esxi7-missing-module.img 6 mdel ::/sb.v00
damage esxi7-missing-module.img "\"kind\":\"missingModule\",\"partition\":6,\"file\":\"sb.v00\",\"payload\":\"sb\",\"vib\":\"esx-base\",\"deletedEntry\":$j"
scenario esxi7-missing-module.img "p6 lacks sb.v00, which boot.cfg modules= and the image profile both name"
expect esxi7-missing-module.img "\"next\":{\"partition\":6,\"build\":\"$B7\"},\"rollback\":false"

derive esxi7-missing-magic.img esxi7.img "sector 1 of p6 zeroed"
dd if=/dev/zero of="$OUT/esxi7-missing-magic.img" bs=512 seek=$(( D6 + 1 )) count=1 conv=notrunc status=none
damage esxi7-missing-magic.img "\"kind\":\"missingMagic\",\"partition\":6,\"lba\":$(( D6 + 1 )),\"offset\":$(( (D6 + 1) * 512 )),\"length\":512"
fact esxi7-missing-magic.img fs '"number":6,"vmwareUUID":null,"vmwareUUIDOffset":null,"magicIntact":false'
scenario esxi7-missing-magic.img "p6 lost its VMWARE FAT16 magic and UUID (sector 1 zeroed): not a bank any more although its FAT and boot.cfg are fine; p5 boots"
expect esxi7-missing-magic.img "\"next\":{\"partition\":5,\"build\":\"$B7_OLD\"},\"rollback\":false"

derive esxi7-bad-primary-gpt.img esxi7.img "primary GPT header CRC damaged"
j=$("${PY[@]}" gpt-corrupt "$OUT/esxi7-bad-primary-gpt.img" primary)
damage esxi7-bad-primary-gpt.img "\"kind\":\"gptPrimaryHeaderCRC\",\"structure\":\"primaryHeader\",\"detail\":$j"
fact esxi7-bad-primary-gpt.img image '"loaderReadsTable":false,"linuxReadsTable":true'
scenario esxi7-bad-primary-gpt.img "primary GPT header CRC wrong, backup intact: Linux (sgdisk, blkid) reads the backup, the ESXi loader does not: NOT bootable"
expect esxi7-bad-primary-gpt.img '"next":null,"rollback":false,"message":"the loader cannot read the primary GPT"'

derive esxi7-bad-backup-gpt.img esxi7.img "backup GPT header CRC damaged"
j=$("${PY[@]}" gpt-corrupt "$OUT/esxi7-bad-backup-gpt.img" backup)
damage esxi7-bad-backup-gpt.img "\"kind\":\"gptBackupHeaderCRC\",\"structure\":\"backupHeader\",\"detail\":$j"
scenario esxi7-bad-backup-gpt.img "backup GPT header CRC wrong, primary intact: a warning only, the device boots p6"
expect esxi7-bad-backup-gpt.img "\"next\":{\"partition\":6,\"build\":\"$B7\"},\"rollback\":false"

# protective-MBR rule: GPT only when MBR entry 1 is type 0xEE at LBA 1 with boot flag 0
derive esxi7-pmbr-bootflag.img esxi7.img "boot flag 0x80 set on the protective MBR entry (as some BIOSes want)"
printf '\x80' | dd of="$OUT/esxi7-pmbr-bootflag.img" bs=1 seek=446 conv=notrunc status=none
damage esxi7-pmbr-bootflag.img '"kind":"protectiveMBRBootFlag","structure":"protectiveMBR","lba":0,"offset":446,"detail":{"old":"0x00","new":"0x80"}'
fact esxi7-pmbr-bootflag.img image '"loaderTable":"mbr","linuxReadsTable":true'
scenario esxi7-pmbr-bootflag.img "the 0xEE entry carries boot flag 0x80: Linux still reads the GPT, the ESXi loader takes the disk as MBR, sees only the 0xEE partition and no bank: No hypervisor found."
expect esxi7-pmbr-bootflag.img '"next":null,"rollback":false,"message":"No hypervisor found."'

derive esxi7-hybrid-mbr.img esxi7.img "sgdisk -h 1:EE (hybrid MBR: entry 1 = ESP 0xEF, entry 2 = 0xEE)"
sgdisk -h 1:EE "$OUT/esxi7-hybrid-mbr.img" >/dev/null
damage esxi7-hybrid-mbr.img '"kind":"hybridMBR","structure":"protectiveMBR","lba":0,"offset":446,"detail":{"entries":[{"entry":1,"type":"0xef","startLBA":64,"sectors":65536},{"entry":2,"type":"0xee","startLBA":1,"sectors":63}]}'
fact esxi7-hybrid-mbr.img image '"loaderTable":"mbr","linuxReadsTable":true'
scenario esxi7-hybrid-mbr.img "hybrid MBR made by sgdisk -h 1:EE: entry 1 is the ESP (0xEF), the 0xEE entry is second; Linux reads the GPT, the loader reads the MBR: ESP only, no bank: No hypervisor found."
expect esxi7-hybrid-mbr.img '"next":null,"rollback":false,"message":"No hypervisor found."'

derive esxi7-hybrid-mbr-ee-first.img esxi7.img "hybrid MBR with the 0xEE entry first (entry 2 = ESP 0xEF)"
j=$("${PY[@]}" mbr-set "$OUT/esxi7-hybrid-mbr-ee-first.img" --entry 1:ee:1:63 --entry 2:ef:64:65599)
damage esxi7-hybrid-mbr-ee-first.img "\"kind\":\"hybridMBR\",\"structure\":\"protectiveMBR\",\"lba\":0,\"offset\":446,\"detail\":{\"entries\":$j}"
fact esxi7-hybrid-mbr-ee-first.img image '"loaderTable":"gpt","linuxReadsTable":true'
scenario esxi7-hybrid-mbr-ee-first.img "hybrid MBR whose entry 1 is 0xEE at LBA 1 with boot flag 0 (entry 2 = ESP): the loader still takes the GPT and boots p6; report the hybrid"
expect esxi7-hybrid-mbr-ee-first.img "\"next\":{\"partition\":6,\"build\":\"$B7\"},\"rollback\":false"

fat_damage() { # IMG KIND FILE [--other F] HISTORY
  local img=$1 kind=$2 file=$3 hist=${*: -1}
  derive "$img" esxi7.img "$hist"
  local extra=(); [ "$4" = --other ] && extra=(--other "$5")
  j=$("${PY[@]}" fat-damage "$OUT/$img" $(( D6 * 512 )) "$kind" "$file" "${extra[@]}")
  damage "$img" "\"kind\":\"fat\",\"fatDamage\":\"$kind\",\"partition\":6,\"detail\":$j"
}
fat_damage esxi7-fat-loop.img loop s.v00 "the FAT chain of p6 s.v00 loops back (both FAT copies)"
scenario esxi7-fat-loop.img "p6: the last cluster of s.v00 points back to its third cluster in both FATs (a loop); reading the file must stop, not hang"
expect esxi7-fat-loop.img "\"next\":{\"partition\":6,\"build\":\"$B7\"},\"rollback\":false"
fat_damage esxi7-fat-crosslink.img crosslink k.b00 --other sb.v00 "p6 k.b00 cross-linked into sb.v00"
scenario esxi7-fat-crosslink.img "p6: the second cluster of k.b00 continues into the middle of sb.v00's chain (cross-link, lost clusters), both FATs"
expect esxi7-fat-crosslink.img "\"next\":{\"partition\":6,\"build\":\"$B7\"},\"rollback\":false"
fat_damage esxi7-fat-mismatch.img mismatch sb.v00 "second FAT copy of p6 differs"
scenario esxi7-fat-mismatch.img "p6: FAT copy 2 ends sb.v00's chain after one cluster, FAT copy 1 is intact (the copies differ)"
expect esxi7-fat-mismatch.img "\"next\":{\"partition\":6,\"build\":\"$B7\"},\"rollback\":false"

# --------------------------------------------------------------------------- 4Kn
# The 7.x scaled layout at the same byte offsets with 4096-byte logical sectors.
esxi7_4kn() {
  local img=$1 uoff=$2
  rm -f "$OUT/$img"; truncate -s $(( 44288 * 4096 )) "$OUT/$img"
  "${PY[@]}" gpt4k "$OUT/$img" --disk-guid 6A0D6F2E-1B61-4C5B-9E11-3F1E2C7A4001 \
    --part "1:8:8199:$GUID_ESP:BOOT:6A0D6F2E-1B61-4C5B-9E11-3F1E2C7A4101" \
    --part "5:8704:25087:$GUID_DATA:BOOTBANK1:6A0D6F2E-1B61-4C5B-9E11-3F1E2C7A4105" \
    --part "6:25344:41727:$GUID_DATA:BOOTBANK2:6A0D6F2E-1B61-4C5B-9E11-3F1E2C7A4106" \
    --part "7:41984:44031:$GUID_OSDATA:OSDATA:6A0D6F2E-1B61-4C5B-9E11-3F1E2C7A4107"
  fact "$img" image "\"sectorSize\":4096,\"sizeBytes\":$(( 44288 * 4096 )),\"table\":\"gpt\",\"diskGUID\":\"6A0D6F2E-1B61-4C5B-9E11-3F1E2C7A4001\""
  fact "$img" partition "\"number\":1,\"firstLBA\":8,\"lastLBA\":8199,\"typeGUID\":\"$GUID_ESP\",\"name\":\"BOOT\",\"partitionGUID\":\"6A0D6F2E-1B61-4C5B-9E11-3F1E2C7A4101\",\"role\":\"esp\""
  fact "$img" partition "\"number\":5,\"firstLBA\":8704,\"lastLBA\":25087,\"typeGUID\":\"$GUID_DATA\",\"name\":\"BOOTBANK1\",\"partitionGUID\":\"6A0D6F2E-1B61-4C5B-9E11-3F1E2C7A4105\",\"role\":\"bank\""
  fact "$img" partition "\"number\":6,\"firstLBA\":25344,\"lastLBA\":41727,\"typeGUID\":\"$GUID_DATA\",\"name\":\"BOOTBANK2\",\"partitionGUID\":\"6A0D6F2E-1B61-4C5B-9E11-3F1E2C7A4106\",\"role\":\"bank\""
  fact "$img" partition "\"number\":7,\"firstLBA\":41984,\"lastLBA\":44031,\"typeGUID\":\"$GUID_OSDATA\",\"name\":\"OSDATA\",\"partitionGUID\":\"6A0D6F2E-1B61-4C5B-9E11-3F1E2C7A4107\",\"role\":\"osdata\""
  fat "$img" 4096 1 8 8192 63104001 - "$U7_ESP" "$WORK/esp"
  put_bank "$img" 4096 5 8704 16384 63104005 BOOTBANK1 "$U7_5" b7old
  put_bank "$img" 4096 6 25344 16384 63104006 BOOTBANK2 "$U7_6" b7
  if [ "$uoff" = 512 ]; then
    # as the 6.7 installer did on 4Kn media: magic + UUID at byte 512, sector 1 left empty
    local n s
    for n in 1 5 6; do
      s=${POFF[$img:$n]}
      dd if="$OUT/$img" of="$WORK/magic.bin" bs=1 skip=$(( s + 4096 )) count=32 status=none
      dd if="$WORK/magic.bin" of="$OUT/$img" bs=1 seek=$(( s + 512 )) conv=notrunc status=none
      dd if=/dev/zero of="$OUT/$img" bs=1 seek=$(( s + 4096 )) count=32 conv=notrunc status=none
      fact "$img" fs "\"number\":$n,\"vmwareUUIDOffset\":512"
    done
  fi
}
esxi7_4kn esxi7-4kn.img 4096
scenario esxi7-4kn.img "esxi7.img with 4096-byte logical sectors (same byte offsets, LBAs / 8); VMware magic in sector 1 (byte 4096) of each FAT"
expect esxi7-4kn.img "\"next\":{\"partition\":6,\"build\":\"$B7\"},\"rollback\":false"
esxi7_4kn esxi7-4kn-uuid512.img 512
scenario esxi7-4kn-uuid512.img "as esxi7-4kn.img, but the VMware magic and UUID sit at byte 512 of each FAT (inside sector 0), as the 6.7 installer wrote them on 4Kn media: the loader reads the magic only in sector 1 (byte 4096), so it finds no bank"
expect esxi7-4kn-uuid512.img '"next":null,"rollback":false,"message":"No hypervisor found."'

# --------------------------------------------------------------------------- oracle outputs
EXP=$OUT/expected
rm -rf "$EXP"; mkdir -p "$EXP"
oracle() { # IMG SS PARTS...  (run from OUT so that tools print the bare file name)
  local img=$1 ss=$2 d=$EXP/${1%.img}; shift 2
  mkdir -p "$d"
  (
    cd "$OUT"
    fdisk -b "$ss" -l "$img" >"$d/fdisk-l.txt" 2>&1 || true
    if [ "$ss" = 512 ]; then
      if [ "$(dd if="$img" bs=1 skip=512 count=8 status=none)" = "EFI PART" ]; then
        # (sgdisk on an MBR disk invents a random disk GUID: GPT disks only)
        sgdisk -p "$img" >"$d/sgdisk-p.txt" 2>&1 || true
        sgdisk -v "$img" >"$d/sgdisk-v.txt" 2>&1 || true
      fi
      sfdisk --dump "$img" >"$d/sfdisk-dump.txt" 2>&1 || true
      blkid -p -o udev "$img" >"$d/blkid-disk.txt" 2>&1 || true
    fi
    local n
    for n in "$@"; do
      local off=${POFF[$img:$n]} size=${PSIZE[$img:$n]}
      blkid -p -o udev -O "$off" -S "$size" "$img" >"$d/blkid-p$n.txt" 2>&1 || true
      mdir -/ -a -i "$img@@$off" ::/ >"$d/mdir-p$n.txt" 2>&1 || true
      "${PY[@]}" extract "$img" "$off" "$size" "$WORK/part.img"
      fsck.fat -n "$WORK/part.img" >"$d/fsck-p$n.txt" 2>&1 || true
    done
  )
}
oracle esxi7.img 512 1 5 6
oracle esxi7-real-layout.img 512 1 5 6
oracle esxi6.img 512 1 5 6 8
oracle esxi-mbr.img 512 4 5 6 8
oracle esxi7-4kn.img 4096 1 5 6
oracle esxi7-fat-loop.img 512 6
oracle esxi7-fat-crosslink.img 512 6
oracle esxi7-fat-mismatch.img 512 6
oracle esxi7-bad-primary-gpt.img 512
oracle esxi7-bad-backup-gpt.img 512
oracle esxi7-pmbr-bootflag.img 512
oracle esxi7-hybrid-mbr.img 512
oracle esxi7-hybrid-mbr-ee-first.img 512
sed -i "s#$WORK#WORK#g" "$EXP"/*/fsck-*.txt

# --------------------------------------------------------------------------- manifest
"${PY[@]}" manifest "$FACTS" "$OUT/manifest-of-scenarios.json"

ELAPSED_MS=$(( $(date +%s%N) / 1000000 - START_MS ))
{
  printf '%-34s %10s %12s\n' image real apparent
  for f in "$OUT"/*.img; do
    printf '%-34s %10s %12s\n' "$(basename "$f")" "$(du -h "$f" | cut -f1)" "$(du -h --apparent-size "$f" | cut -f1)"
  done
  printf 'total real %s, %d.%d s\n' "$(du -ch "$OUT"/*.img | tail -1 | cut -f1)" $(( ELAPSED_MS / 1000 )) $(( ELAPSED_MS % 1000 / 100 ))
} >&2
