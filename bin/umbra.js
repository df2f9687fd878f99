#!/usr/bin/env node
// The `umbra` command. The TypeScript sources are compiled to dist/ by `npm ci` (the `prepare` script).
// CommonJS (bin/package.json), unlike the rest of the project: an ES module entry is itself loaded through the
// threadpool, which then has its size before this file runs.

// libuv's threadpool (4 threads unless told) carries the broker's fetch reads from segment files and its background
// file work (checkpoint and index writes with their fdatasync, removal of retired segments). On a disk where those
// block for milliseconds, four threads were too few: fetch reads waited behind them (bench/RESULTS.md, 256
// partitions: p99 replication latency 42 → 32 ms at 50 % of max ingest). It must be set before the pool starts, so
// here, before anything is loaded; an explicit UV_THREADPOOL_SIZE wins.
process.env.UV_THREADPOOL_SIZE ??= '16';

import('../dist/src/cli/main.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/src/cli')) {
    process.stderr.write('umbra: not built yet; run `npm ci` (or `npm run build`) first\n');
    process.exit(1);
  }
  throw err;
});
