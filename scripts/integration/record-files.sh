#!/usr/bin/env bash
# The reference jobs keep their files open (Sources/WarrenCLI/AppendFiles.swift), yet a path keeps meaning the
# file at that path: one `warren worker` appends `record` lines while the test renames, deletes, replaces and
# truncates the file under it, and writes to more files than it keeps open (one of them evicted by a path to
# the same file). Every line must land in the file its path named when the job ran; the worker must hold no
# deleted file and at most 64 of them open.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/lib/integration.sh
source scripts/lib/integration.sh
integration_env
BIN=$(warren_bin)
drill_init
Q=record.files.$$.$RANDOM
A=$WORK/a.txt

"$BIN" worker --queue "$Q" --concurrency 16 >>"$WORK/worker.log" 2>&1 &
worker_pid=$!
wait_consumers "$WORK/worker.log" "$Q"

fail() { echo "FAIL: record-files: $*"; tail -20 "$WORK/worker.log"; exit 1; }
lines() { if [[ -f $1 ]]; then wc -l <"$1"; else echo 0; fi; }
# enqueue N PATH PREFIX: N record jobs appending to PATH.
enqueue() { "$BIN" enqueue record --args "{\"file\":\"$2\"}" --queue "$Q" --count "$1" --id "$3" >/dev/null; }
# expect PATH N: waits (60 s at most) for PATH to hold N lines, then checks it holds exactly N.
expect() {
  local deadline=$((SECONDS + 60))
  until (($(lines "$1") >= $2)); do
    ((SECONDS < deadline)) || fail "$1 has $(lines "$1") lines, expected $2"
    sleep 0.05
  done
  sleep 0.3
  (($(lines "$1") == $2)) || fail "$1 has $(lines "$1") lines, expected exactly $2"
}
# Files of the worker open under $WORK (deleted ones included; not its log, which is its stdout and stderr).
open_files() { find "/proc/$worker_pid/fd" -type l -printf '%l\n' 2>/dev/null | grep "^$WORK/" | grep -vc "/worker.log$" || true; }
deleted_files() { find "/proc/$worker_pid/fd" -type l -printf '%l\n' 2>/dev/null | grep -c "^$WORK/.*(deleted)$" || true; }

enqueue 200 "$A" first
expect "$A" 200

mv "$A" "$WORK/a.renamed"
enqueue 100 "$A" after-rename
expect "$A" 100
(($(lines "$WORK/a.renamed") == 200)) || fail "the renamed file got lines after its rename"

rm "$A"
enqueue 50 "$A" after-delete
expect "$A" 50
(($(deleted_files) == 0)) || fail "the worker still holds a deleted file"

printf 'x\nx\nx\n' >"$WORK/replacement"
mv "$WORK/replacement" "$A"
enqueue 20 "$A" after-replace
expect "$A" 23

: >"$A"
enqueue 10 "$A" after-truncate
expect "$A" 10

# Two paths of one file share a watch: deleting it must reopen both.
enqueue 5 "$WORK/./b.txt" alias-one
enqueue 5 "$WORK/b.txt" alias-two
expect "$WORK/b.txt" 10
rm "$WORK/b.txt"
enqueue 5 "$WORK/./b.txt" alias-three
enqueue 5 "$WORK/b.txt" alias-four
expect "$WORK/b.txt" 10
(($(deleted_files) == 0)) || fail "the worker still holds a deleted file after an aliased path's delete"

# More files than stay open (64): the least recently used is closed for the next. Here that one is reached
# through another path than the file that takes its place, and both share one watch: deleting the file
# afterwards must still reopen the new path.
enqueue 1 "$WORK/./x.txt" evicted-alias
expect "$WORK/x.txt" 1
# 63 more files: every file opened before ./x.txt is closed, and ./x.txt becomes the least recently used.
for i in $(seq 1 63); do enqueue 1 "$WORK/many-$i.txt" "many-$i"; done
deadline=$((SECONDS + 60))
until (($(cat "$WORK"/many-*.txt 2>/dev/null | wc -l) >= 63)); do
  ((SECONDS < deadline)) || fail "the 63 files got $(cat "$WORK"/many-*.txt 2>/dev/null | wc -l) lines, expected 63"
  sleep 0.05
done
for i in $(seq 1 63); do (($(lines "$WORK/many-$i.txt") == 1)) || fail "many-$i.txt has $(lines "$WORK/many-$i.txt") lines"; done
enqueue 1 "$WORK/x.txt" evicting-alias
expect "$WORK/x.txt" 2
rm "$WORK/x.txt"
enqueue 1 "$WORK/x.txt" after-evicted-alias-delete
expect "$WORK/x.txt" 1
(($(deleted_files) == 0)) || fail "the worker still holds a deleted file after its evicted alias's delete"
held=$(open_files)
((held <= 64)) || fail "the worker holds $held files open (at most 64)"

stop_gracefully "$worker_pid"
worker_pid=""
echo "record-files: renamed, deleted, replaced, truncated and aliased files each got exactly their lines; $held of 66 files held open"
echo "PASS"
