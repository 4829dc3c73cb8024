#!/bin/sh
# Installs Debian's chromium for test/browser.test.ts (headless, driven by
# playwright-core; no browser is downloaded from anywhere else). Its WebGPU
# runs on the SwiftShader Vulkan driver that the package ships
# (/usr/lib/chromium/libvk_swiftshader.so), so no GPU is needed. Run as root.
set -eu

if [ -x /usr/bin/chromium ]; then
  echo "browser-deps: $(/usr/bin/chromium --version 2>/dev/null) already installed"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium
echo "browser-deps: installed $(/usr/bin/chromium --version 2>/dev/null)"
