# Sourced by the benchmark scripts: Swift on PATH, the local broker started, and no test cluster running
# beside it (the fault tests leave their 3-node cluster up for fast reruns: three more Erlang VMs on two
# cores skew the figures).
if ! command -v swift >/dev/null && [[ -x /opt/swift/usr/bin/swift ]]; then export PATH=/opt/swift/usr/bin:$PATH; fi
deploy/rabbitmq-local.sh start >&2
if timeout 60 deploy/rabbitmq-cluster.sh status >/dev/null 2>&1; then
  echo "bench: stopping the test cluster (deploy/rabbitmq-cluster.sh) for a quieter machine" >&2
  timeout 300 deploy/rabbitmq-cluster.sh stop >/dev/null 2>&1 || true
fi

# Sets url_file to a new file (removed on exit) holding the URL of a PostgreSQL database made anew for this
# run (deploy/postgres-local.sh fresh-db warren_bench): PostgreSQL starts from empty tables, as SQLite
# starts from a new file, whatever earlier runs left.
fresh_postgres_url_file() {
  deploy/postgres-local.sh start >&2
  url_file=$(mktemp)
  trap 'rm -f "$url_file"' EXIT
  deploy/postgres-local.sh fresh-db warren_bench >"$url_file"
}
