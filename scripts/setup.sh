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
  # npm ci installs exactly the lock file and never rewrites it (npm install may add or drop
  # other platforms' optional packages in the tracked package-lock.json, leaving a fresh clone
  # dirty); checked with npm 11: `git status --short` prints nothing after set-up.
  # onnxruntime-node (the generation benchmark's peer, optional) would download CUDA libraries
  # from NuGet in its postinstall; its CPU and WebGPU providers ship in the package itself.
  export ONNXRUNTIME_NODE_INSTALL=skip
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
fi

# Dawn's two harmless "artificially reduced" limit warnings (printed natively while it enumerates
# lavapipe) are dropped here as in the moec command (cli/moec.ts).
DAWN_NOISE='^Warning: maxDynamic(Uniform|Storage)BuffersPerPipelineLayout artificially reduced from'
probe() { node scripts/probe-webgpu.mjs 2> >(grep -Ev "$DAWN_NOISE" >&2); }

if probe; then
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

probe || {
  echo "setup: still no WebGPU adapter after installing lavapipe" >&2
  exit 1
}
