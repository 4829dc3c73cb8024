// Runs every dist/test/*.test.js in one process with uvu and ends with the
// line "N passed, N failed" that CI reads. Usage: node dist/test/run.js [filter]
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const filter = process.argv[2];
const files = readdirSync(here).filter((f) => f.endsWith('.test.js') && (!filter || f.includes(filter))).sort();

const g = globalThis as unknown as { UVU_DEFER: number; UVU_QUEUE: unknown[][]; UVU_INDEX: number };
g.UVU_DEFER = 1;
g.UVU_QUEUE = [];

const { exec } = await import('uvu');
for (const [i, f] of files.entries()) {
  g.UVU_INDEX = i;
  g.UVU_QUEUE.push([f]);
  await import(pathToFileURL(join(here, f)).href);
}

let captured = '';
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
  captured += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
  if (captured.length > 4096) captured = captured.slice(-4096);
  return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
}) as typeof process.stdout.write;

await exec(false);
process.stdout.write = write;
const plain = captured.replace(/\x1b\[[0-9;]*m/g, '');
const num = (label: string) => Number(new RegExp(`${label}:\\s+(\\d+)`).exec(plain)?.[1] ?? 0);
const total = num('Total'), passed = num('Passed'), skipped = num('Skipped');
// uvu's Total counts the tests that ran; skipped ones (test.skip) are counted apart.
const failed = Math.max(total - passed, process.exitCode ? 1 : 0);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
// Exit explicitly: a GPU device (Dawn) may keep the event loop alive.
process.exit(failed > 0 ? 1 : 0);
