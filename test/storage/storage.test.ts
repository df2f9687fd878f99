import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ErrorCode, KafkaError } from '../../src/protocol/errors.js';
import { defaultStorageFs } from '../../src/storage/index.js';
import type { StorageFs } from '../../src/storage/types.js';
import { batch, config, open, readAll, tempDir, TOPIC_ID, waitFor } from './helpers.js';

const OTHER_TOPIC_ID = '99999999-8888-7777-6666-555555555555';

/** node:fs, counting the synchronous calls that create, sync or write whole files (event-loop file work). */
function countingFs(): { fs: StorageFs; calls: Record<string, number> } {
  const calls: Record<string, number> = { openSync: 0, mkdirSync: 0, fsyncSync: 0, writeFileSync: 0 };
  const fs: StorageFs = {
    ...defaultStorageFs,
    openSync: (path, flags) => (calls.openSync!++, defaultStorageFs.openSync(path, flags)),
    mkdirSync: (path) => (calls.mkdirSync!++, defaultStorageFs.mkdirSync(path)),
    fsyncSync: (fd) => (calls.fsyncSync!++, defaultStorageFs.fsyncSync(fd)),
    writeFileSync: (path, data) => (calls.writeFileSync!++, defaultStorageFs.writeFileSync(path, data)),
  };
  return { fs, calls };
}

describe('storage', () => {
  it('opens each partition once under <dataDir>/logs/<topic>-<partition>', async (t) => {
    const dataDir = tempDir(t);
    const storage = await open(t, dataDir);
    const a = storage.openLog({ topic: 'a', partition: 0 }, TOPIC_ID, config());
    const b = storage.openLog({ topic: 'a', partition: 1 }, TOPIC_ID, config());
    assert.equal(storage.openLog({ topic: 'a', partition: 0 }, TOPIC_ID, config()), a);
    assert.equal(storage.getLog({ topic: 'a', partition: 1 }), b);
    assert.equal(storage.getLog({ topic: 'a', partition: 2 }), undefined);
    assert.deepEqual([...storage.logs()].map((l) => `${l.topic}-${l.partition}`).sort(), ['a-0', 'a-1']);
    assert.deepEqual(readdirSync(join(dataDir, 'logs')).sort(), ['a-0', 'a-1']);
    assert.deepEqual(
      readdirSync(a.dir).sort(),
      // the epoch checkpoint is written by a clean close, the only time it is read after
      ['00000000000000000000.log', 'log-start-offset-checkpoint', 'partition.metadata', 'recovery-point-offset-checkpoint'].sort(),
    );
  });

  it('deletes a topic by renaming its directories and removing them in the background', async (t) => {
    const dataDir = tempDir(t);
    const storage = await open(t, dataDir);
    const doomed = storage.openLog({ topic: 'a', partition: 0 }, TOPIC_ID, config());
    doomed.append(batch(['old']), { leaderEpoch: 0 });
    storage.openLog({ topic: 'a-1', partition: 0 }, TOPIC_ID, config()).append(batch(['other']), { leaderEpoch: 0 });
    mkdirSync(join(dataDir, 'logs', 'a-7')); // on disk but never opened

    storage.deleteTopic('a');
    assert.equal(storage.getLog({ topic: 'a', partition: 0 }), undefined);
    assert.ok(!existsSync(join(dataDir, 'logs', 'a-0')));
    await waitFor('deleted directories to go', () => readdirSync(join(dataDir, 'logs')).every((n) => !n.endsWith('-delete')));
    assert.deepEqual(readdirSync(join(dataDir, 'logs')), ['a-1-0']);

    const recreated = storage.openLog({ topic: 'a', partition: 0 }, '99999999-8888-7777-6666-555555555555', config());
    assert.equal(recreated.logEndOffset, 0);
    assert.equal(readAll(storage.getLog({ topic: 'a-1', partition: 0 })!)[0]!.value?.toString(), 'other');
  });

  it('removes directories of deletions interrupted by a restart', async (t) => {
    const dataDir = tempDir(t);
    mkdirSync(join(dataDir, 'logs', 'gone-0.0123abcd-delete'), { recursive: true });
    await open(t, dataDir);
    // removed in the background, on the threadpool
    await waitFor('the leftover directory to go', () => readdirSync(join(dataDir, 'logs')).length === 0);
    assert.deepEqual(readdirSync(join(dataDir, 'logs')), []);
  });

  it('runs maintenance on a schedule', async (t) => {
    const dataDir = tempDir(t);
    const errors: unknown[] = [];
    const storage = await open(t, dataDir, { maintenanceIntervalMs: 20, onMaintenanceError: (_tp, err) => errors.push(err) });
    const log = storage.openLog({ topic: 'old', partition: 0 }, TOPIC_ID, config({ segmentBytes: 300, retentionMs: 60_000 }));
    for (let i = 0; i < 10; i++) log.append(batch({ values: [`v${i}`.padEnd(60)], timestamp: 1000 }), { leaderEpoch: 0 });
    await waitFor('retention to delete everything', () => log.logStartOffset === 10);
    assert.equal(log.sizeInBytes, 0);
    assert.deepEqual(errors, []);
  });

  it('flushes and closes every log on close', async (t) => {
    const dataDir = tempDir(t);
    const storage = await open(t, dataDir);
    const logs = [0, 1, 2].map((p) => storage.openLog({ topic: 'c', partition: p }, TOPIC_ID, config()));
    for (const log of logs) log.append(batch(['v']), { leaderEpoch: 0 });
    await storage.close();
    for (const log of logs) assert.ok(existsSync(join(log.dir, '.clean-shutdown')));
    assert.deepEqual([...storage.logs()], []);
  });

  it('creates the log of a new partition with its files made off the event loop', async (t) => {
    const dataDir = tempDir(t);
    const { fs, calls } = countingFs();
    const storage = await open(t, dataDir, { fs });
    for (const k of Object.keys(calls)) calls[k] = 0;
    const tp = { topic: 'fresh', partition: 0 };
    const log = await storage.createLog(tp, TOPIC_ID, config());
    assert.equal(storage.getLog(tp), log);
    assert.equal(log.topicId, TOPIC_ID);
    // the first append (a new epoch) writes no checkpoint either
    log.append(batch(['a', 'b']), { leaderEpoch: 3 });
    log.append(batch(['c']), { leaderEpoch: 4 });
    assert.deepEqual(calls, { openSync: 0, mkdirSync: 0, fsyncSync: 0, writeFileSync: 0 });
    assert.deepEqual(readdirSync(log.dir).sort(), ['00000000000000000000.log', 'partition.metadata']);
    assert.deepEqual(readAll(log).map((r) => r.value?.toString()), ['a', 'b', 'c']);
    assert.deepEqual(log.endOffsetForEpoch(3), { leaderEpoch: 3, endOffset: 2 });
    await storage.close();

    // an ordinary log from then on: the next open finds its topic id, records and epochs
    const again = await open(t, dataDir);
    assert.throws(
      () => again.openLog(tp, OTHER_TOPIC_ID, config()),
      (err: unknown) => err instanceof KafkaError && err.code === ErrorCode.INCONSISTENT_TOPIC_ID,
    );
    const reopened = again.openLog(tp, TOPIC_ID, config());
    assert.deepEqual(readAll(reopened).map((r) => r.value?.toString()), ['a', 'b', 'c']);
    assert.deepEqual(reopened.endOffsetForEpoch(3), { leaderEpoch: 3, endOffset: 2 });
    assert.deepEqual(reopened.endOffsetForEpoch(4), { leaderEpoch: 4, endOffset: 3 });
  });

  it('rebuilds the epochs of a log that crashed from its batches (the checkpoint is written only by a clean close)', async (t) => {
    const dataDir = tempDir(t);
    const first = await open(t, dataDir);
    const tp = { topic: 'e', partition: 0 };
    const log = first.openLog(tp, TOPIC_ID, config());
    log.append(batch(['a']), { leaderEpoch: 1 });
    log.append(batch(['b']), { leaderEpoch: 5 });
    assert.ok(!existsSync(join(log.dir, 'leader-epoch-checkpoint')));
    // a second storage over the same directory, the first never closed: what a restart after a crash finds
    const second = await open(t, dataDir);
    const recovered = second.openLog(tp, TOPIC_ID, config());
    assert.deepEqual(recovered.endOffsetForEpoch(1), { leaderEpoch: 1, endOffset: 1 });
    assert.deepEqual(recovered.endOffsetForEpoch(5), { leaderEpoch: 5, endOffset: 2 });
  });

  it('opens an existing directory when asked to create its log', async (t) => {
    const dataDir = tempDir(t);
    const tp = { topic: 'old', partition: 0 };
    const first = await open(t, dataDir);
    first.openLog(tp, TOPIC_ID, config()).append(batch(['kept']), { leaderEpoch: 0 });
    await first.close();
    const second = await open(t, dataDir);
    const log = await second.createLog(tp, TOPIC_ID, config());
    assert.deepEqual(readAll(log).map((r) => r.value?.toString()), ['kept']);
  });

  it('removes what a creation made when its topic is deleted meanwhile, and creates the name anew after', async (t) => {
    const dataDir = tempDir(t);
    let release: () => void = () => undefined;
    const made = new Promise<void>((resolve) => (release = resolve));
    let mkdirs = 0;
    // the directory is made, but its creation is told only once released: deleted in between
    const fs: StorageFs = {
      ...defaultStorageFs,
      mkdir: (path, cb) => defaultStorageFs.mkdir!(path, (err) => (++mkdirs === 1 ? void made.then(() => cb(err)) : cb(err))),
    };
    const storage = await open(t, dataDir, { fs });
    const tp = { topic: 'd', partition: 0 };
    const creating = storage.createLog(tp, TOPIC_ID, config());
    await waitFor('the directory to be made', () => existsSync(join(dataDir, 'logs', 'd-0')));
    storage.deleteTopic('d');
    release();
    await assert.rejects(creating, (err: unknown) => err instanceof KafkaError && err.code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    assert.equal(storage.getLog(tp), undefined);
    await waitFor('the directory to go', () => readdirSync(join(dataDir, 'logs')).length === 0);

    // cancelled before it began: nothing is made at all
    const early = storage.createLog(tp, TOPIC_ID, config());
    storage.deleteTopic('d');
    await assert.rejects(early, (err: unknown) => err instanceof KafkaError && err.code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    assert.deepEqual(readdirSync(join(dataDir, 'logs')), []);

    // a directory there before (a log of the deleted topic never opened here) goes with the cancelled creation
    mkdirSync(join(dataDir, 'logs', 'd-0'));
    writeFileSync(join(dataDir, 'logs', 'd-0', 'partition.metadata'), `version: 0\ntopic_id: ${TOPIC_ID}\n`);
    const stale = storage.createLog(tp, TOPIC_ID, config());
    storage.deleteTopic('d');
    await assert.rejects(stale, (err: unknown) => err instanceof KafkaError && err.code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    await waitFor('the old directory to go', () => readdirSync(join(dataDir, 'logs')).length === 0);

    const recreated = await storage.createLog(tp, OTHER_TOPIC_ID, config());
    assert.equal(recreated.topicId, OTHER_TOPIC_ID);
    recreated.append(batch(['new']), { leaderEpoch: 0 });
    assert.deepEqual(readAll(recreated).map((r) => r.value?.toString()), ['new']);
  });

  it('closes cleanly with its files written on the threadpool, and reopens without rewriting its checkpoints', async (t) => {
    const dataDir = tempDir(t);
    const first = await open(t, dataDir);
    const tp = { topic: 'c', partition: 0 };
    const log = first.openLog(tp, TOPIC_ID, config({ segmentBytes: 300 }));
    for (let i = 0; i < 6; i++) log.append(batch([`v${i}`.padEnd(80)]), { leaderEpoch: i < 3 ? 1 : 2 });
    log.deleteRecordsBefore(2);
    await first.close();
    for (const file of ['.clean-shutdown', '00000000000000000006.snapshot', 'leader-epoch-checkpoint', 'log-start-offset-checkpoint', 'recovery-point-offset-checkpoint']) {
      assert.ok(existsSync(join(log.dir, file)), file);
    }
    assert.deepEqual(readdirSync(log.dir).filter((n) => n.endsWith('.tmp')), []);

    // a clean open trusts all of it, and writes none of the checkpoints again: they say what they would
    const tmpOpens: string[] = [];
    const fs: StorageFs = { ...defaultStorageFs, openSync: (path, flags) => (path.endsWith('.tmp') && tmpOpens.push(path), defaultStorageFs.openSync(path, flags)) };
    const second = await open(t, dataDir, { fs });
    const again = second.openLog(tp, TOPIC_ID, config({ segmentBytes: 300 }));
    assert.deepEqual(tmpOpens, []);
    assert.equal(again.logStartOffset, 2);
    assert.deepEqual(readAll(again).map((r) => r.value?.toString().trim()), ['v2', 'v3', 'v4', 'v5']);
    assert.deepEqual(again.endOffsetForEpoch(1), { leaderEpoch: 1, endOffset: 3 });

    // nothing changed: the next clean close leaves those checkpoints as they are (a rewrite is a new file)
    const checkpoints = ['leader-epoch-checkpoint', 'log-start-offset-checkpoint', 'recovery-point-offset-checkpoint'];
    const inodes = checkpoints.map((f) => statSync(join(log.dir, f)).ino);
    await second.close();
    assert.deepEqual(checkpoints.map((f) => statSync(join(log.dir, f)).ino), inodes);
    assert.ok(existsSync(join(log.dir, '.clean-shutdown')));
    const third = await open(t, dataDir);
    const last = third.openLog(tp, TOPIC_ID, config({ segmentBytes: 300 }));
    assert.equal(last.logStartOffset, 2);
    assert.deepEqual(last.endOffsetForEpoch(2), { leaderEpoch: 2, endOffset: 6 });
    // one that changed is written again
    last.append(batch(['v6']), { leaderEpoch: 3 });
    await third.close();
    assert.notEqual(statSync(join(log.dir, 'leader-epoch-checkpoint')).ino, inodes[0]);
    assert.equal(statSync(join(log.dir, 'log-start-offset-checkpoint')).ino, inodes[1]);
    const fourth = await open(t, dataDir);
    assert.deepEqual(fourth.openLog(tp, TOPIC_ID, config({ segmentBytes: 300 })).endOffsetForEpoch(2), { leaderEpoch: 2, endOffset: 6 });
  });

  it('leaves no clean-shutdown marker when a file of the clean close fails, and recovers the log', async (t) => {
    const dataDir = tempDir(t);
    const fs: StorageFs = {
      ...defaultStorageFs,
      writeFile: (path, data, cb, opts) =>
        path.endsWith('.snapshot.tmp') ? setImmediate(() => cb(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }))) : defaultStorageFs.writeFile!(path, data, cb, opts),
    };
    const first = await open(t, dataDir, { fs });
    const tp = { topic: 'f', partition: 0 };
    const log = first.openLog(tp, TOPIC_ID, config());
    log.append(batch(['a', 'b']), { leaderEpoch: 0 });
    await first.close();
    assert.ok(!existsSync(join(log.dir, '.clean-shutdown')));
    const second = await open(t, dataDir);
    assert.deepEqual(readAll(second.openLog(tp, TOPIC_ID, config())).map((r) => r.value?.toString()), ['a', 'b']);
  });
});
