// Prints the README's DeepAR tables (markdown) from the JSON that
// `tessera deepar <protocol> --json` wrote to examples/deepar/results/.
// usage: node dist/examples/deepar/tables.js [results folder]
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MethodScores } from '../../src/cli/deepar.js';

const dir = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'examples', 'deepar', 'results');
const read = (name: string) => {
  const file = join(dir, `${name}.json`);
  const text = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  return text ? JSON.parse(text) : undefined;
};
const cell = (m: MethodScores, k: string, digits: number, scale = 1) => {
  if (m.mean[k] === undefined) return '—';
  const v = (scale * m.mean[k]).toFixed(digits);
  return m.seeds.length > 1 ? `${v} ± ${(scale * m.std[k]).toFixed(digits)}` : v;
};
function table(methods: MethodScores[], columns: [string, string, number, number?][]): string {
  const head = `| method | ${columns.map(([title]) => title).join(' | ')} | train + predict s |`;
  const rule = `|---|${columns.map(() => '---:').join('|')}|---:|`;
  const rows = methods.map((m) => `| ${m.method}${m.seeds.length > 1 ? ` (${m.seeds.length} seeds)` : ''} | ${columns.map(([, k, d, s]) => cell(m, k, d, s)).join(' | ')} | ${m.seconds > 0 ? m.seconds.toFixed(0) : '—'} |`);
  return [head, rule, ...rows].join('\n');
}

const warm = read('warm'), cold = read('cold'), nearCold = read('near-cold');
if (warm) {
  console.log(`Warm start, exchange_rate, ${warm.warm.windows} windows of ${warm.warm.predictionLength} (${warm.seconds.toFixed(0)} s in all):\n`);
  console.log(table(warm.warm.methods, [['MASE', 'mase', 3], ['ND', 'nd', 4], ['WQL', 'wql', 4], ['CRPS', 'crps', 4]]) + '\n');
}
if (cold) {
  console.log(`Cold start, ${cold.cold.dataset}: ${cold.cold.coldItems} held-out items, ${cold.cold.trainItems} training items (${cold.seconds.toFixed(0)} s in all):\n`);
  console.log(table(cold.cold.methods, [['MAPE of median %', 'mape', 1, 100], ['WQL', 'wql', 4], ['ND', 'nd', 4], ['CRPS', 'crps', 2]]) + '\n');
}
if (nearCold) {
  console.log(`Near-cold start, exchange_rate, ${nearCold.nearCold.heldOut} left out of training (${nearCold.seconds.toFixed(0)} s in all):\n`);
  for (const row of nearCold.nearCold.rows) {
    console.log(`c = ${row.c} observations before each window:\n`);
    console.log(table(row.methods, [['MASE', 'mase', 3], ['ND', 'nd', 4], ['WQL', 'wql', 4]]) + '\n');
  }
}
