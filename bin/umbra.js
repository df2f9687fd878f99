#!/usr/bin/env node
// The `umbra` command. The TypeScript sources are compiled to dist/ by `npm ci` (the `prepare` script).
import('../dist/src/cli/main.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/src/cli')) {
    process.stderr.write('umbra: not built yet; run `npm ci` (or `npm run build`) first\n');
    process.exit(1);
  }
  throw err;
});
