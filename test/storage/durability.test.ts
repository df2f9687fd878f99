import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ErrorCode, KafkaError } from '../../src/protocol/errors.js';
import { batch, config, FaultyFs, ioError, open, readAll, tempDir, tick, TOPIC_ID } from './helpers.js';

const tp = { topic: 'ledger', partition: 0 };
const isStorageError = (err: unknown) => err instanceof KafkaError && err.code === ErrorCode.KAFKA_STORAGE_ERROR;

function track(p: Promise<void>): { done: boolean; failed: unknown } {
  const state = { done: false, failed: undefined as unknown };
  p.then(
    () => (state.done = true),
    (err) => (state.failed = err),
  );
  return state;
}

describe('durability: group commit and storage failures', () => {
  it('shares one fsync among concurrent flushes and queues later callers for the next one', async (t) => {
    const fs = new FaultyFs();
    const storage = await open(t, tempDir(t), { fs });
    const log = storage.openLog(tp, TOPIC_ID, config());
    await log.flush();
    assert.equal(fs.fsyncCalls, 0, 'nothing written, nothing to sync');

    fs.holdFsync = true;
    log.append(batch(['a']), { leaderEpoch: 0 });
    log.append(batch(['b']), { leaderEpoch: 0 });
    const first = track(log.flush());
    const sameRound = track(log.flush());
    assert.equal(fs.fsyncCalls, 1);

    log.append(batch(['c']), { leaderEpoch: 0 });
    const second = track(log.flush());
    const secondToo = track(log.flush());
    await tick();
    assert.equal(fs.fsyncCalls, 1, 'no second fsync while one runs');
    assert.equal(first.done, false, 'not durable before the fsync returns');

    fs.releaseFsyncs();
    await tick();
    assert.ok(first.done && sameRound.done);
    assert.equal(second.done, false, 'the write made during the first fsync waits for the next');
    assert.equal(fs.fsyncCalls, 2);
    fs.releaseFsyncs();
    await tick();
    assert.ok(second.done && secondToo.done);

    fs.holdFsync = false;
    await log.flush();
    assert.equal(fs.fsyncCalls, 2, 'already durable: no fsync');
  });

  it('turns an fsync failure into KAFKA_STORAGE_ERROR for every waiter and takes the log offline until reopened', async (t) => {
    const fs = new FaultyFs();
    const storage = await open(t, tempDir(t), { fs });
    const log = storage.openLog(tp, TOPIC_ID, config());
    log.append(batch(['durable']), { leaderEpoch: 0 });
    await log.flush();

    fs.holdFsync = true;
    fs.failFsync = ioError('EIO');
    log.append(batch(['maybe-lost']), { leaderEpoch: 0 });
    const running = track(log.flush());
    log.append(batch(['queued']), { leaderEpoch: 0 });
    const queued = track(log.flush());
    fs.releaseFsyncs();
    await tick();
    assert.ok(isStorageError(running.failed), 'the flush in flight rejects');
    assert.ok(isStorageError(queued.failed), 'the queued flush rejects too');
    await assert.rejects(log.flush(), isStorageError);
    assert.throws(() => log.append(batch(['refused']), { leaderEpoch: 0 }), isStorageError);
    assert.throws(() => log.read(0, { maxBytes: 100, minOneBatch: true, isolation: 'read_uncommitted' }), isStorageError);
    assert.equal(fs.fsyncCalls, 2);

    fs.holdFsync = false;
    fs.failFsync = null;
    const reopened = storage.openLog(tp, TOPIC_ID, config());
    assert.notEqual(reopened, log);
    assert.equal(readAll(reopened)[0]!.value?.toString(), 'durable');
    reopened.append(batch(['back']), { leaderEpoch: 0 });
    await reopened.flush();
  });

  it('refuses the append whose write fails and every later one, leaving no partial batch', async (t) => {
    const fs = new FaultyFs();
    const dataDir = tempDir(t);
    const storage = await open(t, dataDir, { fs });
    const log = storage.openLog(tp, TOPIC_ID, config());
    log.append(batch(['one']), { leaderEpoch: 0 });
    const segment = join(log.dir, '00000000000000000000.log');
    const size = statSync(segment).size;

    fs.tornWrite = true; // half the bytes reach the file, then ENOSPC
    assert.throws(() => log.append(batch(['two', 'three']), { leaderEpoch: 0 }), isStorageError);
    assert.equal(statSync(segment).size, size, 'the partial write was cut');
    assert.equal(log.logEndOffset, 1);
    fs.failWrites = null;
    assert.throws(() => log.append(batch(['four']), { leaderEpoch: 0 }), isStorageError, 'offline until reopened');
    await assert.rejects(log.flush(), isStorageError);

    // a failed log closes without the clean-shutdown marker
    log.close();
    assert.ok(!existsSync(join(log.dir, '.clean-shutdown')));
    const again = storage.openLog(tp, TOPIC_ID, config());
    assert.equal(again.logEndOffset, 1);
    assert.equal(again.append(batch(['five']), { leaderEpoch: 0 }).baseOffset, 1);
  });

  it('writes the clean-shutdown marker only after everything is synced', async (t) => {
    const fs = new FaultyFs();
    const dataDir = tempDir(t);
    const storage = await open(t, dataDir, { fs });
    const log = storage.openLog(tp, TOPIC_ID, config());
    log.append(batch(['x']), { leaderEpoch: 0 });
    const dir = log.dir;
    await storage.close();
    assert.ok(existsSync(join(dir, '.clean-shutdown')));
    assert.ok(existsSync(join(dir, '00000000000000000001.snapshot')));
    assert.throws(() => log.append(batch(['late']), { leaderEpoch: 0 }), isStorageError);

    const second = await open(t, dataDir, { fs });
    const reopened = second.openLog(tp, TOPIC_ID, config());
    assert.ok(!existsSync(join(dir, '.clean-shutdown')), 'the marker is consumed on open');
    reopened.append(batch(['y']), { leaderEpoch: 0 });
    fs.failFsync = ioError('EIO');
    await second.close();
    assert.ok(!existsSync(join(dir, '.clean-shutdown')), 'no marker when the final sync failed');
    fs.failFsync = null;
    const third = await open(t, dataDir, { fs });
    assert.deepEqual(readAll(third.openLog(tp, TOPIC_ID, config())).map((r) => r.value?.toString()), ['x', 'y']);
  });
});
