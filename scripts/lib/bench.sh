# Sourced by the benchmark scripts: Swift on PATH, the local broker started, and no test cluster running
# beside it (the fault tests leave their 3-node cluster up for fast reruns: three more Erlang VMs on two
# cores skew the figures).
if ! command -v swift >/dev/null && [[ -x /opt/swift/usr/bin/swift ]]; then export PATH=/opt/swift/usr/bin:$PATH; fi
deploy/rabbitmq-local.sh start >&2
if timeout 60 deploy/rabbitmq-cluster.sh status >/dev/null 2>&1; then
  echo "bench: stopping the test cluster (deploy/rabbitmq-cluster.sh) for a quieter machine" >&2
  timeout 300 deploy/rabbitmq-cluster.sh stop >/dev/null 2>&1 || true
fi
