// ReadOptions.bypassCache: a read that must see the bytes on disk (`umbra shadow verify`) skips the tail cache. A byte
// flipped in a segment file behind the broker's back is invisible to a normal tail read (served from memory) and
// visible to a bypassing one, synchronous or on the threadpool.
import assert from 'node:assert/strict';
import { openSync, readdirSync, readSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { RecordBatch, computeBatchCrc } from '../../src/protocol/record-batch.js';
import { batch, config, open, tempDir, TOPIC_ID } from './helpers.js';

const uncommitted = { maxBytes: 1 << 20, minOneBatch: true, isolation: 'read_uncommitted' } as const;

/** Flips one byte of the file at `position` (XOR 0xff), as disk corruption would. */
function flipByte(path: string, position: number): void {
  const fd = openSync(path, 'r+');
  try {
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, position);
    b[0] = b[0]! ^ 0xff;
    writeSync(fd, b, 0, 1, position);
  } finally {
    closeSync(fd);
  }
}

function intact(b: Buffer): boolean {
  return computeBatchCrc(b, 0, b.length) === new RecordBatch(b).crc;
}

describe('read with bypassCache', () => {
  it('reads the segment files, not the tail cache', async (t) => {
    const dataDir = tempDir(t);
    const storage = await open(t, dataDir);
    const log = storage.openLog({ topic: 't', partition: 0 }, TOPIC_ID, config());
    for (let i = 0; i < 4; i++) log.append(batch([`value-${i}-${'x'.repeat(40)}`, `second-${i}`]), { leaderEpoch: 0 });
    await log.flush();

    const before = log.read(0, uncommitted);
    assert.equal(before.batches.length, 4);
    assert.ok(before.batches.every(intact));
    // the third batch: flip a byte well inside its records (after the 61-byte header)
    const position = before.batches[0]!.length + before.batches[1]!.length + 70;
    const dir = join(dataDir, 'logs', 't-0');
    const segment = readdirSync(dir).find((n) => n.endsWith('.log'))!;
    flipByte(join(dir, segment), position);

    const cached = log.read(0, uncommitted);
    assert.ok(cached.batches.every(intact), 'the tail cache still serves the clean copy');

    const fromDisk = log.read(0, { ...uncommitted, bypassCache: true });
    assert.deepEqual(fromDisk.batches.map(intact), [true, true, false, true]);
    assert.equal(new RecordBatch(fromDisk.batches[2]!).baseOffset, 4);

    assert.ok(log.startRead, 'the disk log reads on the threadpool');
    const started = log.startRead(2, { ...uncommitted, bypassCache: true });
    const asyncRead = await started.result;
    assert.deepEqual(asyncRead.batches.map(intact), [true, false, true]);
    // a small window still returns whole batches from disk (KIP-74: at least one)
    const one = log.read(4, { maxBytes: 1, minOneBatch: true, isolation: 'read_uncommitted', bypassCache: true });
    assert.equal(one.batches.length, 1);
    assert.ok(!intact(one.batches[0]!));
  });
});
