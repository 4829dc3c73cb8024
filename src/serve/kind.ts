// The model-kind interface of `tessera serve`. A kind turns a model folder (weights as
// safetensors + config.json) into a LoadedModel that answers batches of requests. Adding a
// model family to the server is one adapter file in kinds/ registered in kinds/index.ts.

/** A request the client got wrong: answered with this HTTP status (4xx) and the message. */
export class ClientError extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}

/** config.json of a model version folder. */
export interface ModelManifest {
  kind: string;
  version: number;
  /** The kind's hyper-parameters (checked by the kind). */
  config: Record<string, unknown>;
  /** Free-form: when and how the version was made. */
  created?: string;
}

export interface LoadedModel {
  /** Bytes the model holds on its backend (weights and fixed inputs): what the memory budget counts. */
  readonly bytes: number;
  /** Checks and converts one JSON request body; throws ClientError on bad input. */
  parseJson(body: unknown): unknown;
  /** Converts an uploaded image (detectors only); throws ClientError when it cannot be decoded. */
  parseImage?(bytes: Buffer, contentType: string): unknown;
  /** Answers parsed inputs in one batched call, one JSON-able result per input. */
  predictBatch(inputs: unknown[]): Promise<unknown[]>;
  dispose(): void;
}

export interface ModelKind {
  readonly name: string;
  /** Loads the version folder `dir` (config.json already read into `manifest`). */
  load(dir: string, manifest: ModelManifest): Promise<LoadedModel>;
  /** Whether POST /v1/train can make versions of this kind from uploaded annotated images. */
  readonly trainable: boolean;
}
