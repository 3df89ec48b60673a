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

# npm ci when node_modules is missing or older than the lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "bootstrap: npm ci" >&2
  npm ci --no-audit --no-fund >&2
fi
