// `tessera info`: which backends are present, SIMD level, threads, GPU, build flags.
import { registerCommand } from './commands.js';
import { listBackends, initBackend } from '../backend/registry.js';
import { loadAddon } from '../backend/cpu/addon.js';

registerCommand('info', {
  describe: 'backends present, SIMD level, threads, GPU found or not, build flags',
  async run(args, io) {
    const { addon, error } = loadAddon();
    const native = addon ? (addon as { info(): Record<string, unknown> }).info() : null;
    const backends: Record<string, string> = {};
    for (const name of listBackends()) {
      if (name === 'reference64') continue;
      try { await initBackend(name); backends[name] = 'available'; } catch (e) { backends[name] = `unavailable: ${(e as Error).message.split('\n')[0]}`; }
    }
    const report = { node: process.version, platform: `${process.platform}-${process.arch}`, native: native ?? { error }, backends };
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
