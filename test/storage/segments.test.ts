import assert from 'node:assert/strict';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ErrorCode, KafkaError } from '../../src/protocol/errors.js';
import { defaultStorageFs } from '../../src/storage/fs.js';
import { batch, config, open, readAll, tempDir, tick, TOPIC_ID, waitFor } from './helpers.js';

const tp = { topic: 'clicks', partition: 0 };

function logFiles(dir: string): number[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith('.log'))
    .map((n) => Number(n.slice(0, 20)))
    .sort((a, b) => a - b);
}

function rejects(fn: () => unknown, code: number) {
  assert.throws(fn, (err: unknown) => err instanceof KafkaError && err.code === code);
}

describe('segments, retention, DeleteRecords, truncation', () => {
  it('rolls by segment.bytes into files named by base offset and reads across them', async (t) => {
    const storage = await open(t, tempDir(t));
    const log = storage.openLog(tp, TOPIC_ID, config({ segmentBytes: 400 }));
    for (let i = 0; i < 20; i++) log.append(batch([`payload-${i}`.padEnd(80, '-')]), { leaderEpoch: 0 });
    const bases = logFiles(log.dir);
    assert.ok(bases.length >= 5);
    assert.equal(bases[0], 0);
    for (let i = 1; i < bases.length; i++) assert.ok(bases[i]! > bases[i - 1]!);
    assert.deepEqual(readAll(log).map((r) => r.offset), Array.from({ length: 20 }, (_, i) => i));
    // written in the background once an fsync covers the rolled segments, not at the roll itself
    await tick();
    assert.ok(!readdirSync(log.dir).some((n) => n.endsWith('index')), 'no index files before an fsync covers a segment');
    await log.flush();
    await waitFor('closed segments to have index files', () => readdirSync(log.dir).includes('00000000000000000000.timeindex'));
    assert.ok(readdirSync(log.dir).includes('00000000000000000000.index'), 'closed segments have index files');
    assert.ok(!readdirSync(log.dir).includes(`${String(bases.at(-1)).padStart(20, '0')}.index`), 'the active segment has none');
  });

  it('never writes index files for a segment removed before an fsync covered it; close writes those still waiting', async (t) => {
    const dir = tempDir(t);
    const storage = await open(t, dir);
    const log = storage.openLog(tp, TOPIC_ID, config({ segmentBytes: 400 }));
    for (let i = 0; i < 20; i++) log.append(batch([`payload-${i}`.padEnd(80, '-')]), { leaderEpoch: 0 });
    const bases = logFiles(log.dir);
    log.deleteRecordsBefore(bases[2]!);
    await log.flush();
    await waitFor('the later segments\' index files', () => readdirSync(log.dir).filter((n) => n.endsWith('.timeindex')).length === bases.length - 3);
    const indexed = readdirSync(log.dir).filter((n) => n.endsWith('.index')).map((n) => Number(n.slice(0, 20)));
    assert.deepEqual(indexed.sort((a, b) => a - b), bases.slice(2, -1));

    for (let i = 20; i < 30; i++) log.append(batch([`payload-${i}`.padEnd(80, '-')]), { leaderEpoch: 0 });
    const rolledSince = logFiles(log.dir).filter((b) => b > bases.at(-1)! - 1).slice(0, -1);
    assert.ok(rolledSince.length >= 1);
    await storage.close();
    const after = readdirSync(log.dir);
    for (const b of rolledSince) assert.ok(after.includes(`${String(b).padStart(20, '0')}.index`), `close wrote the indexes of ${b}`);
  });

  it('creates the next segment file on the threadpool once the active one is half full; the roll only renames it', async (t) => {
    const dir = tempDir(t);
    const created: string[] = [];
    const spares: string[] = [];
    let failOpens = false;
    let handedOver = 0;
    const fs = {
      ...defaultStorageFs,
      openSync: (path: string, flags: string) => {
        if (flags === 'w+') created.push(path);
        return defaultStorageFs.openSync(path, flags);
      },
      open: (path: string, flags: string, cb: (err: NodeJS.ErrnoException | null, fd: number) => void) => {
        spares.push(path);
        if (failOpens) setImmediate(() => cb(Object.assign(new Error('EMFILE'), { code: 'EMFILE' }), -1));
        else {
          defaultStorageFs.open!(path, flags, (err, fd) => {
            cb(err, fd);
            handedOver++;
          });
        }
      },
    };
    const storage = await open(t, dir, { fs });
    const log = storage.openLog(tp, TOPIC_ID, config({ segmentBytes: 1000 }));
    const put = (i: number) => log.append(batch([`payload-${i}`.padEnd(80, '-')]), { leaderEpoch: 0 });
    put(0);
    assert.deepEqual(spares, [], 'no spare while the segment is less than half full');
    for (let i = 1; i < 5; i++) put(i);
    assert.equal(spares.length, 1, 'one spare once half full');
    await waitFor('the spare', () => handedOver === 1);
    assert.ok(readdirSync(log.dir).some((n) => n.endsWith('.log.tmp')));
    created.length = 0;
    for (let i = 5; logFiles(log.dir).length === 1; i++) put(i);
    assert.deepEqual(created, [], 'the roll created no file on the event loop');
    assert.ok(!readdirSync(log.dir).some((n) => n.endsWith('.log.tmp')), 'the spare became the new segment');

    // a spare that cannot be created: the roll creates its file itself
    failOpens = true;
    const before = logFiles(log.dir).length;
    for (let i = 100; logFiles(log.dir).length === before; i++) {
      put(i);
      await tick();
    }
    assert.equal(created.length, 1);
    assert.match(String(created[0]), /\.log$/);
    assert.equal(spares.length, 2, 'a failed spare is not tried again before the next segment');
    failOpens = false;

    // a spare left behind (a crash) is removed at the next open, and close removes one in place
    for (let i = 200; handedOver === 1; i++) {
      put(i);
      await tick();
    }
    const records = readAll(log).length;
    await storage.close();
    assert.ok(!readdirSync(log.dir).some((n) => n.endsWith('.tmp')), 'close removed the spare');
    writeFileSync(join(log.dir, 'next-1.log.tmp'), '');
    const again = await open(t, dir);
    const reopened = again.openLog(tp, TOPIC_ID, config({ segmentBytes: 1000 }));
    assert.ok(!readdirSync(reopened.dir).some((n) => n.endsWith('.tmp')));
    assert.equal(readAll(reopened).length, records);
  });

  it('rolls by segment.ms, on append and on maintain', async (t) => {
    const storage = await open(t, tempDir(t));
    const log = storage.openLog(tp, TOPIC_ID, config({ segmentMs: 1000 }));
    log.append(batch(['a']), { leaderEpoch: 0, nowMs: 10_000 });
    log.append(batch(['b']), { leaderEpoch: 0, nowMs: 10_900 });
    assert.deepEqual(logFiles(log.dir), [0]);
    log.append(batch(['c']), { leaderEpoch: 0, nowMs: 11_001 });
    assert.deepEqual(logFiles(log.dir), [0, 2]);
    log.maintain(12_500);
    assert.deepEqual(logFiles(log.dir), [0, 2, 3]);
    log.maintain(20_000); // the new active segment is empty: nothing to roll
    assert.deepEqual(logFiles(log.dir), [0, 2, 3]);
  });

  it('deletes whole segments older than retention.ms, the active one included once expired', async (t) => {
    const storage = await open(t, tempDir(t));
    const log = storage.openLog(tp, TOPIC_ID, config({ segmentBytes: 300, retentionMs: 10_000 }));
    for (let i = 0; i < 12; i++) {
      log.append(batch({ values: [`v${i}`.padEnd(60, '.')], timestamp: i < 6 ? 1_000 : 50_000 }), { leaderEpoch: 0, nowMs: 60_000 });
    }
    const before = logFiles(log.dir);
    log.maintain(55_000);
    await tick();
    const after = logFiles(log.dir);
    assert.ok(after.length < before.length);
    assert.equal(log.logStartOffset, after[0]);
    assert.ok(log.logStartOffset <= 6 && log.logStartOffset > 0, `log start ${log.logStartOffset}`);
    rejects(() => log.read(0, { maxBytes: 100, minOneBatch: true, isolation: 'read_uncommitted' }), ErrorCode.OFFSET_OUT_OF_RANGE);
    assert.equal(readAll(log).at(-1)!.offset, 11);

    log.maintain(100_000); // everything expired: the active segment is rolled and deleted too
    await tick();
    assert.equal(log.logStartOffset, 12);
    assert.equal(log.logEndOffset, 12);
    assert.deepEqual(logFiles(log.dir), [12]);
    assert.equal(log.append(batch(['fresh']), { leaderEpoch: 0 }).baseOffset, 12);
  });

  it('deletes the oldest segments beyond retention.bytes', async (t) => {
    const storage = await open(t, tempDir(t));
    const log = storage.openLog(tp, TOPIC_ID, config({ segmentBytes: 300, retentionBytes: 700 }));
    for (let i = 0; i < 30; i++) log.append(batch([`v${i}`.padEnd(60, '.')]), { leaderEpoch: 0 });
    assert.ok(log.sizeInBytes > 1500);
    log.maintain(Date.now());
    await tick();
    assert.ok(log.sizeInBytes <= 700 + 300, `size ${log.sizeInBytes}`);
    assert.ok(log.sizeInBytes > 700 - 300);
    assert.equal(log.logStartOffset, logFiles(log.dir)[0]);
    assert.equal(log.logEndOffset, 30);
  });

  it('moves the log start with DeleteRecords and deletes the segments below it', async (t) => {
    const dataDir = tempDir(t);
    const storage = await open(t, dataDir);
    const cfg = config({ segmentBytes: 300 });
    const log = storage.openLog(tp, TOPIC_ID, cfg);
    for (let i = 0; i < 20; i++) log.append(batch([`v${i}`.padEnd(60, '.')]), { leaderEpoch: 0 });
    const bases = logFiles(log.dir);
    const target = bases[2]! + 1;
    assert.equal(log.deleteRecordsBefore(target), target);
    assert.equal(log.deleteRecordsBefore(3), target, 'never backwards');
    await tick();
    assert.deepEqual(logFiles(log.dir), bases.slice(2));
    assert.equal(readAll(log)[0]!.offset, target);
    rejects(() => log.read(target - 1, { maxBytes: 100, minOneBatch: true, isolation: 'read_uncommitted' }), ErrorCode.OFFSET_OUT_OF_RANGE);
    rejects(() => log.deleteRecordsBefore(21), ErrorCode.OFFSET_OUT_OF_RANGE);

    assert.equal(log.deleteRecordsBefore(20), 20);
    await tick();
    assert.deepEqual(logFiles(log.dir), [20]);
    assert.equal(log.sizeInBytes, 0);
    assert.equal(log.append(batch(['next']), { leaderEpoch: 0 }).baseOffset, 20);
  });

  it('hands a deleted segment to the remover with the sizes of its files, so removal needs no lstat', async (t) => {
    const removals: { path: string; fileBytes: number | undefined }[] = [];
    const fs = {
      ...defaultStorageFs,
      removeGradually: (path: string, cb: (err: NodeJS.ErrnoException | null) => void, fileBytes?: number) => {
        removals.push({ path, fileBytes });
        defaultStorageFs.removeGradually!(path, cb, fileBytes);
      },
    };
    const storage = await open(t, tempDir(t), { fs });
    const log = storage.openLog(tp, TOPIC_ID, config({ segmentBytes: 300 }));
    for (let i = 0; i < 10; i++) log.append(batch([`v${i}`.padEnd(60, '.')]), { leaderEpoch: 0 });
    // the first of two deleted segments becomes the next segment's file (recycled), the second is removed
    const first = log.dir + '/' + readdirSync(log.dir).filter((n) => n.endsWith('.log')).sort()[1]!;
    const firstBytes = statSync(first).size;
    await log.flush();
    await waitFor('the rolled segments\' index files', () => readdirSync(log.dir).some((n) => n.endsWith('.timeindex')));
    log.deleteRecordsBefore(logFiles(log.dir)[2]!);
    await waitFor('the deleted segment removed', () => !readdirSync(log.dir).some((n) => n.endsWith('.deleted')));
    const segmentRemovals = removals.filter((r) => r.path.endsWith('.deleted'));
    assert.deepEqual(
      segmentRemovals.filter((r) => r.path.startsWith(first)).map((r) => [r.path.slice(first.length - 4), r.fileBytes]),
      [['.log.deleted', firstBytes]],
    );
    // its index files, when they were written, go as small files
    for (const r of segmentRemovals.filter((r) => !r.path.startsWith(first))) assert.equal(r.fileBytes, 0, r.path);
    assert.ok(removals.every((r) => r.fileBytes !== undefined), 'every retired file came with its size');
  });

  it('keeps deleted segment files for file.delete.delay.ms', async (t) => {
    const storage = await open(t, tempDir(t));
    const log = storage.openLog(tp, TOPIC_ID, config({ segmentBytes: 300, fileDeleteDelayMs: 60 }));
    for (let i = 0; i < 10; i++) log.append(batch([`v${i}`.padEnd(60, '.')]), { leaderEpoch: 0 });
    const deletedAt = Date.now();
    log.deleteRecordsBefore(6);
    await tick();
    assert.ok(readdirSync(log.dir).some((n) => n.endsWith('.log.deleted')));
    await waitFor('the deleted segment files removed once the delay is over', () => !readdirSync(log.dir).some((n) => n.endsWith('.deleted')));
    assert.ok(Date.now() - deletedAt >= 50, 'removed before file.delete.delay.ms (60 ms) was over');
  });

  it('truncates to an offset, dropping whole batches and later segments', async (t) => {
    const storage = await open(t, tempDir(t));
    const log = storage.openLog(tp, TOPIC_ID, config({ segmentBytes: 300 }));
    for (let i = 0; i < 20; i++) {
      log.append(batch({ values: [`a${i}`, `b${i}`], producerId: 5, producerEpoch: 0, baseSequence: i * 2 }), { leaderEpoch: i < 10 ? 1 : 2 });
    }
    assert.ok(logFiles(log.dir).length > 3);
    log.truncateTo(14);
    await tick();
    assert.equal(log.logEndOffset, 14);
    assert.deepEqual(readAll(log).map((r) => r.offset), Array.from({ length: 14 }, (_, i) => i));
    assert.ok(logFiles(log.dir).every((b) => b < 14));
    assert.deepEqual(log.endOffsetForEpoch(1), { leaderEpoch: 1, endOffset: 14 });
    // producer state follows the truncated log: sequence 14 is next again
    assert.equal(log.append(batch({ values: ['x'], producerId: 5, producerEpoch: 0, baseSequence: 14 }), { leaderEpoch: 3 }).baseOffset, 14);

    log.truncateTo(0);
    assert.equal(log.logEndOffset, 0);
    assert.equal(log.sizeInBytes, 0);
    assert.equal(log.append(batch(['again']), { leaderEpoch: 4 }).baseOffset, 0);
  });

  it('truncating inside a batch drops that batch and keeps the log end at the target, across restarts', async (t) => {
    const dataDir = tempDir(t);
    const storage = await open(t, dataDir);
    const log = storage.openLog(tp, TOPIC_ID, config());
    log.append(batch(['a', 'b', 'c']), { leaderEpoch: 0 });
    log.append(batch(['d', 'e', 'f']), { leaderEpoch: 0 });
    log.truncateTo(4);
    assert.equal(log.logEndOffset, 4);
    assert.deepEqual(readAll(log).map((r) => r.offset), [0, 1, 2]);
    const reopened = await open(t, dataDir);
    assert.equal(reopened.openLog(tp, TOPIC_ID, config()).logEndOffset, 4);
  });
});
