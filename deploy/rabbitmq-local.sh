#!/usr/bin/env bash
# Run a private RabbitMQ 3.10 node (Debian's rabbitmq-server) without systemd.
#
# Usage: deploy/rabbitmq-local.sh start|stop|restart|status|reset|ctl ARGS...|diag ARGS...
#
# One node, rabbit@localhost, serves both AMQP on 127.0.0.1:5672 and AMQPS on
# 127.0.0.1:5671 (TLS material is generated once per data dir, under $DIR/tls).
# Everything lives in WARREN_RABBIT_DIR (default /tmp/warren-rabbitmq):
#   home/ (HOME for every rabbit command: holds the Erlang cookie), mnesia/, log/,
#   rabbitmq.conf, advanced.config, enabled_plugins, rabbitmq.pid, launcher.pid, tls/.
# The management plugin (HTTP API and UI, read by `warren status` and `warren dashboard`) listens on
# 127.0.0.1:15672; `start` on a running node that lacks it enables it online (no restart).
# Env: WARREN_RABBIT_DIR, WARREN_RABBIT_PORT (5672), WARREN_RABBIT_TLS_PORT (5671), WARREN_RABBIT_MGMT_PORT (15672),
#      WARREN_RABBIT_NODE (rabbit@localhost), WARREN_RABBIT_START_TIMEOUT (90 s).
# Must run as root (the Debian wrapper would switch to the rabbitmq user).
set -euo pipefail

DIR=${WARREN_RABBIT_DIR:-/tmp/warren-rabbitmq}
PORT=${WARREN_RABBIT_PORT:-5672}
TLS_PORT=${WARREN_RABBIT_TLS_PORT:-5671}
MGMT_PORT=${WARREN_RABBIT_MGMT_PORT:-15672}
NODE=${WARREN_RABBIT_NODE:-rabbit@localhost}
START_TIMEOUT=${WARREN_RABBIT_START_TIMEOUT:-90}
RBIN=/usr/lib/rabbitmq/bin
TLS=$DIR/tls

log() { echo "rabbitmq-local: $*" >&2; }
die() { log "error: $*"; exit 1; }

# The environment every rabbit command (server, ctl, diagnostics) sees. The cookie is
# $DIR/home/.erlang.cookie, so server and CLI always agree whatever the caller's HOME.
rabbit_env() {
  mkdir -p "$DIR/home" && chmod 700 "$DIR/home"   # Erlang creates the cookie there
  export HOME=$DIR/home
  export ERL_CRASH_DUMP=$DIR/erl_crash.dump  # never litter the caller's cwd
  export RABBITMQ_NODENAME=$NODE
  export RABBITMQ_NODE_PORT=$PORT            # also fixes the dist port: PORT + 20000
  export RABBITMQ_MNESIA_BASE=$DIR/mnesia
  export RABBITMQ_LOG_BASE=$DIR/log
  export RABBITMQ_PID_FILE=$DIR/rabbitmq.pid
  export RABBITMQ_CONFIG_FILE=$DIR/rabbitmq.conf
  export RABBITMQ_ADVANCED_CONFIG_FILE=$DIR/advanced.config
  export RABBITMQ_ENABLED_PLUGINS_FILE=$DIR/enabled_plugins
  # Erlang schedulers unbound (RabbitMQ binds one per core by default): on a small host shared with workers
  # and producers, a bound scheduler and a client pinned to the same core halve throughput at random.
  # Set WARREN_RABBIT_SCHEDULER_BIND=db on a host dedicated to the broker.
  export RABBITMQ_SCHEDULER_BIND_TYPE=${WARREN_RABBIT_SCHEDULER_BIND:-u}
}

ctl()  { rabbit_env; "$RBIN/rabbitmqctl" -n "$NODE" "$@"; }
plugins() { rabbit_env; "$RBIN/rabbitmq-plugins" -n "$NODE" "$@"; }
diag() { rabbit_env; "$RBIN/rabbitmq-diagnostics" -n "$NODE" "$@"; }

need_root() { [[ $(id -u) -eq 0 ]] || die "must run as root"; }

# Pid of the launcher (session leader of the broker's process group), if alive.
launcher_pid() {
  local pid
  pid=$(cat "$DIR/launcher.pid" 2>/dev/null) || return 1
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

# Pid of the beam VM (written by RabbitMQ itself), if alive.
beam_pid() {
  local pid
  pid=$(cat "$DIR/rabbitmq.pid" 2>/dev/null) || return 1
  [[ -n $pid && -d /proc/$pid ]] && echo "$pid"
}

# True when the node answers on the Erlang distribution and the app is running.
# Fast "no" when none of our processes is alive (the CLI needs seconds to fail).
answering() {
  launcher_pid >/dev/null || beam_pid >/dev/null || return 1
  (ctl -q await_startup --timeout 5 >/dev/null 2>&1)
}

# Keep dpkg from starting Debian's own rabbitmq-server service during the install
# (it would take port 5672): a temporary policy-rc.d, unless the image has one.
no_service_start() {
  [[ -e /usr/sbin/policy-rc.d ]] && return 0
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
}

install_server() {
  [[ -x $RBIN/rabbitmq-server ]] && return 0
  log "installing rabbitmq-server with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  no_service_start
  apt-get update -q
  apt-get install -y -q --no-install-recommends rabbitmq-server </dev/null
}

# CA, server cert (localhost / 127.0.0.1), client cert, and an unrelated CA: made once.
make_tls() {
  [[ -s $TLS/wrong-ca.pem ]] && return 0
  log "generating TLS material in $TLS"
  mkdir -p "$TLS"
  local o=(openssl req -new -nodes -newkey rsa:2048 -sha256)
  "${o[@]}" -x509 -days 3650 -subj "/CN=Warren Test CA" -keyout "$TLS/ca.key" -out "$TLS/ca.pem" 2>/dev/null
  "${o[@]}" -subj "/CN=localhost" -keyout "$TLS/server.key" -out "$TLS/server.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$TLS/server.ext"
  openssl x509 -req -in "$TLS/server.csr" -CA "$TLS/ca.pem" -CAkey "$TLS/ca.key" -CAcreateserial \
    -days 3650 -sha256 -extfile "$TLS/server.ext" -out "$TLS/server.pem" 2>/dev/null
  "${o[@]}" -subj "/CN=warren-client" -keyout "$TLS/client.key" -out "$TLS/client.csr" 2>/dev/null
  printf 'extendedKeyUsage=clientAuth\n' >"$TLS/client.ext"
  openssl x509 -req -in "$TLS/client.csr" -CA "$TLS/ca.pem" -CAkey "$TLS/ca.key" -CAcreateserial \
    -days 3650 -sha256 -extfile "$TLS/client.ext" -out "$TLS/client.pem" 2>/dev/null
  "${o[@]}" -x509 -days 3650 -subj "/CN=Unrelated CA" -keyout "$TLS/wrong-ca.key" -out "$TLS/wrong-ca.pem" 2>/dev/null
  rm -f "$TLS"/*.csr "$TLS"/*.ext "$TLS"/*.srl
  chmod 0644 "$TLS"/*   # test-only material: readable by any test process
}

# Rewritten on every start so template changes apply to an existing data dir.
write_config() {
  mkdir -p "$DIR/home" "$DIR/mnesia" "$DIR/log"
  cat >"$DIR/rabbitmq.conf" <<CONF
listeners.tcp.default = 127.0.0.1:$PORT
listeners.ssl.default = 127.0.0.1:$TLS_PORT
ssl_options.cacertfile = $TLS/ca.pem
ssl_options.certfile = $TLS/server.pem
ssl_options.keyfile = $TLS/server.key
ssl_options.verify = verify_peer
ssl_options.fail_if_no_peer_cert = false
consumer_timeout = 1800000
heartbeat = 60
vm_memory_high_watermark.relative = 0.4
disk_free_limit.absolute = 50MB
management.tcp.ip = 127.0.0.1
management.tcp.port = $MGMT_PORT
CONF
  # Keep the Erlang distribution port on loopback too.
  echo '[{kernel, [{inet_dist_use_interface, {127,0,0,1}}]}].' >"$DIR/advanced.config"
  echo '[rabbitmq_management].' >"$DIR/enabled_plugins"
}

# A node started before the management plugin was part of the set: enable it online, on loopback.
ensure_management() {
  plugins list -q -e rabbitmq_management 2>/dev/null | grep -q rabbitmq_management && return 0
  log "enabling rabbitmq_management online on 127.0.0.1:$MGMT_PORT"
  ctl -q eval "application:set_env(rabbitmq_management, tcp_config, [{ip, \"127.0.0.1\"}, {port, $MGMT_PORT}])." >/dev/null
  plugins -q enable rabbitmq_management >/dev/null
}

# Warren's dead-letter queues (*.dead) lazy: a backlog waits on disk, not in the queue process's memory
# (DeadLetterPolicy in the library says why; the definitions files carry the same policy). Idempotent.
ensure_policies() {
  ctl -q set_policy -p / --apply-to queues --priority 0 warren-dead-letters '\.dead$' '{"queue-mode":"lazy"}' >/dev/null ||
    log "could not set the dead-letter queue policy"
}

print_tls() {
  log "AMQP  amqp://guest:guest@127.0.0.1:$PORT/%2F"
  log "AMQPS amqps://guest:guest@localhost:$TLS_PORT/%2F  TLS files: $TLS/{ca,server,client,wrong-ca}.pem, *.key"
  log "HTTP  http://guest:guest@127.0.0.1:$MGMT_PORT/api/ (management)"
}

start() {
  need_root
  if answering; then log "$NODE already running (dir $DIR)"; ensure_management; ensure_policies; print_tls; return 0; fi
  install_server
  if pid=$(launcher_pid); then
    log "launcher $pid alive but node not answering: waiting for it"
  else
    make_tls
    write_config
    rabbit_env
    log "starting $NODE (dir $DIR)"
    # setsid: own session and process group, survives the caller; stdin closed.
    # The node's working directory must outlive the caller's (a deleted cwd breaks rabbitmqctl stop_app).
    (cd "$DIR" && exec setsid "$RBIN/rabbitmq-server" >"$DIR/out.log" 2>&1 </dev/null) &
    pid=$!
    echo "$pid" >"$DIR/launcher.pid"
  fi
  local deadline=$((SECONDS + START_TIMEOUT))
  until answering; do
    if ! kill -0 "$pid" 2>/dev/null || ((SECONDS >= deadline)); then
      log "node did not start within ${START_TIMEOUT}s; log tail:"
      tail -n 40 "$DIR/out.log" "$DIR/log/$NODE.log" >&2 2>/dev/null || true
      exit 1
    fi
    sleep 1
  done
  log "$NODE is up after ${SECONDS}s"
  ensure_policies
  print_tls
}

# Wait up to $1 seconds for the launcher and the beam to be gone.
wait_gone() {
  local end=$((SECONDS + $1))
  while launcher_pid >/dev/null || beam_pid >/dev/null; do
    ((SECONDS < end)) || return 1
    sleep 0.5
  done
}

stop() {
  need_root
  if launcher_pid >/dev/null || beam_pid >/dev/null; then
    log "stopping $NODE"
    # rabbitmqctl stop PIDFILE returns once the VM has exited.
    timeout 60 "$0" ctl -q stop "$DIR/rabbitmq.pid" >/dev/null 2>&1 || log "rabbitmqctl stop failed"
    # Fall back to signals: the launcher's whole process group, then the beam.
    local sig pid
    for sig in TERM KILL; do
      wait_gone 10 && break
      log "sending SIG$sig"
      if pid=$(launcher_pid); then kill -"$sig" -- "-$pid" 2>/dev/null || true; fi
      if pid=$(beam_pid); then kill -"$sig" "$pid" 2>/dev/null || true; fi
    done
    wait_gone 5 || die "could not stop $NODE"
  fi
  rm -f "$DIR/launcher.pid" "$DIR/rabbitmq.pid"
  log "stopped (epmd, if any, is left running: harmless)"
}

status() {
  if answering; then log "$NODE running (dir $DIR)"; print_tls; else log "$NODE not running"; return 3; fi
}

cmd=${1:-}
[[ $# -gt 0 ]] && shift
case $cmd in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status) status ;;
  reset) stop; rm -rf "$DIR/mnesia" "$DIR/log"; log "wiped broker data (TLS material kept)" ;;
  ctl) ctl "$@" ;;
  diag) diag "$@" ;;
  *) echo "usage: $0 start|stop|restart|status|reset|ctl ARGS...|diag ARGS..." >&2; exit 2 ;;
esac
