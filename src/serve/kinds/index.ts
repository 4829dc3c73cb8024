// The model kinds the server knows, by config.json's `kind`.
import type { ModelKind } from '../kind.js';
import { detectorKind } from './detector.js';
import { gnnKind } from './gnn.js';
import { videoKind } from './video.js';
import { deeparKind } from './deepar.js';

export const MODEL_KINDS: ReadonlyMap<string, ModelKind> = new Map([detectorKind, gnnKind, videoKind, deeparKind].map((k) => [k.name, k]));
