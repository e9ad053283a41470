#!/usr/bin/env bash
# Stops what scripts/up.sh started (server, crawler, agent, mail sink). The services of
# scripts/setup.sh (Docker, RabbitMQ, PostgreSQL) and the data stay.
set -uo pipefail
RUN=${KILN_RUN:-/run/kiln}
for name in server agent crawler mail-sink; do
  pidfile="$RUN/$name.pid"
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    # The agent finishes or requeues running builds within its grace period.
    for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    echo "stopped $name (pid $pid)"
  fi
  rm -f "$pidfile"
done
