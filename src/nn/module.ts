// Module: a tree of named parameters, buffers and child modules (as torch.nn.Module).
import { Tensor } from '../tensor.js';
import { noGrad } from '../autograd.js';
import { fmtShape } from '../shape.js';

export abstract class Module {
  training = true;
  private readonly _params = new Map<string, Tensor>();
  private readonly _buffers = new Map<string, Tensor>();
  private readonly _children = new Map<string, Module>();

  /** Registers a trainable parameter (kept out of scopes, gradients on). */
  protected param(name: string, t: Tensor): Tensor {
    t.keep();
    if (t.node) throw new Error(`${this.constructor.name}.param('${name}'): a parameter must be a leaf tensor`);
    t.requiresGrad = true;
    t.name = name;
    this._params.set(name, t);
    return t;
  }

  /** Registers state that is saved but not trained (running statistics, masks). */
  protected buffer(name: string, t: Tensor): Tensor {
    t.keep();
    this._buffers.set(name, t);
    return t;
  }

  /** Replaces a buffer's value (e.g. running mean updates). */
  protected setBuffer(name: string, t: Tensor): void {
    const cur = this._buffers.get(name);
    if (!cur) throw new Error(`${this.constructor.name}: no buffer '${name}'`);
    cur.assign(t);
  }

  protected child<M extends Module>(name: string, m: M): M {
    this._children.set(name, m);
    return m;
  }

  children(): [string, Module][] { return [...this._children]; }

  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [k, v] of this._params) out.push([prefix + k, v]);
    for (const [k, m] of this._children) out.push(...m.namedParameters(`${prefix}${k}.`));
    return out;
  }

  parameters(): Tensor[] { return this.namedParameters().map(([, t]) => t); }

  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [k, v] of this._buffers) out.push([prefix + k, v]);
    for (const [k, m] of this._children) out.push(...m.namedBuffers(`${prefix}${k}.`));
    return out;
  }

  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix.replace(/\.$/, ''), this]];
    for (const [k, m] of this._children) out.push(...m.namedModules(`${prefix}${k}.`));
    return out;
  }

  /** Calls fn on every module of the tree, children first (torch's apply). */
  apply(fn: (m: Module) => void): this {
    for (const [, m] of this._children) m.apply(fn);
    fn(this);
    return this;
  }

  train(flag = true): this { this.apply((m) => { m.training = flag; }); return this; }
  eval(): this { return this.train(false); }

  zeroGrad(): void {
    for (const p of this.parameters()) { p.grad?.dispose(); p.grad = null; }
  }

  /** Frees every parameter (with its gradient) and buffer of the tree: they are kept out of scopes. The module is unusable afterwards. */
  dispose(): void {
    for (const p of this.parameters()) { p.grad?.dispose(); p.grad = null; p.dispose(); }
    for (const [, b] of this.namedBuffers()) b.dispose();
  }

  /** Parameters and buffers by dotted name. */
  stateDict(): Record<string, Tensor> {
    return Object.fromEntries([...this.namedParameters(), ...this.namedBuffers()]);
  }

  /** Copies values in; with strict (default) every missing, unexpected or mis-shaped entry is reported at once. */
  loadStateDict(state: Record<string, Tensor>, opts: { strict?: boolean } = {}): void {
    const strict = opts.strict ?? true;
    const own = this.stateDict();
    const problems: string[] = [];
    for (const [k, t] of Object.entries(own)) {
      const v = state[k];
      if (!v) { if (strict) problems.push(`missing '${k}'`); continue; }
      if (v.dtype !== t.dtype || v.shape.length !== t.shape.length || v.shape.some((s, i) => s !== t.shape[i])) {
        problems.push(`'${k}': expected ${t.dtype}${fmtShape(t.shape)}, got ${v.dtype}${fmtShape(v.shape)}`);
      }
    }
    if (strict) for (const k of Object.keys(state)) if (!(k in own)) problems.push(`unexpected '${k}'`);
    if (problems.length) throw new Error(`loadStateDict(${this.constructor.name}): ${problems.join('; ')}`);
    noGrad(() => {
      for (const [k, t] of Object.entries(own)) {
        const v = state[k];
        if (v) t.assign(v.backend === t.backend ? v : v.to(t.backend.name));
      }
    });
  }

  abstract forward(...args: never[]): unknown;
}
