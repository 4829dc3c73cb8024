// The load generator shared by test/serve.test.ts (seconds) and bench/serve (minutes): autocannon
// on loopback, cycling predict requests over the served models, with status-class counts.
import { createRequire } from 'node:module';

export interface LoadRequest { method: 'POST' | 'GET'; path: string; headers?: Record<string, string>; body?: string }

export interface LoadResult {
  requests: number;
  throughput: number;
  p50: number;
  p99: number;
  status: { '2xx': number; '4xx': number; '5xx': number };
  errors: number;
  timeouts: number;
}

interface AutocannonResult {
  requests: { total: number; average: number };
  latency: { p50: number; p99: number };
  '2xx': number; '4xx': number; '5xx': number;
  errors: number; timeouts: number;
}

type Autocannon = (opts: { url: string; connections: number; duration: number; requests: LoadRequest[]; timeout?: number }) => Promise<AutocannonResult>;

/** Runs autocannon against `url` (must be 127.0.0.1) for `seconds`. */
export async function runLoad(url: string, requests: LoadRequest[], seconds: number, connections = 8): Promise<LoadResult> {
  if (!url.startsWith('http://127.0.0.1:')) throw new Error(`runLoad: only loopback targets, got ${url}`);
  const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;
  const r = await autocannon({ url, connections, duration: seconds, requests, timeout: 60 });
  return {
    requests: r.requests.total, throughput: r.requests.average, p50: r.latency.p50, p99: r.latency.p99,
    status: { '2xx': r['2xx'], '4xx': r['4xx'], '5xx': r['5xx'] }, errors: r.errors, timeouts: r.timeouts,
  };
}
