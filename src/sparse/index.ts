// Sparse matrices (CSR) and the differentiable graph ops on them.
export { Csr } from './csr.js';
export type { BuildOptions, IdArray, ValuesInput } from './csr.js';
export { spmm, sddmm, edgeSoftmax } from './ops.js';
