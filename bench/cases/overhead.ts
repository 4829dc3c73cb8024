import type { BenchCase } from '../case.js';
export const cases: BenchCase[] = [];
