// The CommonJS entry: `require('tessera-tensor')`. Tessera is an ES module package. Node >= 20.19 can
// require() an ES module that has no top-level await, so this hands over to the ES entry; on older
// Node the error says how to import the package instead.
let api: unknown;
try {
  api = require('./index.js');
} catch (e) {
  const code = (e as { code?: string }).code;
  if (code !== 'ERR_REQUIRE_ESM' && code !== 'ERR_REQUIRE_ASYNC_MODULE') throw e;
  throw new Error(`tessera-tensor is an ES module package and this Node (${process.version}) cannot require() it ` +
    `(${code}). Use \`import * as T from 'tessera-tensor'\` in an ES module (.mjs, or "type": "module"), ` +
    "or `const T = await import('tessera-tensor')` from CommonJS.");
}
module.exports = api;
