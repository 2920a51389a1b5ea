#!/usr/bin/env bash
# Installs Debian's Chromium for the browser test (test/browser/playground.test.ts) when it is
# missing. Safe to run again: does nothing when /usr/bin/chromium exists.
# Chromium ships SwiftShader's Vulkan driver (/usr/lib/chromium/vk_swiftshader_icd.json), which
# gives headless Chromium a WebGPU adapter on machines without a GPU.
set -euo pipefail

CHROMIUM="${MOEC_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
  echo "install-browser: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM") already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-browser: need root or sudo for apt-get" >&2; exit 1; }
  SUDO="sudo"
fi
command -v apt-get >/dev/null || {
  echo "install-browser: no apt-get; install Chromium yourself and set MOEC_CHROMIUM to its path" >&2
  exit 1
}

echo "install-browser: installing Debian's chromium" >&2
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends chromium

"$CHROMIUM" --version
