// Builds the dashboard into dist/ (or the directory given as the argument): app-<hash>.js and
// style-<hash>.css (minified, named by a hash of their content) and index.html naming them.
// Deterministic: the same sources give the same bytes, so CI builds into a scratch directory and
// fails on any difference from the committed dist/ (tools/test.sh).
import { build } from 'esbuild';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = process.argv[2] ?? join(here, 'dist');
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist);

const result = await build({
  entryPoints: { app: join(here, 'src/app.js'), style: join(here, 'src/app.css') },
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2020'],
  entryNames: '[name]-[hash]',
  outdir: dist,
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
});
const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
const js = outputs.find((f) => f.endsWith('.js'));
const css = outputs.find((f) => f.endsWith('.css'));
const index = readFileSync(join(here, 'src/index.html'), 'utf8')
  .replace('{{js}}', js)
  .replace('{{css}}', css);
writeFileSync(join(dist, 'index.html'), index);
console.log(`dist: ${readdirSync(dist).sort().join(' ')}`);
