#!/usr/bin/env bash
# Install what building and testing Warren needs on a bare Debian 12 (run as root): the broker, the C
# client, Ruby (ActiveJob, bunny) and Go for the producer tests, and a Python venv (pika, celery) for the
# interoperability tests. Idempotent and fast when everything is already there: apt-get update runs only
# if a package is missing.
# Env: WARREN_VENV (default .venv in the repo root), WARREN_PYTHON (default python3),
#      WARREN_PIP_PACKAGES (default: pinned pika, celery and selenium).
# chromium + chromium-driver + selenium: the dashboard's browser test (scripts/integration/dashboard-browser.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

# ruby-activejob, ruby-bunny, golang-go and golang-github-rabbitmq-amqp091-go-dev: the Rails ActiveJob, Ruby
# and Go producers of scripts/integration/activejob*.sh and ruby-go-producers.sh (Go builds offline from
# Debian's source tree: GO111MODULE=off GOPATH=/usr/share/gocode); postgresql and sqlite3: the job store's
# backends under test (deploy/postgres-local.sh); chromium and chromium-driver: the dashboard's browser test.
APT_PACKAGES=(librabbitmq-dev pkg-config rabbitmq-server amqp-tools openssl ca-certificates python3-venv
              ruby-activejob ruby-bunny golang-go golang-github-rabbitmq-amqp091-go-dev
              postgresql sqlite3 chromium chromium-driver)
APT_PACKAGES+=(graphviz)  # dot, for workflow diagrams (docs/workflows.md, warren workflow graph --format dot)
VENV=${WARREN_VENV:-.venv}
PYTHON=${WARREN_PYTHON:-python3}
read -r -a PIP_PACKAGES <<<"${WARREN_PIP_PACKAGES:-pika==1.4.4 celery==5.7.0 selenium==4.38.0}"

log() { echo "install-deps: $*" >&2; }

# Keep dpkg from starting Debian's own rabbitmq-server and postgresql services during the install
# (they would take ports 5672 and 5432): a temporary policy-rc.d, unless the image has one.
no_service_start() {
  [[ -e /usr/sbin/policy-rc.d ]] && return 0
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
}

# --- Debian packages ---------------------------------------------------------
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  [[ $(id -u) -eq 0 ]] || { log "need root to install: ${missing[*]}"; exit 1; }
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  no_service_start
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
else
  log "apt packages already installed"
fi

# --- Python venv ---------------------------------------------------------------
# Recreate a venv whose interpreter is gone (e.g. a pyenv version removed).
if ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
  log "creating venv $VENV with $PYTHON"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
fi
# Fast path: skip pip when the pinned versions are already there.
have=$("$VENV/bin/python" -m pip freeze --disable-pip-version-check 2>/dev/null || true)
need=0
for p in "${PIP_PACKAGES[@]}"; do grep -qixF "$p" <<<"$have" || need=1; done
if ((need)); then
  log "pip install ${PIP_PACKAGES[*]}"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "${PIP_PACKAGES[@]}" </dev/null
else
  log "venv $VENV already has ${PIP_PACKAGES[*]}"
fi
