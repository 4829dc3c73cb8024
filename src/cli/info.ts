// `tessera info`: which backends are present, where the addon came from, SIMD level, threads, GPU,
// the WebGPU adapter (and whether it is a CPU driver), build flags.
import { registerCommand } from './commands.js';
import { listBackends, initBackend } from '../backend/registry.js';
import { loadAddon } from '../backend/cpu/addon.js';

/** Vulkan/WebGPU drivers that run on the CPU: WebGPU works there, but slower than the cpu backend. */
const CPU_DRIVERS = /llvmpipe|lavapipe|swiftshader/i;

interface AdapterReport { vendor: string; architecture: string; device: string; description: string; cpuDriver: boolean }

function describeAdapter(info: GPUAdapterInfo): AdapterReport {
  const { vendor, architecture, device, description } = info;
  return { vendor, architecture, device, description, cpuDriver: CPU_DRIVERS.test(`${device} ${description}`) };
}

registerCommand('info', {
  describe: 'backends present, SIMD level, threads, GPU found or not, WebGPU adapter, build flags',
  async run(args, io) {
    const { addon, path, error } = loadAddon();
    // mpi: whether the addon was built with MPI (tessera-tensor/distributed needs it).
    const native = addon ? { file: path, ...(addon as { info(): Record<string, unknown> }).info(), mpi: typeof addon.mpiInit === 'function' } : null;
    const backends: Record<string, string> = {};
    let webgpuAdapter: AdapterReport | undefined;
    for (const name of listBackends()) {
      if (name === 'reference64') continue;
      try {
        const backend = await initBackend(name);
        backends[name] = 'available';
        const info = (backend as { adapterInfo?: GPUAdapterInfo }).adapterInfo;
        if (name === 'webgpu' && info) {
          webgpuAdapter = describeAdapter(info);
          backends[name] = `available on ${webgpuAdapter.description || webgpuAdapter.device || webgpuAdapter.vendor}` +
            (webgpuAdapter.cpuDriver ? ' (a CPU driver, not a GPU: slower than the cpu backend)' : '');
        }
      } catch (e) {
        backends[name] = `unavailable: ${(e as Error).message.split('\n')[0]}`;
      }
    }
    const report = {
      node: process.version, platform: `${process.platform}-${process.arch}`, native: native ?? { error }, backends,
      ...(webgpuAdapter ? { webgpuAdapter } : {}),
    };
    if (args.json) io.stdout(JSON.stringify(report, null, 2) + '\n');
    else {
      io.stdout(`Tessera on Node ${report.node} (${report.platform})\n`);
      if (native) for (const [k, v] of Object.entries(native)) io.stdout(`  ${k.padEnd(12)} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}\n`);
      else io.stdout(`  native addon: ${error}\n`);
      io.stdout('Backends:\n');
      for (const [k, v] of Object.entries(backends)) io.stdout(`  ${k.padEnd(12)} ${v}\n`);
    }
    return 0;
  },
});
