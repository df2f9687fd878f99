import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { batch, config, open, readAll, tempDir, TOPIC_ID, waitFor } from './helpers.js';

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
      ['00000000000000000000.log', 'leader-epoch-checkpoint', 'log-start-offset-checkpoint', 'partition.metadata', 'recovery-point-offset-checkpoint'].sort(),
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
});
