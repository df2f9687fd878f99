#!/usr/bin/env node
// The `umbra` command. The TypeScript sources are compiled to dist/ by `npm ci` (the `prepare` script).
// CommonJS (bin/package.json), unlike the rest of the project: an ES module entry is itself loaded through the
// threadpool, which then has its size before this file runs.

// libuv's threadpool (4 threads unless told) carries the broker's fetch reads from segment files and its background
// file work (checkpoint and index writes with their fdatasync, removal of retired segments). On a disk where those
// block for milliseconds, fetch reads can wait behind them with four threads (bench/RESULTS.md has the A/B: at 256
// partitions less lag at 100 % of max ingest in most runs, the 50 % latency within the noise). It must be set before
// the pool starts, so here, before anything is loaded; an explicit UV_THREADPOOL_SIZE wins.
process.env.UV_THREADPOOL_SIZE ??= '16';

import('../dist/src/cli/main.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/src/cli')) {
    process.stderr.write('umbra: not built yet; run `npm ci` (or `npm run build`) first\n');
    process.exit(1);
  }
  throw err;
});
