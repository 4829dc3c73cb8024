// Detector adapter: folders written by src/models/detect (model.safetensors) plus config.json
// { kind: 'detector', config: { detector: DetectorConfig, imageSize, classNames, scoreThreshold? } }.
// Inputs: an uploaded PNG/JPEG (multipart or JSON {image: base64}); it is letterboxed to the
// model's square size and the boxes come back in the uploaded image's pixels.
import { join } from 'node:path';
import * as T from '../../index.js';
import { Detector, detect, type DetectorConfig } from '../../models/detect/index.js';
import { ClientError, type LoadedModel, type ModelKind, type ModelManifest } from '../kind.js';

export interface DetectorServeConfig {
  detector: DetectorConfig;
  imageSize: number;
  classNames: string[];
  scoreThreshold?: number;
}

interface DetectorInput { image: Float32Array; scale: number; width: number; height: number }

function decode(bytes: Buffer, size: number): DetectorInput {
  let decoded;
  try {
    decoded = T.data.decodeImage('upload', bytes);
  } catch (e) {
    throw new ClientError(415, `the image could not be decoded: ${(e as Error).message}`);
  }
  const { image, scale } = T.data.letterbox(decoded.planes, decoded.width, decoded.height, size);
  return { image, scale, width: decoded.width, height: decoded.height };
}

export const detectorKind: ModelKind = {
  name: 'detector',
  trainable: true,
  async load(dir: string, manifest: ModelManifest): Promise<LoadedModel> {
    const cfg = manifest.config as unknown as DetectorServeConfig;
    if (!cfg.detector || !Number.isInteger(cfg.imageSize) || !Array.isArray(cfg.classNames)) {
      throw new Error(`${dir}/config.json: a detector needs config.detector, config.imageSize and config.classNames`);
    }
    if (cfg.detector.inChannels !== 3) throw new Error(`${dir}/config.json: served detectors take RGB images (inChannels 3), got ${cfg.detector.inChannels}`);
    const model = new Detector(cfg.detector);
    await T.loadModule(join(dir, 'model.safetensors'), model);
    model.eval();
    const bytes = Object.values(model.stateDict()).reduce((n, t) => n + 4 * t.size, 0);
    const size = cfg.imageSize;
    return {
      bytes,
      parseJson(body) {
        const image = (body as { image?: unknown } | null)?.image;
        if (typeof image !== 'string') throw new ClientError(400, 'a detector takes {"image": "<base64 PNG or JPEG>"} or a multipart upload with an image file');
        return decode(Buffer.from(image, 'base64'), size);
      },
      parseImage: (bytes) => decode(bytes, size),
      async predictBatch(inputs) {
        const batch = inputs as DetectorInput[];
        const plane = 3 * size * size;
        const data = new Float32Array(batch.length * plane);
        batch.forEach((b, i) => data.set(b.image, i * plane));
        const images = T.fromArray(data, [batch.length, 3, size, size]);
        try {
          const dets = await detect(model, images, { scoreThreshold: cfg.scoreThreshold ?? 0.3 });
          return dets.map((d, i) => ({
            width: batch[i].width, height: batch[i].height,
            detections: Array.from(d.scores, (score, k) => ({
              label: cfg.classNames[d.labels[k]] ?? String(d.labels[k]), score,
              box: Array.from(d.boxes.subarray(4 * k, 4 * k + 4), (v) => v / batch[i].scale),
            })),
          }));
        } finally {
          images.dispose();
        }
      },
      dispose: () => model.dispose(),
    };
  },
};
