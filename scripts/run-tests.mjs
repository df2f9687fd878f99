#!/usr/bin/env node
// Runs the compiled test files with Node's own runner. Node 20 has no globs, so this lists them explicitly,
// and refuses to run an empty list (which would "pass" having run nothing).
//   node scripts/run-tests.mjs                 every dist/test/**/*.test.js
//   node scripts/run-tests.mjs storage groups  only files whose path contains one of the words
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const testDir = join(root, 'dist', 'test');

function walk(dir, out) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const filters = process.argv.slice(2);
let files = walk(testDir, []);
if (filters.length > 0) files = files.filter((f) => filters.some((w) => relative(testDir, f).includes(w)));
if (files.length === 0) {
  console.error(`no test files found under ${testDir}${filters.length ? ` matching ${filters.join(', ')}` : ''}; run npm run build`);
  process.exit(1);
}
const concurrency = process.env.UMBRA_TEST_CONCURRENCY ?? '2';
const res = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, ...files], { stdio: 'inherit' });
process.exit(res.status ?? 1);
