#!/bin/sh
# Installs a Vulkan driver for the webgpu backend (Dawn, from the `webgpu` npm
# package) on a fresh Debian bookworm machine; run as root.
# Bookworm's own lavapipe (Mesa 22) lacks Vulkan features Dawn requires; the
# Mesa 25 lavapipe from bookworm-backports works (a CPU driver: no GPU needed).
set -eu

if ! grep -q '^VERSION_CODENAME=bookworm$' /etc/os-release; then
  echo "webgpu-deps: written for Debian bookworm; on other systems install libvulkan1 and a Mesa >= 23 mesa-vulkan-drivers" >&2
  exit 1
fi

cat > /etc/apt/sources.list.d/bookworm-backports.sources <<'SOURCES'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES

export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends libvulkan1
apt-get install -y --no-install-recommends -t bookworm-backports mesa-vulkan-drivers

# Check: Dawn must find an adapter (prints its limits' headline).
if [ -f node_modules/webgpu/index.js ]; then
  node --input-type=module -e "
    import { create } from './node_modules/webgpu/index.js';
    const adapter = await create([]).requestAdapter();
    if (!adapter) { console.error('webgpu-deps: Dawn found no adapter'); process.exit(1); }
    console.log('webgpu-deps: adapter ok, maxStorageBufferBindingSize', adapter.limits.maxStorageBufferBindingSize);
  "
fi
