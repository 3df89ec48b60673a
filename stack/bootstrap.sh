#!/usr/bin/env bash
# First step of `npm start` / `npm test`: installs the Debian packages and npm dependencies the project
# needs when they are missing. Python venvs and the Go-built Kubernetes binaries are installed by the
# stack CLI itself (cached by version under ~/.cache/edgeport).
set -euo pipefail
cd "$(dirname "$0")/.."

# fonts-wqy-microhei: a CJK font, so zh-CN screenshots of the portal show characters, not boxes.
APT_PACKAGES=(redis-server redis-tools chromium poppler-utils docker-registry skopeo fonts-wqy-microhei)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing Debian packages: ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# npm ci when node_modules is missing or was installed from another lock file. The lock's content hash is
# compared, not its mtime: a checkout or merge rewrites the file (newer mtime, same content), and a second
# worktree sharing node_modules must not reinstall it under the feet of running tests.
lock_hash="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ ! -f node_modules/.package-lock.json ] || [ "$(cat node_modules/.edgeport-lock-sha256 2>/dev/null)" != "$lock_hash" ]; then
  echo "bootstrap: npm ci" >&2
  npm ci --no-audit --no-fund >&2
  echo "$lock_hash" > node_modules/.edgeport-lock-sha256
fi
