// The generated codecs are committed; this checks that regenerating them from the Kafka specs changes nothing
// (the idea of fastify's `test:validator:integrity`). A hand edit to a generated file, or a generator change
// without `npm run gen`, fails here with the list of differing paths.
//
// The specs live outside the repository, in ../shared/kafka-protocol (present in development and in CI). When
// they are absent the test is skipped with a message instead of failing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateAll } from '../../scripts/gen-protocol.js';

/** the project root: the nearest folder above this file (compiled into dist/test/protocol) with a package.json */
function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || dir.endsWith('/dist')) {
    const up = dirname(dir);
    if (up === dir) throw new Error('no package.json above the test file');
    dir = up;
  }
  return dir;
}

const root = projectRoot();
const protocolDir = join(root, '..', 'shared', 'kafka-protocol');
const specsPresent = existsSync(join(protocolDir, 'messages'));
const skip = specsPresent ? false : `no Kafka specs at ${protocolDir}: cannot regenerate the codecs to compare`;

function listFiles(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) listFiles(p, out);
    else out.push(p);
  }
  return out;
}

describe('generated codecs are up to date with scripts/gen-protocol.ts and the specs', { skip }, () => {
  const files = specsPresent ? generateAll(protocolDir) : [];

  it('every generated file equals the committed file byte for byte', () => {
    const differing: string[] = [];
    const missing: string[] = [];
    for (const f of files) {
      const p = join(root, f.path);
      if (!existsSync(p)) missing.push(f.path);
      else if (!readFileSync(p).equals(Buffer.from(f.text, 'utf8'))) differing.push(f.path);
    }
    assert.deepEqual(
      { missing, differing },
      { missing: [], differing: [] },
      `regenerate with \`npm run gen\`: ${missing.length} missing, ${differing.length} differing:\n  ${[...missing, ...differing].join('\n  ')}`,
    );
  });

  it('no stale files: every .ts in the generated folders comes from the generator', () => {
    const expected = new Set(files.map((f) => f.path));
    const dirs = ['src/protocol/generated', 'test/protocol/generated'];
    const stale = dirs
      .flatMap((d) => listFiles(join(root, d)))
      .map((p) => relative(root, p))
      .filter((p) => p.endsWith('.ts') && !expected.has(p));
    assert.deepEqual(stale, [], `files the generator no longer produces:\n  ${stale.join('\n  ')}`);
  });

  it('covers every spec: one module per usable message spec, plus the API index', () => {
    const specs = readdirSync(join(protocolDir, 'messages')).filter((f) => f.endsWith('.json'));
    const modules = files.filter((f) => f.path.startsWith('src/protocol/generated/messages/'));
    // the ZooKeeper-era stubs (LeaderAndIsr, StopReplica, UpdateMetadata, ControlledShutdown, request + response)
    // have "validVersions": "none" and produce no module
    assert.equal(modules.length, specs.length - 8);
    assert.ok(files.some((f) => f.path === 'src/protocol/generated/api.ts'));
    assert.ok(files.some((f) => f.path === 'src/protocol/generated/error-codes.ts'));
    for (const name of ['SimpleExampleMessage', 'NullableStructMessage', 'SimpleArraysMessage', 'SimpleRecordsMessage']) {
      assert.ok(files.some((f) => f.path === `test/protocol/generated/${name}.ts`), name);
    }
  });

  it('is deterministic: two runs give the same text', () => {
    const again = generateAll(protocolDir);
    assert.deepEqual(
      again.map((f) => [f.path, f.text]),
      files.map((f) => [f.path, f.text]),
    );
  });
});
