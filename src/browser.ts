// Browser entry point: the platform-neutral API (core.ts), the seeded
// synthetic datasets, and the webgpu backend through navigator.gpu. Nothing
// reachable from here imports Node modules; scripts/bundle-browser.mjs builds
// it into dist/browser/tessera.js and fails if anything would pull in node:*
// or the `webgpu` package (Dawn for Node).
//
// Importing it chooses the default backend (top-level await): webgpu when
// navigator.gpu yields an adapter and a device, else reference. The native
// backends (cpu, cuda) do not exist in a browser.
import { registerBackend, setBackend } from './backend/registry.js';
import { createWebGpuBackend } from './backend/webgpu/index.js';

export * from './core.js';
export { twoMoons, gaussianBlobs, csbm } from './data/synthetic.js';
export type { LabelledPoints, CsbmOptions, CsbmGraph } from './data/synthetic.js';

registerBackend('webgpu', async () => {
  // Checked here so that the runtime never reaches its Node path (Dawn).
  if (!(globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu) {
    throw new Error('webgpu backend: this browser has no navigator.gpu (WebGPU is unsupported or disabled; ' +
      'Chromium on Linux enables it with --enable-unsafe-webgpu)');
  }
  return createWebGpuBackend();
});

export interface DefaultBackend {
  /** The backend new tensors go to after import. */
  readonly name: 'webgpu' | 'reference';
  /** Why webgpu was not chosen, when it was not. */
  readonly webgpuError?: string;
}

async function chooseDefaultBackend(): Promise<DefaultBackend> {
  try {
    await setBackend('webgpu');
    return { name: 'webgpu' };
  } catch (e) {
    await setBackend('reference');
    return { name: 'reference', webgpuError: e instanceof Error ? e.message : String(e) };
  }
}

export const defaultBackend: DefaultBackend = await chooseDefaultBackend();
