// Bundles the compiled CLI (dist/cli/main.js and everything it imports, the npm dependencies
// included) into one file, dist/cnp-operator.js, which bin/cnp-operator and bin/kubectl-cnp run.
// Node.js otherwise resolves, reads and compiles about 190 files at every start (0.1 s of CPU
// and more, measured with `cnp-operator run`), which the operator's cold start and every
// kubectl cnp command pay. Run by `npm run build` after tsc.
//
// @kubernetes/client-node stays outside: only exec plugins and auth providers load it, on first
// use (src/kube/config.ts). The bundled CommonJS dependencies (prom-client, yaml) call require()
// for Node.js's own modules, which an ES module has only through createRequire.
import { build } from 'esbuild';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outfile = join(root, 'dist', 'cnp-operator.js');
const result = await build({
  entryPoints: [join(root, 'dist', 'cli', 'main.js')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['@kubernetes/client-node'],
  banner: { js: "import { createRequire as createRequireForBundle } from 'node:module';\nconst require = createRequireForBundle(import.meta.url);" },
  logLevel: 'warning',
  write: false,
});
// esbuild escapes what is not ASCII in code, but keeps comments as written: one typographic
// quote in a comment makes V8 hold the whole 1.2 MB source, for as long as the process runs, at
// two bytes per character. An escape is the same character in a string, a regular expression or
// an identifier, and harmless in a comment, so every one left is escaped.
const ascii = (text) => text.replace(/[^\t\n\r\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
for (const file of result.outputFiles) writeFileSync(file.path, ascii(file.text));
