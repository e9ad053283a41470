#!/usr/bin/env bash
# Installs and starts what Kiln and its tests need on a Debian host, as root.
# Idempotent: on a machine that already has everything it changes nothing and
# takes a few seconds. Safe to run again after a reboot (it restarts services).
#
#   bash scripts/setup.sh            # services + base images
#   KILN_SKIP_IMAGES=1 bash scripts/setup.sh   # services only
set -euo pipefail

log() { printf '[setup] %s\n' "$*" >&2; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

# The arch an image says it is built for (label org.kiln.arch), empty when unknown or absent.
image_arch() {
  local arch
  arch=$(docker image inspect -f '{{index .Config.Labels "org.kiln.arch"}}' "$1" 2>/dev/null) || return 0
  [ "$arch" = '<no value>' ] || printf '%s' "$arch"
}
# qemu's binfmt_misc handler name for a Debian arch.
binfmt_name() {
  case "$1" in
    arm64) echo qemu-aarch64 ;; armhf | armel) echo qemu-arm ;; ppc64el) echo qemu-ppc64le ;;
    *) echo "qemu-$1" ;;
  esac
}
# The machine's own Debian mirror, from its apt sources (deb822 or one-line form).
debian_mirror() {
  local mirror
  mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ {print $2; exit}' || true)
  [ -n "$mirror" ] || mirror=$(grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' | head -1)
  [ -n "$mirror" ] || die "no Debian mirror in /etc/apt/sources.list*: debootstrap needs one"
  printf '%s' "${mirror%/}"
}

[ "$(id -u)" = 0 ] || die "run as root (it installs Debian packages and starts services)"
command -v apt-get >/dev/null || die "this script needs a Debian-based host (apt-get not found)"

STATE_DIR=${KILN_SETUP_STATE:-/var/lib/kiln-setup}
LOG_DIR=${KILN_SETUP_LOGS:-/var/log/kiln}
mkdir -p "$STATE_DIR" "$LOG_DIR"

# --- Debian packages --------------------------------------------------------
# zstd: the payload artifacts (.tar.zst) are packed with it. wrk: bench/api-load.ts's load generator.
# qemu-user-static: emulators for other architectures' builds (registered with binfmt_misc below).
packages=(docker.io docker-compose docker-registry rabbitmq-server postgresql debootstrap busybox-static git ca-certificates curl zstd chromium wrk qemu-user-static)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Debian's maintainer scripts try to start services through policy-rc.d;
  # without systemd they fail harmlessly, so we start everything ourselves below.
  apt-get install -y -qq "${missing[@]}" >"$LOG_DIR/apt.log" 2>&1 \
    || { tail -20 "$LOG_DIR/apt.log" >&2; die "apt-get install failed (full log: $LOG_DIR/apt.log)"; }
fi

# --- Docker engine ----------------------------------------------------------
if ! docker info >/dev/null 2>&1; then
  log "starting dockerd"
  # A dockerd killed uncleanly leaves its pid file behind and refuses to start.
  if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
    rm -f /var/run/docker.pid
  fi
  setsid nohup dockerd >"$LOG_DIR/dockerd.log" 2>&1 < /dev/null &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || { tail -20 "$LOG_DIR/dockerd.log" >&2; die "dockerd did not come up"; }
fi

# --- RabbitMQ ---------------------------------------------------------------
# Builds hold their message unacked until the result is committed, so the
# broker-wide consumer timeout (30 min by default) must outlast the longest
# build. RabbitMQ < 3.12 ignores the per-queue x-consumer-timeout argument.
conf=/etc/rabbitmq/rabbitmq.conf
if ! grep -q '^consumer_timeout' "$conf" 2>/dev/null; then
  log "setting consumer_timeout = 24h in $conf"
  echo 'consumer_timeout = 86400000' >> "$conf"
fi
if [ ! -f /etc/rabbitmq/enabled_plugins ] || ! grep -q rabbitmq_management /etc/rabbitmq/enabled_plugins; then
  log "enabling the RabbitMQ management UI (http://127.0.0.1:15672, guest/guest)"
  rabbitmq-plugins --offline enable rabbitmq_management >/dev/null
fi
if ! rabbitmqctl -q status >/dev/null 2>&1; then
  log "starting rabbitmq-server"
  rabbitmq-server -detached >/dev/null 2>&1 || true
  rabbitmqctl -q wait --timeout 60 /var/lib/rabbitmq/mnesia/rabbit@"$(hostname -s)".pid >/dev/null 2>&1 \
    || for _ in $(seq 1 60); do rabbitmqctl -q status >/dev/null 2>&1 && break; sleep 1; done
  rabbitmqctl -q status >/dev/null 2>&1 || die "rabbitmq-server did not come up (see /var/log/rabbitmq)"
fi

# --- PostgreSQL -------------------------------------------------------------
pgver=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1)
[ -n "$pgver" ] || die "no PostgreSQL cluster found under /etc/postgresql"
hba=/etc/postgresql/$pgver/main/pg_hba.conf
# The default URL (postgres://postgres@127.0.0.1:5432/kiln) has no password:
# trust loopback connections, as a developer machine's PostgreSQL usually does.
if ! grep -q '^# kiln: trust loopback' "$hba"; then
  log "allowing password-less loopback connections in $hba"
  tmp=$(mktemp)
  { echo '# kiln: trust loopback'
    echo 'host all all 127.0.0.1/32 trust'
    echo 'host all all ::1/128 trust'
    cat "$hba"; } > "$tmp"
  cat "$tmp" > "$hba"; rm -f "$tmp"
  pg_ctlcluster --skip-systemctl-redirect "$pgver" main reload >/dev/null 2>&1 || true
fi
if ! pg_lsclusters -h | awk '{print $4}' | grep -q online; then
  log "starting PostgreSQL $pgver"
  pg_ctlcluster --skip-systemctl-redirect "$pgver" main start
fi
for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 && break; sleep 0.5; done
pg_isready -q -h 127.0.0.1 || die "PostgreSQL is not accepting connections on 127.0.0.1:5432"
if ! psql -h 127.0.0.1 -U postgres -Atqc "select 1 from pg_database where datname='kiln'" | grep -q 1; then
  log "creating database kiln"
  psql -h 127.0.0.1 -U postgres -qc 'create database kiln' >/dev/null
fi

# --- Emulators for other architectures --------------------------------------
# Without systemd nothing registers qemu-user-static's handlers: mount binfmt_misc and
# register each emulator Debian ships (/usr/lib/binfmt.d/qemu-*.conf). Their F flag opens the
# emulator at registration, so containers run foreign binaries without qemu in their file system.
if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
  mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc \
    || die "cannot mount binfmt_misc: other architectures' builds need it"
fi
for conf in /usr/lib/binfmt.d/qemu-*.conf; do
  [ -e "$conf" ] || continue
  name=$(basename "$conf" .conf)
  [ -e "/proc/sys/fs/binfmt_misc/$name" ] || grep -v '^#' "$conf" | head -1 > /proc/sys/fs/binfmt_misc/register \
    || log "could not register the $name emulator"
done

# --- Base images, built without a registry ----------------------------------
if [ "${KILN_SKIP_IMAGES:-0}" != 1 ]; then
  # kiln/busybox: a few MB, starts fast; the test suites' default image.
  if [ -z "$(image_arch kiln/busybox:latest)" ]; then
    log "building kiln/busybox:latest from Debian's busybox-static"
    root=$(mktemp -d)
    mkdir -p "$root"/{bin,tmp,etc,root,usr/bin,usr/local,var/tmp}
    chmod 1777 "$root/tmp" "$root/var/tmp"
    cp /bin/busybox "$root/bin/busybox"
    for applet in $(/bin/busybox --list); do
      [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
    done
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$root/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
    tar -C "$root" -c . | docker import -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin' -c 'CMD ["/bin/sh"]' -c "LABEL org.kiln.arch=$(dpkg --print-architecture)" - kiln/busybox:latest >/dev/null
    rm -rf "$root"
  fi
  # debian:bookworm (minbase) and kiln/bookworm-build (+ build-essential), for the host's
  # arch and for each arch in KILN_SETUP_ARCHS (default arm64), built under qemu emulation
  # and tagged with the arch's suffix (debian:bookworm-arm64, kiln/bookworm-build:latest-arm64).
  # Each image carries the label org.kiln.arch: Docker 20.10 says amd64 for every imported
  # image, so Kiln reads the arch from the label. The root file systems are cached as
  # tarballs so a wiped Docker engine re-imports them in seconds instead of running debootstrap again.
  cache=/var/cache/kiln-images
  mkdir -p "$cache"
  host_arch=$(dpkg --print-architecture)
  for arch in "$host_arch" ${KILN_SETUP_ARCHS-arm64}; do
    if [ "$arch" = "$host_arch" ]; then suffix=''; tarname=bookworm; else suffix="-$arch"; tarname="bookworm-$arch"; fi
    [ "$arch" = "$host_arch" ] || [ -e "/proc/sys/fs/binfmt_misc/$(binfmt_name "$arch")" ] \
      || die "no emulator registered for $arch (binfmt_misc): cannot build its base images"
    if [ "$(image_arch "debian:bookworm$suffix")" = "$arch" ] && [ "$(image_arch "kiln/bookworm-build:latest$suffix")" = "$arch" ]; then
      continue
    fi
    if [ ! -s "$cache/$tarname-minbase.tar" ] || [ ! -s "$cache/$tarname-build.tar" ]; then
      root=$(mktemp -d /var/tmp/kiln-bookworm.XXXXXX)
      log "debootstrap bookworm (minbase, $arch) from $(debian_mirror): a few minutes, once (more when emulated)"
      debootstrap --arch="$arch" --variant=minbase bookworm "$root" "$(debian_mirror)" >"$LOG_DIR/debootstrap-$arch.log" 2>&1 \
        || { tail -20 "$LOG_DIR/debootstrap-$arch.log" >&2; die "debootstrap ($arch) failed"; }
      rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
      tar -C "$root" -c . > "$cache/$tarname-minbase.tar"
      log "adding build-essential ($arch)"
      mount --bind /proc "$root/proc" 2>/dev/null || true
      cp /etc/resolv.conf "$root/etc/resolv.conf"
      chroot "$root" apt-get update -qq >>"$LOG_DIR/debootstrap-$arch.log" 2>&1
      DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get install -y -qq --no-install-recommends build-essential file >>"$LOG_DIR/debootstrap-$arch.log" 2>&1 \
        || { umount "$root/proc" 2>/dev/null || true; tail -20 "$LOG_DIR/debootstrap-$arch.log" >&2; die "installing build-essential ($arch) failed"; }
      umount "$root/proc" 2>/dev/null || true
      chroot "$root" apt-get clean
      rm -rf "$root"/var/lib/apt/lists/*
      tar -C "$root" -c . > "$cache/$tarname-build.tar"
      rm -rf "$root"
    fi
    log "importing debian:bookworm$suffix and kiln/bookworm-build:latest$suffix ($arch)"
    docker import -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' -c 'CMD ["bash"]' \
      -c "LABEL org.kiln.arch=$arch" "$cache/$tarname-minbase.tar" "debian:bookworm$suffix" >/dev/null
    docker import -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' -c 'CMD ["bash"]' \
      -c "LABEL org.kiln.arch=$arch" "$cache/$tarname-build.tar" "kiln/bookworm-build:latest$suffix" >/dev/null
  done
  # kiln/diffoscope: Debian's diffoscope-minimal (+ binutils and xxd for readable binaries, faketime),
  # where a reproducibility check shows how two builds differ. Built once from debian:bookworm with
  # apt (a minute), saved in the cache so a wiped engine loads it in seconds.
  if ! docker image inspect kiln/diffoscope:latest >/dev/null 2>&1; then
    if [ -s "$cache/diffoscope.tar" ]; then
      docker load -q -i "$cache/diffoscope.tar" >/dev/null
    else
      log "building kiln/diffoscope:latest (diffoscope-minimal from Debian): about a minute, once"
      printf '%s\n' 'FROM debian:bookworm' \
        'RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends diffoscope-minimal binutils xxd faketime >/dev/null && rm -rf /var/lib/apt/lists/*' \
        | docker build -q -t kiln/diffoscope:latest - >"$LOG_DIR/diffoscope-image.log" 2>&1 \
        || { tail -20 "$LOG_DIR/diffoscope-image.log" >&2; die "building kiln/diffoscope failed"; }
      docker save -o "$cache/diffoscope.tar" kiln/diffoscope:latest
    fi
  fi
fi

log "ready: docker $(docker version -f '{{.Server.Version}}'), rabbitmq $(rabbitmqctl -q version 2>/dev/null || echo '?'), postgresql $pgver"
