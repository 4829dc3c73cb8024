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

# bookworm-backports from the Debian archive this machine already uses (the URI of its "bookworm"
# entry, deb822 or one-line format), so that no package host is written here.
if ! grep -qsr --include='*.list' --include='*.sources' '^[^#]*bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  archive=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '
    /^[[:space:]]*$/ { if (bookworm && uri != "") print uri; bookworm = 0; uri = ""; next }
    /^URIs:/ { uri = $2 }
    /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == "bookworm") bookworm = 1 }
    END { if (bookworm && uri != "") print uri }' | head -n 1)
  if [ -z "$archive" ]; then
    archive=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '
      $1 == "deb" { i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                    if ($(i + 1) == "bookworm") print $i }' | head -n 1)
  fi
  if [ -z "$archive" ]; then
    echo "webgpu-deps: no apt source for bookworm found in /etc/apt/sources.list{,.d}; add bookworm-backports yourself" >&2
    exit 1
  fi
  echo "webgpu-deps: adding bookworm-backports from $archive"
  cat > /etc/apt/sources.list.d/bookworm-backports.sources <<SOURCES
Types: deb
URIs: $archive
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
fi

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
