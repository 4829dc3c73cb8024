// Finds and loads the native addon that the cpu and cuda backends share. Candidates, first that loads wins:
//   1. $TESSERA_ADDON (another build: a sanitizer build, say);
//   2. build/Release/tessera.node, built from source (a clone's `npm install`, or `npm run build:native`);
//   3. the addon shipped in the package, prebuilds/<platform>-<arch>/ (the prebuildify layout):
//      tessera.cuda.node (CUDA linked in) first when an NVIDIA driver is loaded, then tessera.node (cpu only),
//      then tessera.cuda.node on machines without a GPU when the package ships no cpu-only one.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// This file runs as dist/src/backend/cpu/addon.js: the package root is four levels up.
export const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

/** An NVIDIA kernel driver is loaded (the file exists exactly then; no process is started to ask). */
const nvidiaDriverLoaded = (): boolean => existsSync('/proc/driver/nvidia/version');

/** The paths tried, in order. */
export function addonCandidates(): string[] {
  if (process.env.TESSERA_ADDON) return [process.env.TESSERA_ADDON];
  const prebuilt = join(packageRoot, 'prebuilds', `${process.platform}-${process.arch}`);
  const cuda = join(prebuilt, 'tessera.cuda.node'), cpu = join(prebuilt, 'tessera.node');
  return [join(packageRoot, 'build', 'Release', 'tessera.node'), ...(nvidiaDriverLoaded() ? [cuda, cpu] : [cpu, cuda])];
}

export const rebuildHint = 'Build it from source with `TESSERA_BUILD_FROM_SOURCE=1 npm rebuild tessera-tensor` (needs ' +
  'cmake >= 3.15 and a C++17 compiler; in a clone of Tessera, `npm run build:native`).';

let loaded: { addon?: any; path?: string; error?: string } | undefined;

/** The addon and the file it came from, or why none could be loaded (the message says how to fix it). Cached. */
export function loadAddon(): { addon?: any; path?: string; error?: string } {
  if (loaded) return loaded;
  const failures: string[] = [];
  const load = createRequire(import.meta.url);
  for (const path of addonCandidates()) {
    if (!existsSync(path)) continue;
    try {
      loaded = { addon: load(path), path };
      return loaded;
    } catch (e) {
      failures.push(`${path} failed to load: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  const why = failures.length > 0 ? failures.join('; ')
    : `no native addon for ${process.platform}-${process.arch} (looked for ${addonCandidates().join(', ')})`;
  loaded = { error: `${why}. ${rebuildHint}` };
  return loaded;
}

/**
 * Runs `start` with file descriptor 2 captured by the addon (captureStderr in native/addon.cc) and returns
 * its result and what native code printed meanwhile; without the addon it just runs `start`. For native
 * libraries that print straight to fd 2 (Dawn, at start-up), which no JavaScript stream intercepts.
 * When `start` fails, everything printed is passed on to stderr, as it may say why.
 */
export async function captureNativeStderr<R>(start: () => Promise<R>): Promise<{ result: R; printed: string }> {
  const { addon } = loadAddon();
  if (typeof addon?.captureStderr !== 'function') return { result: await start(), printed: '' };
  addon.captureStderr();
  let result: R;
  try {
    result = await start();
  } catch (e) {
    process.stderr.write(addon.releaseStderr());
    throw e;
  }
  return { result, printed: addon.releaseStderr() };
}
