#!/usr/bin/env bash
# What the whole test suite needs from the system, beyond Python 3.11, Node.js and npm:
# Chromium (browser tests), Redis, PostgreSQL and nginx (tests/cluster), iproute2's `ss`
# (tests/test_live.py reads the accept queue), and CJK and emoji fonts (screenshots in
# Chinese). Installs what is missing with apt-get when run as root; otherwise stops at
# once and prints the one command that would. Quick when nothing is missing.
set -euo pipefail

missing=()
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
# harness/browser.py launches CHROMIUM_PATH, /usr/bin/chromium unless told otherwise.
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || missing+=(chromium)
command -v ss >/dev/null 2>&1 || missing+=(iproute2)
command -v fc-list >/dev/null 2>&1 || missing+=(fontconfig)
# Read the font list once: `fc-list | grep -q` under pipefail fails at random when grep
# exits at the first match and fc-list dies of SIGPIPE, so present fonts looked missing.
fonts="$(fc-list : family 2>/dev/null || true)"
grep -qi "Noto Sans CJK" <<<"$fonts" || missing+=(fonts-noto-cjk)
grep -qi "Noto Color Emoji" <<<"$fonts" || missing+=(fonts-noto-color-emoji)
# tests/cluster starts these itself (no systemd needed); PostgreSQL's binaries live
# under /usr/lib/postgresql/<version>/bin, nginx's under /usr/sbin.
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v initdb >/dev/null 2>&1 || compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)

if ((${#missing[@]} == 0)); then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "The test suite needs system packages this machine lacks: ${missing[*]}" >&2
  echo "Install them with:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  echo "(make test-fast runs the unit, HTTP and socket tests without them.)" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "The test suite needs these (Debian names; install them with your system's tools): ${missing[*]}" >&2
  exit 1
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
