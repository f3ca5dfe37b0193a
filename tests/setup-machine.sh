#!/usr/bin/env bash
# Installs and starts what the test suite needs on a Debian/Ubuntu machine, idempotently:
# apt packages (ffmpeg, nginx, espeak-ng, sox, redis, chromium, node), a running PostgreSQL and Redis,
# and the npm packages of the browser tests (tests/e2e).
set -euo pipefail

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

need=()
command -v ffmpeg >/dev/null || need+=(ffmpeg)
command -v nginx >/dev/null || need+=(nginx-light)
command -v espeak-ng >/dev/null || need+=(espeak-ng)
command -v sox >/dev/null || need+=(sox)
command -v redis-server >/dev/null || need+=(redis-server)
command -v wrk >/dev/null || need+=(wrk)
# the listener page's end-to-end tests: Debian's Chromium driven by playwright-core (node >= 20)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
# the player matrix (tests/players): GStreamer playbin3 through PyGObject, and VLC 3 (run as a non-root user)
for package in python3-gi python3-gst-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good \
    gstreamer1.0-plugins-bad gstreamer1.0-libav vlc-bin vlc-plugin-base; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || need+=("$package")
done
if [ ${#need[@]} -gt 0 ]; then
    echo "setup-machine: installing ${need[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# VLC refuses to run as root: the player matrix runs it as this system user
if ! id robian-player >/dev/null 2>&1; then
    $SUDO useradd --system --no-create-home --shell /usr/sbin/nologin robian-player
fi

# PostgreSQL: start the machine's cluster if one is installed but stopped. Without any, the tests
# start an embedded PostgreSQL of their own (pgserver), so nothing else is required here.
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    if [ -d /etc/postgresql ] && command -v pg_ctlcluster >/dev/null; then
        for version in $(ls /etc/postgresql); do
            $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
        done
    fi
fi

# Redis: the tests want one on 127.0.0.1:6379 (nothing persisted), and start their own extra ones.
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    $SUDO mkdir -p /var/lib/redis /var/log/redis
    $SUDO redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
        --dir /var/lib/redis --logfile /var/log/redis/ci.log
    for _ in $(seq 50); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 0.1; done
fi
# playwright-core and hls.js exactly as pinned in tests/e2e/package-lock.json (again only when it changed)
e2e="$(cd "$(dirname "$0")" && pwd)/e2e"
if [ ! -f "$e2e/node_modules/.package-lock.json" ] || [ "$e2e/package-lock.json" -nt "$e2e/node_modules/.package-lock.json" ]; then
    echo "setup-machine: npm ci in tests/e2e"
    (cd "$e2e" && npm ci --no-audit --no-fund --loglevel=error)
fi
echo "setup-machine: ready"
