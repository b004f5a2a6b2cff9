#!/usr/bin/env bash
# Enqueue Warren jobs from the shell with amqp-publish (Debian package amqp-tools), no Warren library
# (see docs/wire-format.md). Tested in CI against a real broker and worker (scripts/integration/polyglot.sh).
# Usage: WARREN_URL=amqp://user:pass@host:5672/%2F producer.sh QUEUE ECHO_FILE
# amqp-publish sends string headers only (Warren reads integers and times from strings) and cannot set
# message_id (the worker then assigns one) or priority: ask for priority through a lane queue instead
# (worker run with --lanes N: routing key QUEUE.laneK, higher K first).
# The password goes to amqp-publish in a temporary --authfile, not on its command line.
set -euo pipefail
queue=$1 echo_file=$2
url=${WARREN_URL:-amqp://guest:guest@127.0.0.1:5672/%2F}
rest=${url#amqp://}
userinfo=${rest%%@*} hostpart=${rest#*@}
hostport=${hostpart%%/*} vhost=${hostpart#*/}
[[ $hostpart == */* ]] || vhost=%2F
vhost=${vhost//%2F//} vhost=${vhost//%2f//}
authfile=$(mktemp)
trap 'rm -f "$authfile"' EXIT
printf 'username:%s\npassword:%s\n' "${userinfo%%:*}" "${userinfo#*:}" >"$authfile"

# publish EXCHANGE ROUTING_KEY BODY [HEADER ...]: one persistent JSON job.
publish() {
  local exchange=$1 routing_key=$2 body=$3 headers=()
  shift 3
  for h in "$@"; do headers+=(-H "$h"); done
  timeout 20 amqp-publish --server="${hostport%%:*}" --port="${hostport##*:}" --vhost="$vhost" --authfile="$authfile" \
    -e "$exchange" -r "$routing_key" -p -C application/json -H "warren-version: 1" "${headers[@]}" -b "$body"
}

# delay_key MS QUEUE: routing key on warren.delay, 32 binary digits of the delay in ms, then the queue.
delay_key() {
  local ms=$1 key="" level
  for ((level = 31; level >= 0; level--)); do key+="$(((ms >> level) & 1))."; done
  printf '%s%s' "$key" "$2"
}

now_ms=$(date +%s%3N)
args() { printf '{"file":"%s","label":"%s","n":%s}' "$echo_file" "$1" "$2"; }
publish warren "$queue" "$(args sh-plain 1)" "warren-job: echo" "warren-attempt: 1"
publish warren "$queue" "$(args sh-expiring 2)" "warren-job: echo" "warren-expires-at: $((now_ms + 60000))"
publish warren "$queue" "$(args sh-traced 3)" "warren-job: echo" \
  "traceparent: 00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01"
publish warren "$queue.lane2" "$(args sh-prio 4)" "warren-job: echo"
publish warren.delay "$(delay_key 1500 "$queue")" "$(args sh-delayed 5)" "warren-job: echo"
publish warren "$queue" "$(args sh-run-at 6)" "warren-job: echo" \
  "warren-run-at: $(date -u -d '@'$(((now_ms + 2000) / 1000)) +%Y-%m-%dT%H:%M:%SZ)"
echo "enqueued 6 echo jobs into $queue"
