// The model kinds the server knows, by config.json's `kind`. Missing so far: the DeepAR
// forecaster (its model code had not landed when this was written).
import type { ModelKind } from '../kind.js';
import { detectorKind } from './detector.js';
import { gnnKind } from './gnn.js';
import { videoKind } from './video.js';

export const MODEL_KINDS: ReadonlyMap<string, ModelKind> = new Map([detectorKind, gnnKind, videoKind].map((k) => [k.name, k]));
