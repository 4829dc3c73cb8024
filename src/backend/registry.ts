// Which backends exist and which one new tensors go to.
import type { Backend } from './interface.js';
import { ReferenceBackend } from './reference/index.js';

type Factory = () => Backend | Promise<Backend>;

const factories = new Map<string, Factory>();
const instances = new Map<string, Backend>();
let current: Backend | undefined;

export function registerBackend(name: string, factory: Factory): void { factories.set(name, factory); }

registerBackend('reference', () => new ReferenceBackend());

/** Names in order of preference for the default. */
const preference = ['cuda', 'cpu', 'reference'];

export function listBackends(): string[] { return [...factories.keys()]; }

/** The named backend, created and cached on first use (a Promise while an async factory runs). */
function obtain(name: string): Backend | Promise<Backend> {
  const existing = instances.get(name);
  if (existing) return existing;
  const f = factories.get(name);
  if (!f) throw new Error(`setBackend: unknown backend '${name}' (known: ${listBackends().join(', ')})`);
  const made = f();
  if (made instanceof Promise) return made.then((b) => { instances.set(name, b); return b; });
  instances.set(name, made);
  return made;
}

/** Returns the backend, creating it on first use (async for webgpu). */
export async function initBackend(name: string): Promise<Backend> { return obtain(name); }

/** The named backend, for backends whose factory is synchronous (reference, cpu, cuda) or already created. */
export function backendByName(name: string): Backend {
  const b = obtain(name);
  if (b instanceof Promise) { b.catch(() => {}); throw new Error(`backend '${name}' is created asynchronously: use await setBackend('${name}')`); }
  return b;
}

/** Makes `name` the backend new tensors are created on. Awaiting is needed only for webgpu;
 *  synchronous backends take effect before this returns. */
export function setBackend(name: string): Promise<void> {
  let b: Backend | Promise<Backend>;
  try { b = obtain(name); } catch (e) { return Promise.reject(e); }
  if (b instanceof Promise) return b.then((made) => { current = made; });
  current = b;
  return Promise.resolve();
}

/** The current backend; on first use the fastest one that initializes synchronously. */
export function getBackend(): Backend {
  if (current) return current;
  let cpuError: string | undefined;
  for (const name of preference) {
    if (!factories.has(name)) continue;
    try { current = backendByName(name); break; } catch (e) {
      if (name === 'cpu') cpuError = (e as Error).message;  // cuda failing just means no GPU; cpu failing is a broken install
    }
  }
  current ??= backendByName('reference');
  if (cpuError !== undefined && current.name === 'reference') warnSlowFallback(cpuError);
  return current;
}

/** Said once, on stderr: the user asked for nothing and would otherwise get the slow oracle without knowing. */
function warnSlowFallback(why: string): void {
  const env = typeof process === 'undefined' ? undefined : process.env;
  if (env?.TESSERA_QUIET === '1') return;
  console.warn(`tessera: WARNING: running on the 'reference' backend (plain TypeScript, many times slower than 'cpu'), ` +
    `because ${why}\ntessera: set TESSERA_QUIET=1 to silence this warning.`);
}
