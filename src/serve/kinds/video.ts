// Video classifier adapter (src/models/video's ResNets): model.safetensors plus config.json
// { kind: 'video', config: { arch: 'r3d18' | 'mc318' | 'r2plus1d18' | 'r3d50', options: VideoResNetOptions (numbers only),
//   frames, size, classNames? } }. Input {"clip": [C*T*H*W numbers]} (channels, frames, rows, columns, row-major);
// the answer is the classes by probability (top 5).
import { join } from 'node:path';
import * as T from '../../index.js';
import { r3d18, mc318, r2plus1d18, r3d50, type VideoResNetOptions } from '../../models/video/index.js';
import { ClientError, type LoadedModel, type ModelKind, type ModelManifest } from '../kind.js';

const ARCHS = { r3d18, mc318, r2plus1d18, r3d50 } as const;

export interface VideoServeConfig {
  arch: keyof typeof ARCHS;
  options: Omit<VideoResNetOptions, 'backend' | 'generator'>;
  frames: number;
  size: number;
  classNames?: string[];
}

export const videoKind: ModelKind = {
  name: 'video',
  trainable: false,
  async load(dir: string, manifest: ModelManifest): Promise<LoadedModel> {
    const cfg = manifest.config as unknown as VideoServeConfig;
    const make = ARCHS[cfg.arch];
    if (!make) throw new Error(`${dir}/config.json: video arch '${String(cfg.arch)}' is not one of ${Object.keys(ARCHS).join(', ')}`);
    if (!Number.isInteger(cfg.frames) || !Number.isInteger(cfg.size)) throw new Error(`${dir}/config.json: a video model needs integer config.frames and config.size`);
    const model = make(cfg.options ?? {});
    await T.loadModule(join(dir, 'model.safetensors'), model);
    model.eval();
    const channels = cfg.options?.inChannels ?? 3;
    const clipSize = channels * cfg.frames * cfg.size * cfg.size;
    const bytes = Object.values(model.stateDict()).reduce((n, t) => n + 4 * t.size, 0);
    return {
      bytes,
      parseJson(body) {
        const clip = (body as { clip?: unknown } | null)?.clip;
        if (!Array.isArray(clip) || clip.length !== clipSize) {
          throw new ClientError(400, `a video model takes {"clip": [${clipSize} numbers]} (${channels} channels x ${cfg.frames} frames x ${cfg.size} x ${cfg.size}), got ${Array.isArray(clip) ? `${clip.length} numbers` : typeof clip}`);
        }
        const data = Float32Array.from(clip as number[]);
        if (data.some((v) => !Number.isFinite(v))) throw new ClientError(400, 'the clip holds a value that is not a finite number');
        return data;
      },
      async predictBatch(inputs) {
        const clips = inputs as Float32Array[];
        const data = new Float32Array(clips.length * clipSize);
        clips.forEach((c, i) => data.set(c, i * clipSize));
        const probs = T.noGrad(() => T.scope(() => T.softmax(model.forward(T.fromArray(data, [clips.length, channels, cfg.frames, cfg.size, cfg.size])), -1)));
        const p = await probs.data();
        const classes = probs.shape[1];
        probs.dispose();
        return clips.map((_, i) => ({
          top: Array.from(p.subarray(i * classes, (i + 1) * classes), (probability, c) => ({ class: cfg.classNames?.[c] ?? c, probability }))
            .sort((a, b) => b.probability - a.probability).slice(0, 5),
        }));
      },
      dispose: () => model.dispose(),
    };
  },
};
