// Builds app.js into a WebAssembly component with componentize-js's Node API:
//   node build.mjs OUT.wasm
// (The `jco componentize` command fails in some sandboxes with "os error 44"; the API
// does not.) The engine is built without the WASI features the plugin does not need; what
// the component still imports (wasi:io, stdio, the wall clock, the file system types) the
// host serves from an empty WASI context.
import { componentize } from '@bytecodealliance/componentize-js';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const out = process.argv[2];
if (!out) {
  console.error('usage: node build.mjs OUT.wasm');
  process.exit(2);
}
const { component, imports } = await componentize({
  sourcePath: here('./app.js'),
  witPath: here('../../../wit'),
  worldName: 'enricher',
  disableFeatures: ['random', 'clocks', 'http', 'fetch-event'],
});
await writeFile(out, component);
console.error(`windkraft-js: ${component.length} bytes; WIT imports ${imports.map((i) => i.join('#')).join(', ')}`);
