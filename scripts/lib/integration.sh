# Shared by scripts/integration/*.sh and scripts/demo.sh (sourced, not run): the binary under test and queue clean-up.

# Prints the `warren` executable to test (WARREN_BIN, default the debug build), building it if missing.
warren_bin() {
  local bin=${WARREN_BIN:-.build/debug/warren}
  [[ -x $bin ]] || nice swift build --product warren >&2
  echo "$bin"
}

# Deletes queues on $WARREN_URL, ignoring those already gone.
delete_queues() {
  local q
  for q in "$@"; do amqp-delete-queue --url="$WARREN_URL" -q "$q" >/dev/null 2>&1 || true; done
}
