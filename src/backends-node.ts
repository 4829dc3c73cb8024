// The backends available under Node: native cpu (and cuda when built with a GPU
// present) chosen synchronously, webgpu through Dawn on request.
import { registerBackend } from './backend/registry.js';
import { CpuBackend } from './backend/cpu/index.js';
import { CudaBackend } from './backend/cuda/index.js';

registerBackend('cpu', () => new CpuBackend());
registerBackend('webgpu', async () => (await import('./backend/webgpu/index.js')).createWebGpuBackend());
registerBackend('cuda', () => new CudaBackend());
