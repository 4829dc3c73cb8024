// Loads the native addon (build/Release/tessera.node) that the cpu and cuda backends share.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// This file runs as dist/src/backend/cpu/addon.js: the package root is four levels up.
// TESSERA_ADDON points at another build (a sanitizer build, say).
const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
export const addonPath = process.env.TESSERA_ADDON ?? join(packageRoot, 'build', 'Release', 'tessera.node');

let loaded: { addon?: any; error?: string } | undefined;

/** The addon, or why it could not be loaded (the message says how to rebuild). Cached. */
export function loadAddon(): { addon?: any; error?: string } {
  if (loaded) return loaded;
  const rebuild = 'Build it with `npm run build:native` (needs cmake >= 3.15 and a C++17 compiler); ' +
    'the `reference` backend works without it.';
  if (!existsSync(addonPath)) {
    loaded = { error: `tessera native addon not found at ${addonPath}. ${rebuild}` };
  } else {
    try {
      loaded = { addon: createRequire(import.meta.url)(addonPath) };
    } catch (e) {
      loaded = { error: `tessera native addon at ${addonPath} failed to load: ${(e as Error).message}. ${rebuild}` };
    }
  }
  return loaded;
}
