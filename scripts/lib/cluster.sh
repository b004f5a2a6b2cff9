# Shared by the cluster fault drills (source after scripts/lib/integration.sh): the 3-node cluster of
# deploy/rabbitmq-cluster.sh (rmq1..3 on 5681-5683), started when needed and left running.
CLUSTER=deploy/rabbitmq-cluster.sh

# Makes sure all three nodes run, then empties the default vhost. A cluster that is not fully running is test
# data from an earlier run (perhaps killed with its machine): it is wiped and formed afresh rather than waiting
# for a peer that may never come back. An empty vhost: every run declares its topology afresh (a cluster kept
# from an older run may hold exchanges declared with other arguments).
cluster_fresh() {
  local running
  running=$(timeout 60 $CLUSTER status 2>/dev/null || true)
  if ! [[ $running == *rmq1@* && $running == *rmq2@* && $running == *rmq3@* ]]; then
    timeout 300 $CLUSTER reset >/dev/null 2>&1 || true
    timeout 300 $CLUSTER start
  fi
  $CLUSTER ctl 1 delete_vhost / >/dev/null 2>&1 || true
  $CLUSTER ctl 1 add_vhost / >/dev/null
  $CLUSTER ctl 1 set_permissions -p / guest '.*' '.*' '.*' >/dev/null
}

# Clean-up after a drill: starts node $1 again (if not empty), deletes queues $2..., stops the cluster when
# FAULT_CLUSTER_STOP=1.
cluster_cleanup() {
  local node=$1 q
  shift
  [[ -n $node ]] && timeout 180 $CLUSTER start-node "$node" >/dev/null 2>&1 || true
  for q in "$@"; do timeout 30 $CLUSTER ctl 1 -q delete_queue "$q" >/dev/null 2>&1 || true; done
  [[ ${FAULT_CLUSTER_STOP:-0} == 1 ]] && timeout 120 $CLUSTER stop >/dev/null 2>&1 || true
}

# The leader node (rmqN@localhost) of quorum queue $1.
queue_leader() {
  timeout 30 $CLUSTER ctl 1 -q list_queues name leader | awk -v q="$1" '$1 == q {print $2}'
}
