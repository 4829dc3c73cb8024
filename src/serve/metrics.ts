// Prometheus text-format metrics: request counters by model and status, a latency histogram,
// queue depths, and memory per backend (T.memory()) plus the process's.
import * as T from '../index.js';

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class Metrics {
  private requests = new Map<string, number>();
  private latency = new Map<string, { counts: number[]; sum: number; count: number }>();

  observe(route: string, model: string, status: number, seconds: number): void {
    const key = `route="${route}",model="${model}",status="${status}"`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    const lk = `route="${route}",model="${model}"`;
    let h = this.latency.get(lk);
    if (!h) { h = { counts: BUCKETS.map(() => 0), sum: 0, count: 0 }; this.latency.set(lk, h); }
    BUCKETS.forEach((b, i) => { if (seconds <= b) h!.counts[i]++; });
    h.sum += seconds; h.count++;
  }

  render(queues: Record<string, number>, loaded: Record<string, number>): string {
    const lines: string[] = [];
    lines.push('# HELP tessera_requests_total HTTP requests by route, model and status.', '# TYPE tessera_requests_total counter');
    for (const [k, v] of this.requests) lines.push(`tessera_requests_total{${k}} ${v}`);
    lines.push('# HELP tessera_request_seconds Request latency.', '# TYPE tessera_request_seconds histogram');
    for (const [k, h] of this.latency) {
      BUCKETS.forEach((b, i) => lines.push(`tessera_request_seconds_bucket{${k},le="${b}"} ${h.counts[i]}`));
      lines.push(`tessera_request_seconds_bucket{${k},le="+Inf"} ${h.count}`, `tessera_request_seconds_sum{${k}} ${h.sum}`, `tessera_request_seconds_count{${k}} ${h.count}`);
    }
    lines.push('# HELP tessera_queue_depth Requests waiting per model.', '# TYPE tessera_queue_depth gauge');
    for (const [m, d] of Object.entries(queues)) lines.push(`tessera_queue_depth{model="${m}"} ${d}`);
    lines.push('# HELP tessera_model_bytes Bytes held by each loaded model.', '# TYPE tessera_model_bytes gauge');
    for (const [m, b] of Object.entries(loaded)) lines.push(`tessera_model_bytes{model="${m}"} ${b}`);
    lines.push('# HELP tessera_backend_bytes Bytes of live tensor storage per backend.', '# TYPE tessera_backend_bytes gauge');
    for (const [b, c] of Object.entries(T.memory())) lines.push(`tessera_backend_bytes{backend="${b}"} ${c.bytes}`, `tessera_backend_tensors{backend="${b}"} ${c.tensors}`);
    const mem = process.memoryUsage();
    lines.push('# TYPE tessera_process_resident_bytes gauge', `tessera_process_resident_bytes ${mem.rss}`, `tessera_process_heap_bytes ${mem.heapUsed}`);
    return lines.join('\n') + '\n';
  }
}
