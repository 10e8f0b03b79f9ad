// Builds the dashboard into dist/ (or the directory given as the argument): app-<hash>.js and
// style-<hash>.css (minified; the hash is of the file's own bytes) and index.html naming them.
// Deterministic wherever the checkout lives: the same sources give the same bytes and names, so
// CI builds into a scratch directory and fails on any difference from the committed dist/
// (tools/test.sh). esbuild's own [hash] is not used: it depends on the sources' absolute paths.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = process.argv[2] ?? join(here, 'dist');
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

const result = await build({
  entryPoints: { app: join(here, 'src/app.js'), style: join(here, 'src/app.css') },
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2020'],
  outdir: dist,
  write: false,
  legalComments: 'none',
  logLevel: 'warning',
});
const names = {};
for (const file of result.outputFiles) {
  const ext = extname(file.path);
  const hash = createHash('sha256').update(file.contents).digest('hex').slice(0, 10);
  const name = `${basename(file.path, ext)}-${hash}${ext}`;
  writeFileSync(join(dist, name), file.contents);
  names[ext] = name;
}
const index = readFileSync(join(here, 'src/index.html'), 'utf8')
  .replace('{{js}}', names['.js'])
  .replace('{{css}}', names['.css']);
writeFileSync(join(dist, 'index.html'), index);
console.log(`dist: ${readdirSync(dist).sort().join(' ')}`);
