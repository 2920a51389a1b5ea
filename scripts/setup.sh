#!/usr/bin/env bash
# Installs the npm dependencies and, when Dawn finds no WebGPU adapter (no GPU, no Vulkan
# driver), Mesa's Vulkan software driver lavapipe. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# npm records what it installed in node_modules/.package-lock.json; skip when that is current.
stamp=node_modules/.package-lock.json
if [ -f "$stamp" ] && [ "$stamp" -nt package.json ] && { [ ! -f package-lock.json ] || [ "$stamp" -nt package-lock.json ]; }; then
  echo "setup: node_modules is up to date"
else
  # npm install (not npm ci): npm 11 drops other platforms' optional packages from the lock
  # file, which makes `npm ci` refuse it; install still follows the locked versions.
  npm install --no-audit --no-fund
fi

if node scripts/probe-webgpu.mjs; then
  exit 0
fi

echo "setup: no WebGPU adapter; installing Mesa's Vulkan software driver (lavapipe)" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: need root or sudo for apt-get" >&2; exit 1; }
  SUDO="sudo"
fi
command -v apt-get >/dev/null || {
  echo "setup: no apt-get; install a Vulkan driver (Mesa >= 24 lavapipe) yourself" >&2
  exit 1
}

# Dawn rejects bookworm's Mesa 22; bookworm-backports has Mesa 25.
codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
target=()
if [ "$codename" = "bookworm" ]; then
  if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
    $SUDO tee /etc/apt/sources.list.d/backports.sources >/dev/null <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  fi
  target=(-t bookworm-backports)
fi
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y "${target[@]}" mesa-vulkan-drivers libvulkan1

node scripts/probe-webgpu.mjs || {
  echo "setup: still no WebGPU adapter after installing lavapipe" >&2
  exit 1
}
