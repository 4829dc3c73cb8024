// The model kinds the server knows, by config.json's `kind`. Missing so far: the DeepAR
// forecaster and the video classifier (their model code had not landed when this was written).
import type { ModelKind } from '../kind.js';
import { detectorKind } from './detector.js';
import { gnnKind } from './gnn.js';

export const MODEL_KINDS: ReadonlyMap<string, ModelKind> = new Map([detectorKind, gnnKind].map((k) => [k.name, k]));
