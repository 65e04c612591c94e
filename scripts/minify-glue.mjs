// Minifies the page's JS glue (wasm-bindgen's `*.js` next to the wasm, which Trunk does not
// minify) with esbuild, and rewrites its `integrity` hash in index.html to match. About 1.8 KB
// gzip of the download budget (docs/benchmarks.md). Run by scripts/trunk-release.sh after
// `trunk build --release`.
//
//   node scripts/minify-glue.mjs DIST
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { transformSync } from 'esbuild';

const dist = process.argv[2];
if (!dist) {
  console.error('usage: node scripts/minify-glue.mjs DIST');
  process.exit(2);
}
const indexPath = join(dist, 'index.html');
let index = readFileSync(indexPath, 'utf8');
// The module Trunk preloads is the glue: `<link rel="modulepreload" href="./NAME.js" … integrity="sha384-…">`.
const preload = /<link rel="modulepreload" href="\.\/([^"]+\.js)"[^>]*integrity="(sha384-[^"]+)"/.exec(index);
if (!preload) {
  console.error(`minify-glue: no modulepreload with an integrity hash in ${indexPath}`);
  process.exit(1);
}
const [, name, oldHash] = preload;
const file = join(dist, name);
const source = readFileSync(file, 'utf8');
const { code } = transformSync(source, { minify: true, format: 'esm', target: 'es2020' });
writeFileSync(file, code);
const hash = `sha384-${createHash('sha384').update(code).digest('base64')}`;
index = index.split(oldHash).join(hash);
writeFileSync(indexPath, index);
console.log(`minify-glue: ${name} ${source.length} → ${code.length} bytes`);
