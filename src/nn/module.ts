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

  /**
   * Modules, arrays of modules and leaf tensors that require grad, assigned to properties the
   * PyTorch way (`this.fc = new Linear(...)`), join the tree under the property's name (an array's
   * items as `name.0`, `name.1`, ...), as torch's __setattr__ registers them. Assignments happen
   * after this constructor has run, so they are picked up when the tree is read; what param(),
   * buffer() or child() registered keeps its name. A parameter reached twice (shared weights) is
   * listed once, as torch's named_parameters does.
   */
  private adoptAssigned(): void {
    const known = new Set<unknown>([...this._params.values(), ...this._buffers.values(), ...this._children.values()]);
    for (const [key, value] of Object.entries(this)) {
      if (key.startsWith('_') || known.has(value)) continue;
      if (value instanceof Module) {
        this._children.set(key, value);
      } else if (Array.isArray(value) && value.length > 0 && value.every((v) => v instanceof Module)) {
        value.forEach((m: Module, i) => { if (!known.has(m)) this._children.set(`${key}.${i}`, m); });
      } else if (value instanceof Tensor && value.requiresGrad && !value.node && !value.isDisposed && value.name === undefined) {
        this.param(key, value); // a named tensor is another module's parameter, held here by reference
      }
    }
  }

  children(): [string, Module][] { this.adoptAssigned(); return [...this._children]; }

  namedParameters(prefix = ''): [string, Tensor][] {
    this.adoptAssigned();
    const out: [string, Tensor][] = [];
    for (const [k, v] of this._params) out.push([prefix + k, v]);
    for (const [k, m] of this._children) out.push(...m.namedParameters(`${prefix}${k}.`));
    const seen = new Set<Tensor>();
    return out.filter(([, t]) => !seen.has(t) && seen.add(t));
  }

  parameters(): Tensor[] { return this.namedParameters().map(([, t]) => t); }

  namedBuffers(prefix = ''): [string, Tensor][] {
    this.adoptAssigned();
    const out: [string, Tensor][] = [];
    for (const [k, v] of this._buffers) out.push([prefix + k, v]);
    for (const [k, m] of this._children) out.push(...m.namedBuffers(`${prefix}${k}.`));
    return out;
  }

  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix.replace(/\.$/, ''), this]];
    for (const [k, m] of this.children()) out.push(...m.namedModules(`${prefix}${k}.`));
    return out;
  }

  /** Calls fn on every module of the tree, children first (torch's apply). */
  apply(fn: (m: Module) => void): this {
    for (const [, m] of this.children()) m.apply(fn);
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

  /** forward under the name torch users call a module by: `model.call(x)`. */
  call(...args: Parameters<this['forward']>): ReturnType<this['forward']> {
    return (this.forward as (...a: unknown[]) => ReturnType<this['forward']>)(...args);
  }

  /** Number of parameter elements in the tree. */
  numParameters(): number { return this.parameters().reduce((n, p) => n + p.size, 0); }

  /** The module tree as torch prints it, with each module's own parameters and buffers and their shapes. */
  toString(): string { return `${this.tree('')}\n(${this.numParameters().toLocaleString('en-US')} parameters)`; }

  /** console.log(module) prints toString(), not the internals. */
  [Symbol.for('nodejs.util.inspect.custom')](): string { return this.toString(); }

  /** One line per module: name, class, own parameter count, and the total (as torchinfo's summary). */
  summary(): string {
    const rows = this.namedModules().map(([name, m]) => {
      const own = [...m._params.values()].reduce((n, p) => n + p.size, 0);
      return [name || '(root)', m.constructor.name, own.toLocaleString('en-US')];
    });
    const widths = [0, 1, 2].map((j) => Math.max(...rows.map((r) => r[j].length), ['module', 'class', 'parameters'][j].length));
    const line = (r: string[]) => `${r[0].padEnd(widths[0])}  ${r[1].padEnd(widths[1])}  ${r[2].padStart(widths[2])}`;
    return [line(['module', 'class', 'parameters']), ...rows.map(line), `total ${this.numParameters().toLocaleString('en-US')} parameters`].join('\n');
  }

  private tree(indent: string): string {
    this.adoptAssigned();
    const own = [...this._params, ...this._buffers].map(([k, t]) => `${k} ${fmtShape(t.shape)}`);
    const kids = [...this._children].map(([k, m]) => `${indent}  (${k}): ${m.tree(`${indent}  `)}`);
    const head = `${this.constructor.name}(${own.join(', ')}`;
    return kids.length ? `${head}${own.length ? ',' : ''}\n${kids.join('\n')}\n${indent})` : `${head})`;
  }
}
