#!/usr/bin/env bash
# check-reproducible.sh -- run make-images.sh twice into scratch directories and compare every
# output (images, expected/, manifest) by SHA-256; run selfcheck.py on the result; then compare the
# committed images/expected/ and images/manifest-of-scenarios.json with the fresh run.
# Exit 0 when all agree, 1 otherwise.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/bootbank-repro.XXXXXX")
trap 'rm -rf "$T"' EXIT
status=0
PYTHON=$(python3 -c 'import sys; print(sys.executable)')

for run in a b; do
  s=$(( $(date +%s%N) / 1000000 ))
  bash "$HERE/make-images.sh" "$T/$run" 2>"$T/$run.log"
  e=$(( $(date +%s%N) / 1000000 - s ))
  printf 'run %s: %d.%d s\n' "$run" $(( e / 1000 )) $(( e % 1000 / 100 ))
  # images: a digest of their data blocks (sparse-aware, see mkbank.py sum); the rest: sha256sum
  (cd "$T/$run" && "$PYTHON" "$HERE/mkbank.py" sum ./*.img &&
    find . -type f ! -name '*.img' | LC_ALL=C sort | xargs sha256sum) >"$T/$run.sums"
done
if cmp -s "$T/a.sums" "$T/b.sums"; then
  echo "reproducible: $(wc -l <"$T/a.sums") files identical in two runs"
else
  echo "NOT reproducible:"; diff "$T/a.sums" "$T/b.sums" || true; status=1
fi

# the images hold what the manifest says (independent readers: sfdisk, mtools, gzip, tar, XML)
"$PYTHON" "$HERE/selfcheck.py" "$T/a" || status=1

# the committed oracle outputs and facts must be what the generator writes today
if [ -d "$HERE/expected" ]; then
  while read -r f; do
    if ! cmp -s "$HERE/$f" "$T/a/$f"; then echo "differs from a fresh run: images/$f"; status=1; fi
  done < <(cd "$T/a" && { find expected -type f; echo manifest-of-scenarios.json; } | LC_ALL=C sort)
  while read -r f; do
    [ -e "$T/a/$f" ] || { echo "committed but no longer generated: images/$f"; status=1; }
  done < <(cd "$HERE" && find expected -type f | LC_ALL=C sort)
  [ $status = 0 ] && echo "committed expected/ and manifest match the fresh run"
fi
exit $status
