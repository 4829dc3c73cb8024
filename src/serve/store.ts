// The models directory: <models>/<name>/v<N>/{config.json, *.safetensors}. Names are checked
// against a strict pattern and resolved paths must stay inside the directory, so no request can
// reach a file elsewhere. Only JSON and safetensors are read from a model folder, never code.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { ClientError, type ModelManifest } from './kind.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export function checkModelName(name: string): string {
  if (!NAME.test(name)) throw new ClientError(400, `invalid model name ${JSON.stringify(name)}: letters, digits, '_' and '-', at most 64, not starting with '_' or '-'`);
  return name;
}

export class ModelStore {
  readonly root: string;
  constructor(root: string) { this.root = resolve(root); }

  modelDir(name: string): string {
    const dir = resolve(this.root, checkModelName(name));
    if (!dir.startsWith(this.root + sep)) throw new ClientError(400, `model name ${JSON.stringify(name)} leaves the models directory`);
    return dir;
  }

  versionDir(name: string, version: number): string { return join(this.modelDir(name), `v${version}`); }

  names(): string[] {
    if (!existsSync(this.root)) return [];
    return readdirSync(this.root).filter((n) => NAME.test(n) && statSync(join(this.root, n)).isDirectory() && this.versions(n).length > 0).sort();
  }

  /** Complete versions (folders v<N> holding config.json), ascending. */
  versions(name: string): number[] {
    const dir = this.modelDir(name);
    if (!existsSync(dir)) return [];
    return readdirSync(dir).map((d) => /^v(\d+)$/.exec(d)).filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1])).filter((v) => existsSync(join(dir, `v${v}`, 'config.json'))).sort((a, b) => a - b);
  }

  latest(name: string): number | undefined { return this.versions(name).at(-1); }

  manifest(name: string, version: number): ModelManifest {
    const path = join(this.versionDir(name, version), 'config.json');
    const m = JSON.parse(readFileSync(path, 'utf8')) as ModelManifest;
    if (typeof m.kind !== 'string' || typeof m.config !== 'object' || m.config === null) throw new Error(`${path}: needs "kind" and "config"`);
    return m;
  }
}
