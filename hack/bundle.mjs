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

// An ES module import of node:http makes Node.js 24 build the module's whole namespace, which
// reads its lazy WebSocket, MessageEvent and CloseEvent exports and so loads the fetch
// implementation (undici): 2.4 MiB more heap and about 14 MiB more resident in a bare process,
// for features the operator never uses. A require() reads no export, so node:http is required.
const requireNodeHttp = {
  name: 'require-node-http',
  setup(b) {
    b.onResolve({ filter: /^node:http$/ }, (args) => (args.kind === 'require-call' ? undefined : { path: args.path, namespace: 'required-builtin' }));
    b.onLoad({ filter: /.*/, namespace: 'required-builtin' }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: 'js' }));
  },
};
const result = await build({
  entryPoints: [join(root, 'dist', 'cli', 'main.js')],
  outfile: join(root, 'dist', 'cnp-operator.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['@kubernetes/client-node'],
  banner: { js: "import { createRequire as createRequireForBundle } from 'node:module';\nconst require = createRequireForBundle(import.meta.url);" },
  logLevel: 'warning',
  plugins: [requireNodeHttp],
  write: false,
});
// esbuild escapes what is not ASCII in code, but keeps comments as written: one typographic
// quote in a comment makes V8 hold the whole 1.2 MB source, for as long as the process runs, at
// two bytes per character. An escape is the same character in a string, a regular expression or
// an identifier, and harmless in a comment, so every one left is escaped.
const ascii = (text) => text.replace(/[^\t\n\r\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
for (const file of result.outputFiles) writeFileSync(file.path, ascii(file.text));
