// einsum: a subscript string parsed into diagonals (repeated letters in one operand), sums (letters needed
// nowhere else), batched matmuls (operands folded left to right: shared letters still needed are batch axes,
// the others are contracted) and a final permute. Gradients come from those ops.
import { Tensor } from '../tensor.js';
import { numel } from '../shape.js';
import { commonBackend, describeAll } from './util.js';
import { contiguous } from './elementwise.js';
import { sum } from './reduce.js';
import { indexSelect } from './indexing.js';
import { matmul } from './matmul.js';
import { permute, reshape } from './view.js';
import { arange } from './creation.js';

interface Term { x: Tensor; letters: string[] }

/** torch.einsum over letters a-z, A-Z: 'ij,jk->ik', 'bij,bjk->bik', 'ii->i', 'ij->ji', 'i,i->', implicit output
 *  (the letters used once, in alphabetical order), repeated letters for diagonals and traces. No '...'. */
export function einsum(spec: string, ...operands: Tensor[]): Tensor {
  if (typeof spec !== 'string') throw new Error(`einsum: the first argument must be a subscript string like 'ij,jk->ik', got ${typeof spec}`);
  const fail = (msg: string): Error => new Error(`einsum: ${msg} in '${spec}'${operands.length ? ` (got ${describeAll(operands)})` : ''}`);
  if (operands.length === 0) throw fail('needs at least one operand');
  commonBackend('einsum', operands);
  const text = spec.replace(/\s+/g, '');
  if (text.includes('...')) throw fail("'...' (ellipsis) is not supported; name every axis");
  const parts = text.split('->');
  if (parts.length > 2) throw fail("more than one '->'");
  const inputs = parts[0].split(',');
  if (inputs.length !== operands.length) throw fail(`${inputs.length} input subscripts for ${operands.length} operands`);
  const sizes = new Map<string, number>();
  const terms: Term[] = inputs.map((sub, i) => {
    if (!/^[a-zA-Z]*$/.test(sub)) throw fail(`subscript '${sub}' may hold only letters a-z, A-Z`);
    const x = operands[i];
    if (sub.length !== x.ndim) throw fail(`subscript '${sub}' names ${sub.length} axes but operand ${i} has ${x.ndim}`);
    [...sub].forEach((c, d) => {
      const s = sizes.get(c);
      if (s !== undefined && s !== x.shape[d]) throw fail(`letter '${c}' has sizes ${s} and ${x.shape[d]}`);
      sizes.set(c, x.shape[d]);
    });
    return { x, letters: [...sub] };
  });
  let output: string[];
  if (parts.length === 2) {
    output = [...parts[1]];
    if (!/^[a-zA-Z]*$/.test(parts[1])) throw fail(`output subscript '${parts[1]}' may hold only letters a-z, A-Z`);
    for (const c of output) {
      if (!sizes.has(c)) throw fail(`output letter '${c}' appears in no input`);
      if (output.indexOf(c) !== output.lastIndexOf(c)) throw fail(`output letter '${c}' is repeated`);
    }
  } else {
    const all = inputs.join('');
    output = [...new Set(all)].filter((c) => all.indexOf(c) === all.lastIndexOf(c)).sort();
  }

  const folded = terms.map(takeDiagonals);
  // Letters still needed after operand i: the output's and those of later operands.
  const neededAfter = (i: number): Set<string> => new Set([...output, ...folded.slice(i + 1).flatMap((t) => t.letters)]);
  let cur = sumOut(folded[0], neededAfter(0), folded.slice(1));
  for (let i = 1; i < folded.length; i++) {
    const later = neededAfter(i);
    const next = sumOut(folded[i], later, [cur]);
    cur = contract(sumOut(cur, later, [next]), next, later);
  }
  cur = sumOut(cur, new Set(output), []);
  const y = permute(cur.x, output.map((c) => cur.letters.indexOf(c)));
  return y;
}

/** The term with each repeated letter reduced to one axis holding the diagonal. */
function takeDiagonals(t: Term): Term {
  let { x, letters } = t;
  for (;;) {
    const q = letters.findIndex((c, i) => letters.indexOf(c) !== i);
    if (q < 0) return { x, letters };
    const p = letters.indexOf(letters[q]);
    const n = x.shape[p];
    const others = letters.map((_, i) => i).filter((i) => i !== p && i !== q);
    const square = reshape(contiguous(permute(x, [...others, p, q])), [...others.map((i) => x.shape[i]), n * n]);
    x = indexSelect(square, -1, arange(0, n * n, n + 1, { backend: x.backend.name, dtype: 'int32' }));
    letters = [...others.map((i) => letters[i]), letters[p]];
  }
}

/** The term with the letters that are neither in `needed` nor in any of `others` summed away. */
function sumOut(t: Term, needed: Set<string>, others: Term[]): Term {
  const keep = (c: string) => needed.has(c) || others.some((o) => o.letters.includes(c));
  const axes = t.letters.map((c, i) => (keep(c) ? -1 : i)).filter((i) => i >= 0);
  if (axes.length === 0) return t;
  return { x: sum(t.x, axes), letters: t.letters.filter((c) => keep(c)) };
}

/** a and b combined by one batched matmul: shared letters in `needed` are batch axes, other shared ones contracted. */
function contract(a: Term, b: Term, needed: Set<string>): Term {
  const shared = a.letters.filter((c) => b.letters.includes(c));
  const batch = shared.filter((c) => needed.has(c)), summed = shared.filter((c) => !needed.has(c));
  const aOnly = a.letters.filter((c) => !shared.includes(c)), bOnly = b.letters.filter((c) => !shared.includes(c));
  const size = (t: Term, cs: string[]) => cs.map((c) => t.x.shape[t.letters.indexOf(c)]);
  const arrange = (t: Term, groups: string[][]) =>
    reshape(permute(t.x, groups.flat().map((c) => t.letters.indexOf(c))), groups.map((g) => numel(size(t, g))));
  const product = matmul(arrange(a, [batch, aOnly, summed]), arrange(b, [batch, summed, bOnly]));
  return { x: reshape(product, [...size(a, batch), ...size(a, aOnly), ...size(b, bOnly)]), letters: [...batch, ...aOnly, ...bOnly] };
}
