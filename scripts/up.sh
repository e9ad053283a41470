#!/usr/bin/env bash
# Brings Kiln up on this host and proves it: services, migrations, a mail sink,
# the crawler and an agent in the background, then pushes the bundled example
# packages as release branches to a local git server the crawler watches and
# shows what Kiln built. Running it again is quick and changes nothing.
#
#   bash scripts/up.sh        # up, and show the example builds
#   bash scripts/down.sh      # stop what up.sh started
set -euo pipefail
cd "$(dirname "$0")/.."
KILN_HOME=${KILN_HOME:-/var/lib/kiln}
LOGS=${KILN_LOGS:-/var/log/kiln}
RUN=${KILN_RUN:-/run/kiln}
mkdir -p "$KILN_HOME/git" "$KILN_HOME/mail" "$LOGS" "$RUN"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

say "machine set-up (Docker engine, RabbitMQ, PostgreSQL, base images)"
bash scripts/setup.sh

say "installing and building Kiln"
npm install --no-audit --no-fund --loglevel=error >"$LOGS/npm.log" 2>&1 || { tail -20 "$LOGS/npm.log"; exit 1; }

export KILN_REPO_ROOT="$KILN_HOME/git"
export KILN_POLL_INTERVAL=${KILN_POLL_INTERVAL:-5}
export KILN_WORK_DIR="$KILN_HOME/work" KILN_ARTIFACT_DIR="$KILN_HOME/artifacts" KILN_CACHE_DIR="$KILN_HOME/cache"
export KILN_SMTP_URL=${KILN_SMTP_URL:-smtp://127.0.0.1:1025}
export KILN_HTTP_PORT=${KILN_HTTP_PORT:-8090}
export KILN_PUBLIC_URL=${KILN_PUBLIC_URL:-http://127.0.0.1:$KILN_HTTP_PORT}
export KILN_SIGNING_KEY=${KILN_SIGNING_KEY:-$KILN_HOME/keys/signing-key.asc}
kiln() { node bin/kiln.js "$@"; }

say "applying database migrations"
kiln migrate

# start NAME COMMAND...: runs it in the background unless its pid file names a live process.
start() {
  local name=$1; shift
  if [ -f "$RUN/$name.pid" ] && kill -0 "$(cat "$RUN/$name.pid")" 2>/dev/null; then
    echo "    $name already running (pid $(cat "$RUN/$name.pid"))" >&2
    return
  fi
  setsid nohup "$@" >>"$LOGS/$name.log" 2>&1 < /dev/null &
  echo $! >"$RUN/$name.pid"
  echo "    $name started (pid $!, log $LOGS/$name.log)" >&2
}
if [ ! -f "$KILN_SIGNING_KEY" ]; then
  say "making the package repository's signing key ($KILN_SIGNING_KEY)"
  mkdir -p "$(dirname "$KILN_SIGNING_KEY")"
  kiln keys generate --out "$KILN_SIGNING_KEY" >"$(dirname "$KILN_SIGNING_KEY")/repo-key.asc"
fi

say "starting the mail sink, the crawler, an agent and the server"
KILN_MAIL_DIR="$KILN_HOME/mail" start mail-sink node --import tsx scripts/mail-sink.ts
start crawler node bin/kiln.js crawler
start agent node bin/kiln.js agent
start server node --max-semi-space-size=4 bin/kiln.js server # 4 MB semi-spaces: see README, Scaling

say "pushing the example packages as release branches to $KILN_REPO_ROOT"
push_example() { # push_example DIR BRANCH
  local name; name=$(basename "$1")
  local bare="$KILN_REPO_ROOT/$name.git" work="$KILN_HOME/examples/$name"
  [ -d "$bare" ] || git init -q --bare --initial-branch=main "$bare"
  if [ ! -d "$work/.git" ]; then
    git init -q --initial-branch=main "$work"
    git -C "$work" remote add origin "$bare"
  fi
  rsync -a --delete --exclude .git "$1/" "$work/" 2>/dev/null || { find "$work" -mindepth 1 -maxdepth 1 ! -name .git -exec rm -rf {} +; cp -a "$1/." "$work/"; }
  git -C "$work" add -A
  if ! git -C "$work" diff --cached --quiet || ! git -C "$work" rev-parse -q --verify HEAD >/dev/null; then
    git -C "$work" -c user.name="Kiln Example" -c user.email=examples@kiln.invalid commit -q -m "$2"
  fi
  git -C "$work" push -q --force origin "HEAD:refs/heads/$2"
  echo "    $2 → $(git -C "$work" rev-parse --short HEAD)" >&2
}
push_example examples/libgreet libgreet-1.2.0
push_example examples/broken broken-0.1.0

say "waiting for the builds (first run: the prepare stage installs a compiler, then it is cached)"
psql_q() { psql "${KILN_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/kiln}" -Atqc "$1"; }
wait_build() { # wait_build NAME VERSION → prints the build id
  local deadline=$((SECONDS + ${KILN_UP_TIMEOUT:-900})) row=""
  while [ $SECONDS -lt $deadline ]; do
    row=$(psql_q "select id || ' ' || status from builds where package_name = '$1' and package_version = '$2' order by queued_at desc limit 1")
    case "$row" in
      *" succeeded"|*" failed"|*" errored"|*" cancelled") echo "${row%% *}"; return 0 ;;
    esac
    sleep 2
  done
  echo "timed out waiting for $1-$2 (state: ${row:-not seen yet}); see $LOGS/crawler.log and $LOGS/agent.log" >&2
  return 1
}
good=$(wait_build libgreet 1.2.0)
bad=$(wait_build broken 0.1.0)

say "libgreet-1.2.0"
kiln status "$good"
say "broken-0.1.0 (fails on purpose)"
kiln status "$bad" || true
mail=$(ls -t "$KILN_HOME/mail"/*.eml 2>/dev/null | head -1 || true)
[ -n "$mail" ] && echo "    the failure email: $mail" >&2

cat >&2 <<TXT

Kiln is up. Crawler, agent, server and mail sink run in the background:
  server:    $KILN_PUBLIC_URL  (API $KILN_PUBLIC_URL/api/v1/builds, repository $KILN_PUBLIC_URL/repo/index.json)
  logs:      $LOGS/{crawler,agent,server,mail-sink}.log
  repo key:  $(dirname "$KILN_SIGNING_KEY")/repo-key.asc (for kiln fetch --key)
  git root:  $KILN_REPO_ROOT (push <name>-<version> branches to bare repositories here)
  builds:    node bin/kiln.js status
  stop:      bash scripts/down.sh
TXT
