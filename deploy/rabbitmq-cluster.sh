#!/usr/bin/env bash
# A 3-node RabbitMQ cluster on loopback, for quorum-mode tests and failover drills.
#
# Usage: deploy/rabbitmq-cluster.sh start|stop|reset|status|urls|stop-node N|start-node N|ctl N ARGS...
#
# Nodes rmq1..3@localhost, AMQP on 127.0.0.1:5681..5683 (TLS 5684..5686, Erlang distribution 25681..25683),
# each run by deploy/rabbitmq-local.sh in its own dir WARREN_CLUSTER_DIR/rmqN (default /tmp/warren-cluster).
# The three share one Erlang cookie (written into each node's HOME before its first start); nodes 2 and 3
# join rmq1 on first start. Workers connect with all three URLs and fail over:
#   WARREN_URL=amqp://guest:guest@127.0.0.1:5681,127.0.0.1:5682,127.0.0.1:5683/%2F
# The nodes start in parallel: after an unclean stop (machine killed, container recycled) each node waits for
# its peers' tables before it finishes booting, so starting them one after another would wait forever on the
# first. `reset` stops the nodes and wipes their data (the cluster forms afresh on the next start).
# Every step is bounded (rabbitmq-local.sh waits at most WARREN_RABBIT_START_TIMEOUT, default 90 s, per node).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
BASE=${WARREN_CLUSTER_DIR:-/tmp/warren-cluster}
NODES=(1 2 3)

log() { echo "rabbitmq-cluster: $*" >&2; }

# Runs deploy/rabbitmq-local.sh for node N with that node's dir, ports and name.
node() {
  local n=$1
  shift
  # Each node runs the management plugin (HTTP API for `warren status` and the dashboard) on 15680+N.
  WARREN_RABBIT_DIR=$BASE/rmq$n WARREN_RABBIT_PORT=$((5680 + n)) WARREN_RABBIT_TLS_PORT=$((5683 + n)) \
    WARREN_RABBIT_MGMT_PORT=$((15680 + n)) WARREN_RABBIT_NODE=rmq$n@localhost "$HERE/rabbitmq-local.sh" "$@"
}

# Same cookie for every node (Erlang distribution refuses nodes with different cookies).
write_cookies() {
  mkdir -p "$BASE"
  [[ -s $BASE/cookie ]] || { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' | tr a-f A-F >"$BASE/cookie"; }
  local n
  for n in "${NODES[@]}"; do
    mkdir -p "$BASE/rmq$n/home"
    chmod 700 "$BASE/rmq$n/home"
    if ! cmp -s "$BASE/cookie" "$BASE/rmq$n/home/.erlang.cookie"; then
      rm -f "$BASE/rmq$n/home/.erlang.cookie"
      cp "$BASE/cookie" "$BASE/rmq$n/home/.erlang.cookie"
      chmod 400 "$BASE/rmq$n/home/.erlang.cookie"
    fi
  done
}

# True when node N already lists rmq1 among the running cluster members.
joined() {
  node "$1" ctl -q cluster_status --formatter json 2>/dev/null | grep -q '"running_nodes":\[[^]]*rmq1@localhost'
}

start() {
  write_cookies
  local n pids=() failed=0
  for n in "${NODES[@]}"; do
    node "$n" start &
    pids+=($!)
  done
  for n in "${pids[@]}"; do wait "$n" || failed=1; done
  ((failed == 0)) || { log "a node did not start"; return 1; }
  for n in 2 3; do
    joined "$n" && continue
    log "joining rmq$n to rmq1"
    node "$n" ctl -q stop_app
    node "$n" ctl -q join_cluster rmq1@localhost
    node "$n" ctl -q start_app
  done
  node 1 ctl -q await_online_nodes 3 --timeout 60 >/dev/null 2>&1 || true
  status
}

stop() {
  local n
  for n in 3 2 1; do node "$n" stop || true; done
}

reset() {
  local n
  stop
  for n in "${NODES[@]}"; do node "$n" reset >/dev/null 2>&1 || true; done
  log "wiped the data of rmq1..3 (cookie and TLS material kept)"
}

# Prints the running members as seen by the first node that answers.
status() {
  local n out
  for n in "${NODES[@]}"; do
    if out=$(node "$n" ctl -q cluster_status --formatter json 2>/dev/null); then
      echo "$out" | grep -o '"running_nodes":\[[^]]*\]' | sed 's/"running_nodes"/running nodes (seen by rmq'"$n"')/'
      return 0
    fi
  done
  log "no node answering"
  return 3
}

cmd=${1:-}
[[ $# -gt 0 ]] && shift
case $cmd in
  start) start ;;
  stop) stop ;;
  reset) reset ;;
  status) status ;;
  urls) echo "amqp://guest:guest@127.0.0.1:5681,127.0.0.1:5682,127.0.0.1:5683/%2F" ;;
  stop-node) node "${1:?node number}" stop ;;
  start-node) write_cookies; node "${1:?node number}" start ;;
  ctl) n=${1:?node number}; shift; node "$n" ctl "$@" ;;
  *) echo "usage: $0 start|stop|reset|status|urls|stop-node N|start-node N|ctl N ARGS..." >&2; exit 2 ;;
esac
