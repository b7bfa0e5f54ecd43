// Bundles GraphiQL for vsys into dist/ (committed, so the server needs no build step; CI runs
// this again and fails when the result differs from what is committed).
import { copyFileSync, mkdirSync } from 'node:fs';
import { build } from 'esbuild';

mkdirSync('dist', { recursive: true });
await build({
  entryPoints: ['src/main.jsx'],
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2020',
  outfile: 'dist/graphiql.js',
  jsx: 'automatic',
  define: { 'process.env.NODE_ENV': '"production"' },
  legalComments: 'linked',
  logLevel: 'warning',
});
copyFileSync('node_modules/graphiql/dist/style.css', 'dist/graphiql.css');
