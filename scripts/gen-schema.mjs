// Writes the files generated from src/schema.ts (scripts/schema-emit.ts says which), from the
// compiled emitter (`npm run gen:schema` compiles first); `npm run build` then embeds the new WGSL.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatedFiles } from '../dist/scripts/schema-emit.js';

const root = fileURLToPath(new URL('..', import.meta.url));
for (const [path, text] of generatedFiles()) {
  writeFileSync(join(root, path), text);
  console.log(`gen-schema: ${path}`);
}
