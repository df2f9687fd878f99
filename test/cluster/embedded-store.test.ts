import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fsync as realFsync, appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { METADATA_DIR_NAME, generateClusterId, openEmbeddedStore } from '../../src/cluster/embedded-store.js';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'umbra-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('cluster ids are 22-char URL-safe base64 and never start with "-"', () => {
  for (let i = 0; i < 200; i++) {
    const id = generateClusterId();
    assert.match(id, /^[A-Za-z0-9_-]{22}$/);
    assert.ok(!id.startsWith('-'));
  }
});

test('values survive reopen; the cluster id is generated once and kept', async (t) => {
  const dir = tempDir(t);
  const a = await openEmbeddedStore(dir, { nodeId: 3 });
  const clusterId = a.clusterId;
  assert.equal(a.nodeId, 3);
  await a.put('topics/b', { n: 2 });
  await a.put('topics/a', { n: 1 });
  await a.put('other/x', 'x');
  await a.batch([
    { op: 'put', key: 'topics/c', value: [1, 2, 3] },
    { op: 'delete', key: 'other/x' },
  ]);
  await a.close();

  const b = await openEmbeddedStore(dir, { nodeId: 3 });
  t.after(() => b.close());
  assert.equal(b.clusterId, clusterId);
  assert.deepEqual(b.get('topics/a'), { n: 1 });
  assert.equal(b.get('other/x'), undefined);
  assert.deepEqual(
    b.list('topics/').map(([k]) => k),
    ['topics/a', 'topics/b', 'topics/c'],
  );
  assert.ok(readFileSync(join(dir, METADATA_DIR_NAME, 'meta.properties'), 'utf8').includes(`cluster.id=${clusterId}`));
});

test('a torn journal tail is ignored and truncated; earlier changes survive', async (t) => {
  const dir = tempDir(t);
  const a = await openEmbeddedStore(dir, { nodeId: 0 });
  await a.put('k1', 'v1');
  await a.put('k2', 'v2');
  await a.close();
  const journal = join(dir, METADATA_DIR_NAME, 'journal');
  const goodSize = statSync(journal).size;

  // an append that died after its header and part of its payload
  const torn = Buffer.alloc(8 + 5);
  torn.writeUInt32BE(100, 0);
  torn.writeUInt32BE(0xdeadbeef, 4);
  appendFileSync(journal, torn);

  const warnings: string[] = [];
  const logger = { warn: (_o: object, msg: string) => warnings.push(msg), info: () => {} };
  const b = await openEmbeddedStore(dir, { nodeId: 0, logger });
  assert.equal(b.get('k1'), 'v1');
  assert.equal(b.get('k2'), 'v2');
  assert.equal(statSync(journal).size, goodSize);
  assert.equal(warnings.length, 1);
  // writes after recovery land after the good records, not after the garbage
  await b.put('k3', 'v3');
  await b.close();
  const c = await openEmbeddedStore(dir, { nodeId: 0 });
  t.after(() => c.close());
  assert.equal(c.get('k3'), 'v3');
});

test('a record whose CRC does not match ends the journal', async (t) => {
  const dir = tempDir(t);
  const a = await openEmbeddedStore(dir, { nodeId: 0 });
  await a.put('k1', 'v1');
  await a.put('k2', 'v2');
  await a.close();
  const journal = join(dir, METADATA_DIR_NAME, 'journal');
  const bytes = readFileSync(journal);
  bytes[bytes.length - 2] ^= 0xff; // flip a payload byte of the last record
  writeFileSync(journal, bytes);
  const b = await openEmbeddedStore(dir, { nodeId: 0 });
  t.after(() => b.close());
  assert.equal(b.get('k1'), 'v1');
  assert.equal(b.get('k2'), undefined);
});

test('a different node id than the data directory has is refused', async (t) => {
  const dir = tempDir(t);
  const a = await openEmbeddedStore(dir, { nodeId: 1 });
  await a.close();
  await assert.rejects(openEmbeddedStore(dir, { nodeId: 2 }), /belongs to node 1.*node id 2/);
  // and the refused open left the store usable
  const b = await openEmbeddedStore(dir, { nodeId: 1 });
  await b.close();
});

test('compaction folds the journal into a snapshot; state survives reopen', async (t) => {
  const dir = tempDir(t);
  const a = await openEmbeddedStore(dir, { nodeId: 0, compactAfterBytes: 512 });
  for (let i = 0; i < 50; i++) await a.put(`key/${String(i).padStart(2, '0')}`, { i, pad: 'x'.repeat(20) });
  await a.delete('key/07');
  const metaDir = join(dir, METADATA_DIR_NAME);
  assert.ok(existsSync(join(metaDir, 'snapshot')));
  assert.ok(statSync(join(metaDir, 'journal')).size < 512);
  await a.close();
  const b = await openEmbeddedStore(dir, { nodeId: 0 });
  t.after(() => b.close());
  assert.equal(b.list('key/').length, 49);
  assert.deepEqual(b.get('key/49'), { i: 49, pad: 'x'.repeat(20) });
  assert.equal(b.get('key/07'), undefined);
});

test('journal records already covered by the snapshot are skipped (crash between snapshot and journal reset)', async (t) => {
  const dir = tempDir(t);
  const metaDir = join(dir, METADATA_DIR_NAME);
  const a = await openEmbeddedStore(dir, { nodeId: 0 });
  await a.put('counter', 1);
  await a.put('counter', 2);
  await a.close();
  const oldJournal = readFileSync(join(metaDir, 'journal'));
  // compact, then put the pre-compaction journal back as if the crash hit before it was emptied
  const b = await openEmbeddedStore(dir, { nodeId: 0, compactAfterBytes: 1 });
  await b.put('counter', 3);
  await b.close();
  writeFileSync(join(metaDir, 'journal'), oldJournal);
  const c = await openEmbeddedStore(dir, { nodeId: 0 });
  t.after(() => c.close());
  assert.equal(c.get('counter'), 3);
});

test('concurrent puts are serialized and all durable', async (t) => {
  const dir = tempDir(t);
  const a = await openEmbeddedStore(dir, { nodeId: 0, compactAfterBytes: 2048 });
  await Promise.all(Array.from({ length: 40 }, (_, i) => a.put(`c/${i}`, i)));
  assert.equal(a.list('c/').length, 40);
  await a.close();
  const b = await openEmbeddedStore(dir, { nodeId: 0 });
  t.after(() => b.close());
  assert.equal(b.list('c/').length, 40);
  assert.equal(b.get('c/39'), 39);
});

test('values read back are frozen copies; unserializable values are rejected', async (t) => {
  const dir = tempDir(t);
  const a = await openEmbeddedStore(dir, { nodeId: 0 });
  t.after(() => a.close());
  const value = { list: [1] };
  await a.put('v', value);
  value.list.push(2); // the caller's object is not the stored one
  const got = a.get<{ list: number[] }>('v')!;
  assert.deepEqual(got, { list: [1] });
  assert.throws(() => got.list.push(3), TypeError);
  await assert.rejects(a.put('u', undefined), /not JSON-serializable/);
  assert.equal(a.get('u'), undefined);
});

test('a second open of the same directory is refused while the first is open', async (t) => {
  const dir = tempDir(t);
  const a = await openEmbeddedStore(dir, { nodeId: 0 });
  await assert.rejects(openEmbeddedStore(dir, { nodeId: 0 }), /already open/);
  await a.close();
  await assert.rejects(a.put('x', 1), /closed/);
});

test('a lock left by a dead process is taken over', async (t) => {
  const dir = tempDir(t);
  const a = await openEmbeddedStore(dir, { nodeId: 0 });
  await a.close();
  // pid 2^22+1 is above Linux's pid_max default, so no live process has it
  writeFileSync(join(dir, METADATA_DIR_NAME, '.lock'), String(4194305));
  const b = await openEmbeddedStore(dir, { nodeId: 0 });
  await b.close();
});

test('metadata without meta.properties is refused rather than given a new identity', async (t) => {
  const dir = tempDir(t);
  const a = await openEmbeddedStore(dir, { nodeId: 0 });
  await a.put('k', 'v');
  await a.close();
  rmSync(join(dir, METADATA_DIR_NAME, 'meta.properties'));
  await assert.rejects(openEmbeddedStore(dir, { nodeId: 0 }), /meta.properties is missing/);
});

test('after a failed fsync the store refuses writes (the on-disk state is unknown)', async (t) => {
  const dir = tempDir(t);
  let fail = false;
  const fsync = (fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
    if (fail) cb(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
    else realFsync(fd, cb);
  };
  const a = await openEmbeddedStore(dir, { nodeId: 0, fsync });
  await a.put('k1', 'v1');
  fail = true;
  await assert.rejects(a.put('k2', 'v2'), /EIO/);
  assert.equal(a.get('k2'), undefined, 'a change that was not made durable is not visible');
  fail = false;
  await assert.rejects(a.put('k3', 'v3'), /unusable after an earlier write failure/);
  await a.close();
  const b = await openEmbeddedStore(dir, { nodeId: 0 });
  t.after(() => b.close());
  assert.equal(b.get('k1'), 'v1');
  assert.equal(b.get('k3'), undefined);
});
