// The backends available under Node: native cpu (and cuda when built with a GPU
// present) chosen synchronously, webgpu through Dawn on request.
import { registerBackend } from './backend/registry.js';
import { CpuBackend } from './backend/cpu/index.js';
import { CudaBackend } from './backend/cuda/index.js';
import { captureNativeStderr, loadAddon } from './backend/cpu/addon.js';

const DAWN_LIMIT_NOTICE = /^Warning: \w+ artificially reduced from \d+ to \d+/;

registerBackend('cpu', () => new CpuBackend());
registerBackend('webgpu', async () => {
  // Dawn prints notices about limits it lowers for the adapter (lavapipe: "artificially reduced ... to fit
  // dynamic offset allocation limit") straight to stderr at start-up: kept off the user's console, the rest passed on.
  // Device buffers are reported to V8 as external memory through the addon when it is present.
  const adjust = loadAddon().addon?.adjustExternalMemory as ((deltaBytes: number) => number) | undefined;
  const { result, printed } = await captureNativeStderr(async () =>
    (await import('./backend/webgpu/index.js')).createWebGpuBackend(adjust && ((delta) => { adjust(delta); })));
  const rest = printed.split('\n').filter((line) => line && !DAWN_LIMIT_NOTICE.test(line));
  if (rest.length > 0) process.stderr.write(rest.join('\n') + '\n');
  return result;
});
registerBackend('cuda', () => new CudaBackend());
