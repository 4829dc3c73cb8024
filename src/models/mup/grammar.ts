// A character corpus generated in code, for the µTransfer language model: text
// sampled from a small probabilistic grammar of English-like sentences, with
// number agreement (a singular subject takes "runs", a plural one "run"),
// optional adjectives, prepositional phrases and relative clauses. It has
// structure at several ranges (spelling, agreement, clause nesting), so a
// wider model can keep lowering the loss; it needs no download.
import { Rng } from '../../index.js';

type Num = 'sg' | 'pl';

const LEXICON = {
  detSg: ['the', 'a', 'this', 'every', 'one'],
  detPl: ['the', 'some', 'these', 'many', 'two', 'all'],
  adjective: ['small', 'red', 'quiet', 'old', 'clever', 'green', 'heavy', 'bright', 'lazy', 'brave'],
  nounSg: ['cat', 'dog', 'bird', 'child', 'farmer', 'robot', 'river', 'teacher', 'fox', 'lamp'],
  nounPl: ['cats', 'dogs', 'birds', 'children', 'farmers', 'robots', 'rivers', 'teachers', 'foxes', 'lamps'],
  verbTransSg: ['sees', 'likes', 'follows', 'finds', 'watches', 'carries', 'helps'],
  verbTransPl: ['see', 'like', 'follow', 'find', 'watch', 'carry', 'help'],
  verbIntransSg: ['sleeps', 'runs', 'sings', 'waits', 'laughs'],
  verbIntransPl: ['sleep', 'run', 'sing', 'wait', 'laugh'],
  preposition: ['near', 'under', 'behind', 'with', 'beside'],
  adverb: ['quickly', 'slowly', 'often', 'never', 'quietly'],
};

/** Sentence generator: each rule picks an expansion with fixed probabilities; depth bounds nesting. */
class Grammar {
  constructor(private readonly rng: Rng) {}
  private pick<T>(xs: readonly T[]): T { return xs[this.rng.int(xs.length)]; }
  private chance(p: number): boolean { return this.rng.uniform() < p; }

  sentence(): string {
    const n: Num = this.chance(0.5) ? 'sg' : 'pl';
    return `${this.nounPhrase(n, 0)} ${this.verbPhrase(n, 0)}.`;
  }

  private nounPhrase(n: Num, depth: number): string {
    const words = [this.pick(n === 'sg' ? LEXICON.detSg : LEXICON.detPl)];
    if (this.chance(0.4)) words.push(this.pick(LEXICON.adjective));
    if (this.chance(0.15)) words.push(this.pick(LEXICON.adjective));
    words.push(this.pick(n === 'sg' ? LEXICON.nounSg : LEXICON.nounPl));
    if (depth < 2 && this.chance(0.2)) words.push(this.pick(LEXICON.preposition), this.nounPhrase(this.chance(0.5) ? 'sg' : 'pl', depth + 1));
    // A relative clause agrees with its head noun: "the dog that sees ..." / "the dogs that see ...".
    if (depth < 2 && this.chance(0.15)) words.push('that', this.verbPhrase(n, depth + 1));
    return words.join(' ');
  }

  private verbPhrase(n: Num, depth: number): string {
    const words: string[] = [];
    if (this.chance(0.2)) words.push(this.pick(LEXICON.adverb));
    if (this.chance(0.65)) {
      words.push(this.pick(n === 'sg' ? LEXICON.verbTransSg : LEXICON.verbTransPl), this.nounPhrase(this.chance(0.5) ? 'sg' : 'pl', depth + 1));
    } else {
      words.push(this.pick(n === 'sg' ? LEXICON.verbIntransSg : LEXICON.verbIntransPl));
      if (depth < 2 && this.chance(0.3)) words.push(this.pick(LEXICON.preposition), this.nounPhrase(this.chance(0.5) ? 'sg' : 'pl', depth + 1));
    }
    return words.join(' ');
  }
}

/** Every character the grammar can emit, sorted: the same vocabulary for any seed and length. */
export const GRAMMAR_VOCAB: readonly string[] = [...new Set([' ', '.', ...Object.values(LEXICON).flat().join('')])].sort();

export interface CharCorpus {
  text: string;
  /** GRAMMAR_VOCAB: a token is an index into this list. */
  vocab: readonly string[];
  tokens: Int32Array;
}

/** At least `length` characters of sentences separated by spaces, from a seeded generator. */
export function grammarCorpus(length: number, seed = 0): CharCorpus {
  if (!(Number.isInteger(length) && length > 0)) throw new Error(`grammarCorpus: length must be a positive integer, got ${length}`);
  const g = new Grammar(new Rng(seed));
  const parts: string[] = [];
  let size = 0;
  while (size < length) {
    const s = g.sentence();
    parts.push(s);
    size += s.length + 1;
  }
  const text = parts.join(' ');
  const index = new Map(GRAMMAR_VOCAB.map((c, i) => [c, i]));
  const tokens = Int32Array.from(text, (c) => index.get(c)!);
  return { text, vocab: GRAMMAR_VOCAB, tokens };
}
