export { Module } from './module.js';
export { Linear, Sequential, Activation, ReLU, GELU, Tanh, Sigmoid, Softplus, LeakyReLU, ELU } from './layers.js';
export type { LinearOptions as LinearLayerOptions } from './layers.js';
export * as init from './init.js';
