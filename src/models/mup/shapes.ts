// Base shapes (mup's InfShape / make_base_shapes): which dimensions of each
// parameter are "width" (infinite in the µP limit) and by how much the model
// is wider than its base along them. A dimension is a width dimension when it
// differs between a base model and a delta model of another width; the width
// multiplier of a dimension is dim / base dim. The µP rules (readout scale,
// init, per-parameter learning rates) all read these multipliers.
import { Tensor, nn } from '../../index.js';
import Module = nn.Module;

/** One dimension: finite (base null) or a width dimension with its base size. */
export class InfDim {
  constructor(readonly base: number | null, readonly dim: number) {}
  get isInf(): boolean { return this.base !== null; }
  /** dim / base for a width dimension, 1 for a finite one. */
  get widthMult(): number { return this.base === null ? 1 : this.dim / this.base; }
}

/** A parameter's shape with each dimension marked finite or width. */
export class InfShape {
  constructor(readonly dims: readonly InfDim[]) {}

  /** Number of width dimensions: 0 (fixed), 1 (vector-like: biases, input and output weights), 2 (hidden matrices). */
  get ninf(): number { return this.dims.filter((d) => d.isInf).length; }

  /**
   * The multiplier of the last width dimension (mup's `main` dimension): the fan-in of a
   * hidden [out, in] matrix, the only width dimension of a vector-like parameter, 1 if none.
   */
  get widthMult(): number {
    for (let i = this.dims.length - 1; i >= 0; i--) if (this.dims[i].isInf) return this.dims[i].widthMult;
    return 1;
  }

  /** fan-in multiplier / fan-out multiplier of an [out, in, ...] weight (MuSGD's hidden-weight lr divisor). */
  get fanInFanOutMultRatio(): number {
    if (this.dims.length < 2) throw new Error(`InfShape${this}: fan-in and fan-out need at least 2 dimensions`);
    return this.dims[1].widthMult / this.dims[0].widthMult;
  }

  get shape(): number[] { return this.dims.map((d) => d.dim); }
  get baseShape(): (number | null)[] { return this.dims.map((d) => d.base); }

  toString(): string { return `[${this.dims.map((d) => (d.isInf ? `${d.dim}/${d.base}` : `${d.dim}`)).join(', ')}]`; }
}

/** Parameter shapes by dotted name. */
export type ShapeDict = Record<string, readonly number[]>;

/**
 * For each parameter name, its base size along each dimension, or null where the dimension
 * is finite (does not scale with width). Serializable as JSON, like mup's .bsh files.
 */
export class BaseShapes {
  constructor(readonly shapes: Readonly<Record<string, readonly (number | null)[]>>) {}
  toJSON(): Record<string, (number | null)[]> {
    return Object.fromEntries(Object.entries(this.shapes).map(([k, v]) => [k, [...v]]));
  }
  static fromJSON(json: unknown): BaseShapes {
    if (typeof json !== 'object' || json === null) throw new Error('BaseShapes.fromJSON: expected an object of shapes');
    for (const [k, v] of Object.entries(json)) {
      if (!Array.isArray(v) || v.some((d) => d !== null && !(Number.isInteger(d) && d > 0))) {
        throw new Error(`BaseShapes.fromJSON: '${k}' must be a list of positive integers or null, got ${JSON.stringify(v)}`);
      }
    }
    return new BaseShapes(json as Record<string, (number | null)[]>);
  }
}

export function shapesOf(model: Module): ShapeDict {
  return Object.fromEntries(model.namedParameters().map(([name, p]) => [name, [...p.shape]]));
}

const asShapes = (x: Module | ShapeDict): ShapeDict => (x instanceof Module ? shapesOf(x) : x);

function sameNames(fn: string, a: Record<string, unknown>, b: Record<string, unknown>, what: [string, string]): void {
  const extraA = Object.keys(a).filter((k) => !(k in b)), extraB = Object.keys(b).filter((k) => !(k in a));
  if (extraA.length || extraB.length) {
    const parts = [];
    if (extraA.length) parts.push(`only in ${what[0]}: ${extraA.join(', ')}`);
    if (extraB.length) parts.push(`only in ${what[1]}: ${extraB.join(', ')}`);
    throw new Error(`${fn}: the models have different parameters (${parts.join('; ')})`);
  }
}

function sameRank(fn: string, name: string, a: readonly unknown[], b: readonly unknown[]): void {
  if (a.length !== b.length) throw new Error(`${fn}: parameter '${name}' has ${a.length} dimensions in one model and ${b.length} in the other`);
}

/**
 * Base shapes from a base model and a delta model that differs from it only in width:
 * every dimension whose size differs is a width dimension, with the base model's size as its base.
 */
export function makeBaseShapes(base: Module | ShapeDict, delta: Module | ShapeDict): BaseShapes {
  const b = asShapes(base), d = asShapes(delta);
  sameNames('makeBaseShapes', b, d, ['base', 'delta']);
  const out: Record<string, (number | null)[]> = {};
  for (const [name, shape] of Object.entries(b)) {
    sameRank('makeBaseShapes', name, shape, d[name]);
    out[name] = shape.map((s, i) => (s === d[name][i] ? null : s));
  }
  return new BaseShapes(out);
}

/**
 * Each target parameter's InfShape. With BaseShapes the width dimensions are given; with a plain
 * base model or shape dict (no delta), a dimension is a width dimension where the target differs.
 */
export function zipInfShapes(base: BaseShapes | Module | ShapeDict, target: Module | ShapeDict): Record<string, InfShape> {
  const t = asShapes(target);
  const b: Readonly<Record<string, readonly (number | null)[]>> = base instanceof BaseShapes ? base.shapes : asShapes(base);
  sameNames('setBaseShapes', b, t, ['base shapes', 'model']);
  const out: Record<string, InfShape> = {};
  for (const [name, shape] of Object.entries(t)) {
    const bs = b[name];
    sameRank('setBaseShapes', name, bs, shape);
    out[name] = new InfShape(shape.map((s, i) => {
      const bd = bs[i];
      if (base instanceof BaseShapes) return new InfDim(bd, s);
      return new InfDim(bd === s ? null : bd, s);
    }));
  }
  return out;
}

// InfShapes live beside the tensors (as mup's p.infshape attribute); parameters are updated in
// place by Tensor.assign, so the entry stays valid for the parameter's life.
const registry = new WeakMap<Tensor, InfShape>();

export function attachInfShape(p: Tensor, s: InfShape): void {
  if (p.shape.length !== s.dims.length || p.shape.some((d, i) => d !== s.dims[i].dim)) {
    throw new Error(`attachInfShape: InfShape ${s} does not fit parameter ${p.name ?? ''} ${p.describe()}`);
  }
  registry.set(p, s);
}

export function hasInfShape(p: Tensor): boolean { return registry.has(p); }

/** The parameter's InfShape; throws when setBaseShapes has not been called on its model. */
export function infShapeOf(p: Tensor): InfShape {
  const s = registry.get(p);
  if (!s) throw new Error(`parameter ${p.name ?? ''} ${p.describe()} has no base shape: call mup.setBaseShapes(model, base) first`);
  return s;
}
