export { Module } from './module.js';
export {
  Linear, Sequential, ModuleList, Bilinear, Embedding, Dropout, bilinear,
  Activation, ReLU, GELU, Tanh, Sigmoid, Softplus, LeakyReLU, ELU,
} from './layers.js';
export type { LinearOptions as LinearLayerOptions, ModuleOptions, EmbeddingOptions } from './layers.js';
export { LayerNorm, RMSNorm, GroupNorm, BatchNorm1d, BatchNorm2d, BatchNorm3d, layerNorm, rmsNorm, groupNorm } from './norm.js';
export type { NormOptions, LayerNormOptions, BatchNormLayerOptions } from './norm.js';
export { Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d } from './conv.js';
export type { ConvLayerOptions, ConvTransposeLayerOptions } from './conv.js';
export {
  Upsample, MaxPool1d, MaxPool2d, MaxPool3d, AvgPool1d, AvgPool2d, AvgPool3d,
  AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveAvgPool3d, AdaptiveMaxPool1d, AdaptiveMaxPool2d, AdaptiveMaxPool3d,
} from './pool.js';
export { LSTMCell, LSTM, lstmCell, GRUCell, GRU, gruCell } from './recurrent.js';
export type { LstmOptions, LstmWeights, GruOptions, GruWeights, RecurrentOptions } from './recurrent.js';
export { MultiHeadAttention, scaledDotProductAttention } from './attention.js';
export type { AttentionOptions, MultiHeadAttentionOptions, MultiHeadAttentionCall } from './attention.js';
export * as init from './init.js';
export { MultiheadAttention, TransformerEncoderLayer } from './transformer.js';
export type { MultiheadAttentionOptions, MultiheadAttentionCall, TransformerEncoderLayerOptions, TransformerEncoderLayerCall } from './transformer.js';
