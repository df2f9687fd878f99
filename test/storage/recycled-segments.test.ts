// Segment files reused: a segment that leaves the log under retention or DeleteRecords becomes the file of the
// log's next segment (at once with file.delete.delay.ms 0, else once the delay is over), overwritten in place, so
// its page-cache pages are reused rather than freed and allocated again (LogSegment.recycle). Its older bytes past the new segment's end must never be read or
// recovered as data: an END_MARKER after the last batch at the roll, the file cut to its batches off the event loop,
// index files only after that cut, and a clean close cutting whatever is left.
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { defaultStorageFs } from '../../src/storage/index.js';
import type { PartitionLog, Storage, StorageFs } from '../../src/storage/types.js';
import { batch, config, open, readAll, tempDir, TOPIC_ID, waitFor } from './helpers.js';

const tp = { topic: 'recycled', partition: 0 };
/** five ~230-byte batches fill a segment */
const cfg = config({ segmentBytes: 1200 });

function segmentFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => /^\d{20}\.log$/.test(n))
    .sort();
}

function inode(dir: string, name: string): number {
  return statSync(join(dir, name)).ino;
}

/**
 * Appends `count` records, one batch each, numbered from `from`, padded to `pad` characters: with 1,200-byte
 * segments, four batches of pad 230 fill one, five of pad 160 (so a file first filled with the large ones holds
 * older bytes past the end of a segment of small ones).
 */
function appendValues(log: PartitionLog, from: number, count: number, pad = 160): void {
  for (let i = from; i < from + count; i++) log.append(batch([`v${i}`.padEnd(pad, '.')]), { leaderEpoch: 0 });
}

const SMALL_BATCH = batch(['v12'.padEnd(160, '.')]).length;

function values(log: PartitionLog): string[] {
  return readAll(log).map((r) => r.value!.toString().replace(/\.+$/, ''));
}

function range(from: number, to: number): string[] {
  return Array.from({ length: to - from }, (_, i) => `v${from + i}`);
}

/** Segments [0-3], [4-7], [8-11] of large batches; then DeleteRecords below 4 makes the first one's file the spare. */
function recycledSetup(log: PartitionLog): void {
  appendValues(log, 0, 12, 230);
  assert.deepEqual(segmentFiles(log.dir), ['00000000000000000000.log', '00000000000000000004.log', '00000000000000000008.log']);
  assert.equal(log.deleteRecordsBefore(4), 4);
  assert.ok(!segmentFiles(log.dir).includes('00000000000000000000.log'));
}

const SEG12 = '00000000000000000012.log';

/** A filesystem whose next `hold` asynchronous ftruncates wait (the cut of a rolled recycled segment not landed yet). */
class HeldTruncates {
  hold = 0;
  held: (() => void)[] = [];
  readonly fs: StorageFs = {
    ...defaultStorageFs,
    ftruncate: (fd, len, cb) => {
      if (this.hold > 0) {
        this.hold--;
        this.held.push(() => defaultStorageFs.ftruncate!(fd, len, cb));
      } else defaultStorageFs.ftruncate!(fd, len, cb);
    },
  };

  /** Runs the held ftruncates. */
  release(): void {
    for (const run of this.held.splice(0)) run();
  }
}

/**
 * recycledSetup, then 12-16 in the recycled file, rolled at 17 with its cut held (HeldTruncates), and 17-19 after
 * it, on a storage over `dataDir`.
 */
async function rolledWithCutHeld(t: TestContext, dataDir: string): Promise<{ held: HeldTruncates; first: Storage; log: PartitionLog }> {
  const held = new HeldTruncates();
  const first = await open(t, dataDir, { fs: held.fs });
  const log = first.openLog(tp, TOPIC_ID, cfg);
  recycledSetup(log);
  held.hold = 1;
  appendValues(log, 12, 8);
  assert.equal(held.held.length, 1);
  return { held, first, log };
}

describe('recycled segment files', () => {
  it('writes the next segment into the file of a deleted one, and reads only its own batches', async (t) => {
    const storage = await open(t, tempDir(t));
    const log = storage.openLog(tp, TOPIC_ID, cfg);
    appendValues(log, 0, 12, 230);
    const reused = inode(log.dir, '00000000000000000000.log');
    assert.equal(log.deleteRecordsBefore(4), 4);
    appendValues(log, 12, 1); // rolls at 12
    assert.equal(segmentFiles(log.dir).at(-1), SEG12);
    assert.equal(inode(log.dir, SEG12), reused, "the new segment is the deleted one's file");
    assert.ok(statSync(join(log.dir, SEG12)).size > SMALL_BATCH, 'it still holds the older bytes');
    assert.deepEqual(values(log), range(4, 13));
    // rolled at 17 with the older bytes past its five batches: END_MARKER, then cut on the threadpool
    appendValues(log, 13, 10);
    assert.deepEqual(segmentFiles(log.dir).slice(-2), ['00000000000000000017.log', '00000000000000000022.log']);
    await waitFor('the cut of the rolled recycled segment', () => statSync(join(log.dir, SEG12)).size === 5 * SMALL_BATCH);
    assert.deepEqual(values(log), range(4, 23));
  });

  it('recovers a crash in a recycled active segment: the older bytes past its end are not taken for data', async (t) => {
    const dataDir = tempDir(t);
    const first = await open(t, dataDir);
    const log = first.openLog(tp, TOPIC_ID, cfg);
    recycledSetup(log);
    appendValues(log, 12, 1); // the segment at 12 holds one batch in the first segment's file
    assert.ok(statSync(join(log.dir, SEG12)).size > 1000, 'the file still holds the older segment');
    // a second storage over the same directory, the first never closed: what a restart after a crash finds
    const second = await open(t, dataDir);
    const recovered = second.openLog(tp, TOPIC_ID, cfg);
    assert.equal(recovered.logEndOffset, 13);
    assert.deepEqual(values(recovered), range(4, 13));
    assert.equal(statSync(join(recovered.dir, SEG12)).size, SMALL_BATCH);
    recovered.append(batch(['after']), { leaderEpoch: 0 });
    assert.equal(recovered.logEndOffset, 14);
  });

  it('recovers a rolled recycled segment whose cut had not landed, keeping the segments after it', async (t) => {
    const dataDir = tempDir(t);
    const { held, log } = await rolledWithCutHeld(t, dataDir);
    await log.flush();
    assert.ok(!readdirSync(log.dir).includes('00000000000000000012.index'), 'no index files before the cut');
    const second = await open(t, dataDir);
    const recovered = second.openLog(tp, TOPIC_ID, cfg);
    assert.equal(recovered.logEndOffset, 20);
    assert.deepEqual(values(recovered), range(4, 20));
    assert.equal(statSync(join(recovered.dir, SEG12)).size, 5 * SMALL_BATCH, 'cut at the marker');
    held.release(); // before the first storage closes (t.after)
  });

  it('cuts recycled files to their segments at a clean close, so a clean open trusts their sizes', async (t) => {
    const dataDir = tempDir(t);
    const { held, first } = await rolledWithCutHeld(t, dataDir);
    await first.close();
    assert.equal(statSync(join(dataDir, 'logs', 'recycled-0', SEG12)).size, 5 * SMALL_BATCH);
    const second = await open(t, dataDir);
    const reopened = second.openLog(tp, TOPIC_ID, cfg);
    assert.equal(reopened.logEndOffset, 20);
    assert.deepEqual(values(reopened), range(4, 20));
    appendValues(reopened, 20, 1);
    assert.deepEqual(values(reopened), range(4, 21));
    held.release();
  });

  it('gives up a recycled file holding offsets above where the log starts over', async (t) => {
    const dataDir = tempDir(t);
    const first = await open(t, dataDir);
    const log = first.openLog(tp, TOPIC_ID, cfg);
    recycledSetup(log); // the spare holds offsets 0-3
    log.truncateFullyAndStartAt(3); // a segment at 3 must not sit on a file with offset 3 in it
    assert.deepEqual(segmentFiles(log.dir), ['00000000000000000003.log']);
    assert.equal(statSync(join(log.dir, '00000000000000000003.log')).size, 0, 'a new, empty file');
    appendValues(log, 100, 1);
    const second = await open(t, dataDir);
    const recovered = second.openLog(tp, TOPIC_ID, cfg);
    assert.equal(recovered.logStartOffset, 3);
    assert.equal(recovered.logEndOffset, 4);
    assert.deepEqual(values(recovered), ['v100']);
  });

  it('keeps a deleted segment for file.delete.delay.ms, then reuses its file for the next segment', async (t) => {
    const storage = await open(t, tempDir(t));
    const log = storage.openLog(tp, TOPIC_ID, config({ segmentBytes: 1200, fileDeleteDelayMs: 100 }));
    appendValues(log, 0, 12, 230);
    const reused = inode(log.dir, '00000000000000000000.log');
    log.deleteRecordsBefore(4);
    assert.deepEqual(
      readdirSync(log.dir).filter((n) => n.endsWith('.deleted')),
      ['00000000000000000000.log.deleted'],
    );
    await waitFor('the delay over', () => !readdirSync(log.dir).some((n) => n.endsWith('.deleted')));
    assert.equal(readdirSync(log.dir).filter((n) => n.endsWith('.log.tmp')).length, 1, 'kept as the spare');
    appendValues(log, 12, 8); // rolls at 12 into it, and at 17 (END_MARKER, cut)
    assert.equal(inode(log.dir, SEG12), reused);
    await waitFor('the cut of the rolled recycled segment', () => statSync(join(log.dir, SEG12)).size === 5 * SMALL_BATCH);
    assert.deepEqual(values(log), range(4, 20));
  });

  it('removes a deleted segment after file.delete.delay.ms when the log has a reused file already', async (t) => {
    const storage = await open(t, tempDir(t));
    const log = storage.openLog(tp, TOPIC_ID, config({ segmentBytes: 1200, fileDeleteDelayMs: 50 }));
    appendValues(log, 0, 12, 230);
    log.deleteRecordsBefore(8); // two segments: the first becomes the spare, the second is removed
    await waitFor('the delay over', () => !readdirSync(log.dir).some((n) => n.endsWith('.deleted')));
    assert.equal(readdirSync(log.dir).filter((n) => n.endsWith('.log.tmp')).length, 1);
    assert.deepEqual(segmentFiles(log.dir), ['00000000000000000008.log']);
  });
});
