// startRead: the fetch path's read, planned at once and copied out of segment files on the threadpool.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TOPIC_ID, batch, config, open, tempDir, valuesOf } from './helpers.js';

const tp = { topic: 'async', partition: 0 };

describe('startRead', () => {
  it('returns the same batches as read() and never more than it planned', async (t) => {
    // a tiny tail cache so reads go to the segment files
    const storage = await open(t, tempDir(t), { tailCacheBytes: 1 });
    const log = storage.openLog(tp, TOPIC_ID, config({ segmentBytes: 2000 }));
    for (let i = 0; i < 40; i++) log.append(batch([`v${i}-a`, `v${i}-b`]), { leaderEpoch: 0 });
    for (const [offset, maxBytes] of [[0, 1 << 20], [17, 300], [40, 1], [79, 1 << 20]] as const) {
      const opts = { maxBytes, minOneBatch: true, isolation: 'read_uncommitted' as const };
      const sync = log.read(offset, opts);
      const started = log.startRead!(offset, opts);
      const res = await started.result;
      assert.deepEqual(valuesOf(res.batches), valuesOf(sync.batches), `offset ${offset} maxBytes ${maxBytes}`);
      assert.equal(res.bytes, sync.bytes);
      assert.ok(res.bytes <= started.plannedBytes, 'planned bytes bound the result');
      assert.equal(res.highWatermark, 80);
    }
    assert.throws(() => log.startRead!(81, { maxBytes: 100, minOneBatch: true, isolation: 'read_uncommitted' }), /outside/);
  });

  it('keeps a segment readable while its read is in flight, even when retention deletes it', async (t) => {
    const storage = await open(t, tempDir(t), { tailCacheBytes: 1 });
    const log = storage.openLog(tp, TOPIC_ID, config({ segmentBytes: 1000 }));
    for (let i = 0; i < 30; i++) log.append(batch([`value-${i}`]), { leaderEpoch: 0 });
    const started = log.startRead!(0, { maxBytes: 1 << 20, minOneBatch: true, isolation: 'read_uncommitted' });
    // before the threadpool read completes, drop everything below offset 25: the first segments go away
    log.deleteRecordsBefore(25);
    const res = await started.result;
    assert.deepEqual(valuesOf(res.batches)[0], 'value-0', 'the in-flight read still saw its segment');
    assert.equal(log.logStartOffset, 25);
  });

  it('uses the allocator it is given for data read from files', async (t) => {
    const storage = await open(t, tempDir(t), { tailCacheBytes: 1 });
    const log = storage.openLog(tp, TOPIC_ID, config());
    for (let i = 0; i < 10; i++) log.append(batch([`x${i}`]), { leaderEpoch: 0 });
    const given: Buffer[] = [];
    const res = await log.startRead!(0, {
      maxBytes: 1 << 20,
      minOneBatch: true,
      isolation: 'read_uncommitted',
      alloc: (n) => {
        const b = Buffer.alloc(n);
        given.push(b);
        return b;
      },
    }).result;
    assert.equal(given.length, 1);
    assert.equal(res.batches[0]!.buffer, given[0]!.buffer, 'the batches are views of the allocated buffer');
  });
});
