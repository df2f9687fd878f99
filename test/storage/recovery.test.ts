import assert from 'node:assert/strict';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Compression } from '../../src/protocol/compression.js';
import { defaultStorageFs } from '../../src/storage/fs.js';
import { batch, config, open, readAll, tempDir, tick, TOPIC_ID, waitFor } from './helpers.js';

const tp = { topic: 'events', partition: 1 };
const segName = (base: number, ext = 'log') => `${String(base).padStart(20, '0')}.${ext}`;

function segmentFiles(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.endsWith('.log')).sort();
}

describe('crash recovery', () => {
  it('cuts half a batch written at the end of the segment before a crash', async (t) => {
    const dataDir = tempDir(t);
    const storage = await open(t, dataDir);
    const log = storage.openLog(tp, TOPIC_ID, config());
    for (let i = 0; i < 10; i++) log.append(batch([`v${i}`]), { leaderEpoch: 1 });
    const logFile = join(log.dir, segName(0));
    const goodSize = log.sizeInBytes;
    // the crash: no close, half a batch after the last whole one
    const fd = openSync(logFile, 'r+');
    writeSync(fd, batch(['torn', 'write']).subarray(0, 40), 0, 40, goodSize);
    closeSync(fd);

    const reopened = await open(t, dataDir);
    const again = reopened.openLog(tp, TOPIC_ID, config());
    assert.equal(again.logEndOffset, 10);
    assert.equal(statSync(logFile).size, goodSize);
    assert.deepEqual(readAll(again).map((r) => r.value?.toString()), Array.from({ length: 10 }, (_, i) => `v${i}`));
    assert.equal(again.append(batch(['next']), { leaderEpoch: 1 }).baseOffset, 10);
  });

  it('cuts garbage and a corrupt batch, with everything after it, never serving them', async (t) => {
    const dataDir = tempDir(t);
    const storage = await open(t, dataDir);
    const log = storage.openLog(tp, TOPIC_ID, config());
    const positions: number[] = [];
    for (let i = 0; i < 10; i++) {
      positions.push(log.sizeInBytes);
      log.append(batch({ values: [`v${i}`], compression: i % 2 ? Compression.snappy : Compression.none }), { leaderEpoch: 1 });
    }
    const logFile = join(log.dir, segName(0));
    const bytes = readFileSync(logFile);
    bytes[positions[6]! + 40]! ^= 0x5a; // a bit flip inside batch 6
    writeFileSync(logFile, Buffer.concat([bytes, Buffer.from('garbage garbage garbage garbage garbage garbage garbage garbage')]));

    const reopened = await open(t, dataDir);
    const again = reopened.openLog(tp, TOPIC_ID, config());
    assert.equal(again.logEndOffset, 6);
    assert.equal(statSync(logFile).size, positions[6]);
    assert.deepEqual(readAll(again).map((r) => r.value?.toString()), ['v0', 'v1', 'v2', 'v3', 'v4', 'v5']);
  });

  it('cuts at a batch whose offsets do not follow (baseOffset is outside the CRC)', async (t) => {
    const dataDir = tempDir(t);
    const storage = await open(t, dataDir);
    const log = storage.openLog(tp, TOPIC_ID, config());
    const positions: number[] = [];
    for (let i = 0; i < 5; i++) {
      positions.push(log.sizeInBytes);
      log.append(batch([`v${i}`]), { leaderEpoch: 1 });
    }
    const logFile = join(log.dir, segName(0));
    const bytes = readFileSync(logFile);
    bytes.writeUInt32BE(1, positions[3]! + 4); // batch 3 now claims offset 1
    writeFileSync(logFile, bytes);
    const again = (await open(t, dataDir)).openLog(tp, TOPIC_ID, config());
    assert.equal(again.logEndOffset, 3);
    assert.deepEqual(readAll(again).map((r) => r.offset), [0, 1, 2]);
  });

  it('drops the segments after a corrupt one and keeps epochs and producers consistent', async (t) => {
    const dataDir = tempDir(t);
    const storage = await open(t, dataDir);
    const cfg = config({ segmentBytes: 300 });
    const log = storage.openLog(tp, TOPIC_ID, cfg);
    for (let i = 0; i < 12; i++) {
      log.append(batch({ values: [`value-${i}`.padEnd(60, '.')], producerId: 77, producerEpoch: 0, baseSequence: i }), { leaderEpoch: i < 6 ? 1 : 2 });
    }
    const files = segmentFiles(log.dir);
    assert.ok(files.length >= 4, `rolled into ${files.length} segments`);
    // corrupt the first batch of the second segment
    const second = join(log.dir, files[1]!);
    const secondBase = Number(files[1]!.slice(0, 20));
    const bytes = readFileSync(second);
    bytes[65]! ^= 0xff;
    writeFileSync(second, bytes);

    const reopened = await open(t, dataDir);
    const again = reopened.openLog(tp, TOPIC_ID, cfg);
    assert.equal(again.logEndOffset, secondBase);
    assert.deepEqual(segmentFiles(again.dir), [files[0], files[1]]);
    assert.equal(statSync(second).size, 0);
    assert.deepEqual(readAll(again).map((r) => r.offset), Array.from({ length: secondBase }, (_, i) => i));
    // the epoch history and the producer's sequence follow the truncated log
    assert.equal(again.endOffsetForEpoch(1).endOffset, secondBase);
    assert.equal(again.endOffsetForEpoch(2).leaderEpoch, -1);
    assert.equal(
      again.append(batch({ values: ['again'], producerId: 77, producerEpoch: 0, baseSequence: secondBase }), { leaderEpoch: 3 }).baseOffset,
      secondBase,
    );
  });

  it('rebuilds deleted index files after a clean close', async (t) => {
    const dataDir = tempDir(t);
    const storage = await open(t, dataDir);
    const cfg = config({ segmentBytes: 2000, indexIntervalBytes: 100 });
    const log = storage.openLog(tp, TOPIC_ID, cfg);
    for (let i = 0; i < 60; i++) log.append(batch({ values: [`v${i}`], timestamp: 5000 + i }), { leaderEpoch: 0 });
    const dir = log.dir;
    await storage.close();
    const indexes = readdirSync(dir).filter((n) => n.endsWith('.index') || n.endsWith('.timeindex'));
    assert.ok(indexes.length >= 4);
    for (const name of indexes) rmSync(join(dir, name));

    const reopened = await open(t, dataDir, { tailCacheBytes: 0 });
    const again = reopened.openLog(tp, TOPIC_ID, cfg);
    assert.equal(again.logEndOffset, 60);
    for (const offset of [0, 17, 33, 59]) {
      const res = again.read(offset, { maxBytes: 1, minOneBatch: true, isolation: 'read_uncommitted' });
      assert.equal(res.batches[0]!.readUInt32BE(4), offset);
    }
    assert.equal(again.offsetForTimestamp(5042)?.offset, 42);
    assert.deepEqual(again.offsetOfMaxTimestamp(), { offset: 59, timestamp: 5059, leaderEpoch: 0 });
    // rebuilt indexes of closed segments are written back at once
    for (const name of indexes.filter((n) => !n.startsWith(segmentFiles(dir).at(-1)!.slice(0, 20)))) {
      assert.ok(existsSync(join(dir, name)), `${name} rewritten`);
    }
  });

  it('removes index files whose segment file is gone, and a segment recreated at that base trusts only its own', async (t) => {
    const dataDir = tempDir(t);
    const cfg = config({ segmentBytes: 2000, indexIntervalBytes: 100 });
    // the second writing uses longer records, so its index entries point elsewhere
    const put = (l: ReturnType<Awaited<ReturnType<typeof open>>['openLog']>, from: number, to: number, tag: string) => {
      const width = tag === 'a' ? 40 : 70;
      for (let i = from; i < to; i++) l.append(batch({ values: [`${tag}${i}`.padEnd(width, '.')], timestamp: 5000 + i }), { leaderEpoch: 0 });
    };
    const storage = await open(t, dataDir);
    const log = storage.openLog(tp, TOPIC_ID, cfg);
    put(log, 0, 60, 'a');
    const dir = log.dir;
    await storage.close();
    const bases = segmentFiles(dir).map((n) => Number(n.slice(0, 20)));
    assert.ok(bases.length >= 3);
    // a crash between removing the last closed segment's file and its index files; the log also ends before it
    const orphan = bases.at(-2)!;
    const name = (ext: string) => `${String(orphan).padStart(20, '0')}.${ext}`;
    const orphanIndex = readFileSync(join(dir, name('index')));
    rmSync(join(dir, name('log')));
    rmSync(join(dir, segmentFiles(dir).at(-1)!));
    for (const f of readdirSync(dir).filter((n) => n.endsWith('-offset-checkpoint') || n === '.kafka_cleanshutdown')) rmSync(join(dir, f));

    const reopened = await open(t, dataDir, { tailCacheBytes: 0 });
    const again = reopened.openLog(tp, TOPIC_ID, cfg);
    assert.ok(!readdirSync(dir).includes(name('index')) && !readdirSync(dir).includes(name('timeindex')), 'orphaned index files removed');
    assert.equal(again.logEndOffset, orphan);
    // the log grows past that base again with different batches: a segment at the same base, with its own index
    put(again, orphan, orphan + 40, 'b');
    await again.flush();
    await reopened.close();
    assert.notDeepEqual(readFileSync(join(dir, name('index'))), orphanIndex, 'the new segment wrote its own index');
    const third = await open(t, dataDir, { tailCacheBytes: 0 });
    const last = third.openLog(tp, TOPIC_ID, cfg);
    for (const offset of [orphan, orphan + 13, orphan + 39]) {
      const res = last.read(offset, { maxBytes: 1, minOneBatch: true, isolation: 'read_uncommitted' });
      assert.equal(res.batches[0]!.readUInt32BE(4), offset);
    }
    assert.deepEqual(readAll(last, orphan).map((r) => r.value!.toString().replace(/\.+$/, '')), Array.from({ length: 40 }, (_, i) => `b${orphan + i}`));
  });

  it('keeps the checkpointed recovery point below a segment whose older index files on disk were not yet replaced', async (t) => {
    const dataDir = tempDir(t);
    const cfg = config({ segmentBytes: 2000, indexIntervalBytes: 100 });
    const put = (l: ReturnType<Awaited<ReturnType<typeof open>>['openLog']>, from: number, to: number) => {
      for (let i = from; i < to; i++) l.append(batch({ values: [`v${i}`.padEnd(40, '.')], timestamp: Date.now() + i }), { leaderEpoch: 0 });
    };
    let storage = await open(t, dataDir);
    let log = storage.openLog(tp, TOPIC_ID, cfg);
    put(log, 0, 5); // one segment, still active at the clean close: its index files describe 5 records
    await storage.close();

    // the reopened log grows that segment and rolls it; the new index files of that segment never land
    const fs = {
      ...defaultStorageFs,
      writeFile: (p: string, d: Buffer | string, cb: (err: NodeJS.ErrnoException | null) => void, o?: { sync?: boolean }) => {
        if (/^0{20}\.(time)?index\./.test(p.slice(p.lastIndexOf('/') + 1))) {
          setImmediate(() => cb(Object.assign(new Error('EIO'), { code: 'EIO' })));
          return;
        }
        defaultStorageFs.writeFile!(p, d, cb, o);
      },
    };
    storage = await open(t, dataDir, { fs });
    log = storage.openLog(tp, TOPIC_ID, cfg);
    put(log, 5, 40);
    assert.ok(segmentFiles(log.dir).length >= 2);
    await log.flush();
    await tick();
    log.maintain(Date.now());
    const checkpointed = Number(readFileSync(join(log.dir, 'recovery-point-offset-checkpoint'), 'utf8').split('\n')[1]);
    assert.equal(checkpointed, 0, 'the recovery point stays at the segment whose index files are stale');
    const maxBefore = log.offsetOfMaxTimestamp();
    // crash: no close. Recovery rebuilds that segment's indexes instead of trusting the five-record ones.
    const again = await open(t, dataDir);
    const reopened = again.openLog(tp, TOPIC_ID, cfg);
    assert.deepEqual(reopened.offsetOfMaxTimestamp(), maxBefore);
    const last = readAll(reopened).at(-1)!;
    assert.equal(reopened.offsetForTimestamp(last.timestamp)?.offset, last.offset);
  });

  it('does not raise the recovery point past a truncation made while an fsync was in flight', async (t) => {
    const held: (() => void)[] = [];
    const fs = {
      ...defaultStorageFs,
      fsync: (fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
        held.push(() => defaultStorageFs.fsync(fd, cb));
      },
    };
    const storage = await open(t, tempDir(t), { fs });
    const log = storage.openLog(tp, TOPIC_ID, config({ flushMessages: 3 }));
    log.append(batch(['a', 'b']), { leaderEpoch: 0 });
    const flushed = log.flush(); // its round covers offsets 0-1
    log.truncateTo(0);
    for (const go of held.splice(0)) go();
    await flushed;
    // nothing below offset 0 is left to be durable: the next three records reach flush.messages again
    assert.equal(log.append(batch(['c', 'd']), { leaderEpoch: 0 }).flushDue, false);
    assert.equal(log.append(batch(['e']), { leaderEpoch: 0 }).flushDue, true);
    for (const go of held.splice(0)) go();
    await log.flush().catch(() => undefined);
  });

  it('does not trust an index that points into the middle of batches', async (t) => {
    const dataDir = tempDir(t);
    const storage = await open(t, dataDir);
    const cfg = config({ segmentBytes: 3000, indexIntervalBytes: 100 });
    const log = storage.openLog(tp, TOPIC_ID, cfg);
    for (let i = 0; i < 60; i++) log.append(batch([`v${i}`]), { leaderEpoch: 0 });
    const dir = log.dir;
    await storage.close();
    // plausible-looking entries (increasing, inside the file) at wrong positions
    const bogus = Buffer.alloc(16);
    bogus.writeInt32BE(5, 0);
    bogus.writeInt32BE(37, 4);
    bogus.writeInt32BE(9, 8);
    bogus.writeInt32BE(301, 12);
    writeFileSync(join(dir, segName(0, 'index')), bogus);

    const reopened = await open(t, dataDir, { tailCacheBytes: 0 });
    const again = reopened.openLog(tp, TOPIC_ID, cfg);
    for (const offset of [5, 7, 9, 12]) {
      const res = again.read(offset, { maxBytes: 1, minOneBatch: true, isolation: 'read_uncommitted' });
      assert.equal(res.batches[0]!.readUInt32BE(4), offset);
    }
  });

  it('keeps the log start offset, epochs and end offset across clean and unclean restarts', async (t) => {
    const dataDir = tempDir(t);
    const cfg = config({ segmentBytes: 500 });
    let storage = await open(t, dataDir);
    let log = storage.openLog(tp, TOPIC_ID, cfg);
    for (let i = 0; i < 30; i++) log.append(batch([`record-${i}`]), { leaderEpoch: i < 15 ? 4 : 6 });
    log.deleteRecordsBefore(12);
    await storage.close();

    storage = await open(t, dataDir);
    log = storage.openLog(tp, TOPIC_ID, cfg);
    assert.equal(log.logStartOffset, 12);
    assert.equal(log.logEndOffset, 30);
    assert.deepEqual(log.endOffsetForEpoch(4), { leaderEpoch: 4, endOffset: 15 });
    log.append(batch(['after-restart']), { leaderEpoch: 7 });
    // crash this time
    storage = await open(t, dataDir);
    log = storage.openLog(tp, TOPIC_ID, cfg);
    assert.equal(log.logStartOffset, 12);
    assert.equal(log.logEndOffset, 31);
    assert.deepEqual(log.endOffsetForEpoch(6), { leaderEpoch: 6, endOffset: 30 });
    assert.equal(readAll(log)[0]!.offset, 12);
  });

  it('answers epoch lookups after a crash as before it when the log start moved past whole epochs', async (t) => {
    const dataDir = tempDir(t);
    const cfg = config({ segmentBytes: 500 });
    let storage = await open(t, dataDir);
    let log = storage.openLog(tp, TOPIC_ID, cfg);
    for (let i = 0; i < 30; i++) log.append(batch([`record-${i}`]), { leaderEpoch: i < 10 ? 2 : i < 20 ? 3 : 5 });
    await storage.close(); // the epoch checkpoint on disk holds epochs 2, 3 and 5
    storage = await open(t, dataDir);
    log = storage.openLog(tp, TOPIC_ID, cfg);
    log.deleteRecordsBefore(22); // epochs 2 and 3 lie wholly below the log start now
    await waitFor('the log-start checkpoint', () => readFileSync(join(log.dir, 'log-start-offset-checkpoint'), 'utf8').includes('22'));
    const before = [1, 2, 3, 4, 5, 6].map((e) => log.endOffsetForEpoch(e));
    // crash: no close
    storage = await open(t, dataDir);
    log = storage.openLog(tp, TOPIC_ID, cfg);
    assert.equal(log.logStartOffset, 22);
    assert.deepEqual([1, 2, 3, 4, 5, 6].map((e) => log.endOffsetForEpoch(e)), before);
  });
});
