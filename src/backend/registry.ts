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

/** Returns the backend, creating it on first use (async for webgpu). */
export async function initBackend(name: string): Promise<Backend> {
  const existing = instances.get(name);
  if (existing) return existing;
  const f = factories.get(name);
  if (!f) throw new Error(`setBackend: unknown backend '${name}' (known: ${listBackends().join(', ')})`);
  const b = await f();
  instances.set(name, b);
  return b;
}

/** Synchronous creation for backends whose factory is synchronous (reference, cpu, cuda). */
export function initBackendSync(name: string): Backend {
  const existing = instances.get(name);
  if (existing) return existing;
  const f = factories.get(name);
  if (!f) throw new Error(`setBackend: unknown backend '${name}' (known: ${listBackends().join(', ')})`);
  const b = f();
  if (b instanceof Promise) throw new Error(`backend '${name}' is created asynchronously: use await setBackend('${name}')`);
  instances.set(name, b);
  return b;
}

/** Makes `name` the backend new tensors are created on. Awaiting is needed only for webgpu. */
export function setBackend(name: string): Promise<void> {
  const f = factories.get(name);
  if (!f) return Promise.reject(new Error(`setBackend: unknown backend '${name}' (known: ${listBackends().join(', ')})`));
  const existing = instances.get(name);
  if (existing) { current = existing; return Promise.resolve(); }
  let made: Backend | Promise<Backend>;
  try { made = f(); } catch (e) { return Promise.reject(e); }
  if (made instanceof Promise) {
    return made.then((b) => { instances.set(name, b); current = b; });
  }
  instances.set(name, made);
  current = made;
  return Promise.resolve();
}

/** The current backend; on first use the fastest one that initializes synchronously. */
export function getBackend(): Backend {
  if (current) return current;
  for (const name of preference) {
    if (!factories.has(name)) continue;
    try { current = initBackendSync(name); return current; } catch { /* try the next one */ }
  }
  current = initBackendSync('reference');
  return current;
}

export function backendByName(name: string): Backend { return initBackendSync(name); }
