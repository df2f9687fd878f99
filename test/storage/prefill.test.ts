// The active segment's page-cache pages made ahead of the appends (LogSegment.prefill): zeros appended to the file
// past its batches, on the threadpool, through an append-mode fd. They never become data: not beside the appends,
// not after a roll, a clean close, a crash or a truncation.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { CLEAN_SHUTDOWN_FILE } from '../../src/storage/checkpoints.js';
import { defaultStorageFs } from '../../src/storage/fs.js';
import type { PartitionLog, Storage, StorageFs } from '../../src/storage/types.js';
import { batch, config, open, readAll, tempDir, TOPIC_ID, waitFor } from './helpers.js';

const tp = { topic: 'prefill', partition: 0 };
const MiB = 1024 * 1024;
const cfg = config({ segmentBytes: 2 * MiB });
const segName = (base: number) => `${String(base).padStart(20, '0')}.log`;

function appendBig(log: PartitionLog, from: number, count: number): void {
  for (let i = from; i < from + count; i++) {
    log.append(batch({ values: [`${i}:`.padEnd(60_000, 'x')], timestamp: Date.now() }), { leaderEpoch: 0 });
  }
}
function numbers(log: PartitionLog): number[] {
  return readAll(log).map((r) => Number(r.value!.toString().split(':')[0]));
}
function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}
function segments(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith('.log'))
    .sort();
}
const zeroTailOf = (file: string, bytes: number): boolean => statSync(file).size > bytes;

/** Holds the chosen async operations (zero writes, cuts) until released. */
class Held {
  private readonly waiting: (() => void)[] = [];
  holdWrites = false;
  holdCuts = false;
  holdSyncs = false;
  /** zero writes started */
  writes = 0;
  readonly fs: StorageFs = {
    ...defaultStorageFs,
    write: (fd, buf, offset, length, position, cb) => {
      this.writes++;
      this.run(this.holdWrites, () => defaultStorageFs.write!(fd, buf, offset, length, position, cb));
    },
    ftruncate: (fd, len, cb) => this.run(this.holdCuts, () => defaultStorageFs.ftruncate!(fd, len, cb)),
    fsync: (fd, cb) => this.run(this.holdSyncs, () => defaultStorageFs.fsync(fd, cb)),
  };
  get count(): number {
    return this.waiting.length;
  }
  private run(hold: boolean, go: () => void): void {
    if (hold) this.waiting.push(go);
    else go();
  }
  release(): void {
    this.holdWrites = false;
    this.holdCuts = false;
    this.holdSyncs = false;
    for (const go of this.waiting.splice(0)) go();
  }
}

/** A log of three batches in a new data directory, the zero write their first append started held. */
async function threeBatchesWithZerosHeld(t: TestContext): Promise<{ dataDir: string; held: Held; first: Storage; log: PartitionLog }> {
  const dataDir = tempDir(t);
  const held = new Held();
  const first = await open(t, dataDir, { fs: held.fs });
  const log = first.openLog(tp, TOPIC_ID, cfg);
  held.holdWrites = true;
  appendBig(log, 0, 3);
  await waitFor('the held zero write', () => held.count === 1);
  return { dataDir, held, first, log };
}

describe('prefilled segment tails', () => {
  it('writes zeros past the active segment’s batches, within segment.bytes, and reads back only the batches', async (t) => {
    const storage = await open(t, tempDir(t));
    const log = storage.openLog(tp, TOPIC_ID, cfg);
    appendBig(log, 0, 3);
    const file = join(log.dir, segName(0));
    await waitFor('the zero tail', () => zeroTailOf(file, log.sizeInBytes));
    const size = statSync(file).size;
    assert.ok(size <= cfg.segmentBytes, `file ${size} B`);
    assert.ok(
      readFileSync(file)
        .subarray(log.sizeInBytes)
        .every((b) => b === 0),
      'the tail is zeros',
    );
    appendBig(log, 3, 2); // into the zeros
    assert.deepEqual(numbers(log), range(0, 5));
  });

  it('writes nothing past the batches with prefillSegments off', async (t) => {
    const storage = await open(t, tempDir(t), { prefillSegments: false });
    const log = storage.openLog(tp, TOPIC_ID, cfg);
    appendBig(log, 0, 3);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(statSync(join(log.dir, segName(0))).size, log.sizeInBytes);
  });

  it('writes nothing past a shadow’s replicated (preserve) appends', async (t) => {
    const storage = await open(t, tempDir(t));
    const log = storage.openLog(tp, TOPIC_ID, cfg);
    for (let i = 0; i < 3; i++) {
      const b = batch({ values: [`${i}:`.padEnd(60_000, 'x')], timestamp: Date.now() });
      b.writeBigInt64BE(BigInt(i), 0); // the source's offset
      log.append(b, { leaderEpoch: 0, offsets: 'preserve' });
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(log.logEndOffset, 3);
    assert.equal(statSync(join(log.dir, segName(0))).size, log.sizeInBytes);
  });

  it('never puts zeros on batches, whatever lands first', async (t) => {
    const held = new Held();
    const storage = await open(t, tempDir(t), { fs: held.fs });
    const log = storage.openLog(tp, TOPIC_ID, cfg);
    held.holdWrites = true;
    appendBig(log, 0, 1); // starts a prefill, held before its write
    await waitFor('the held zero write', () => held.count === 1);
    appendBig(log, 1, 4); // past where the zeros would have gone when the prefill started
    held.release();
    const file = join(log.dir, segName(0));
    await waitFor('the zero tail', () => zeroTailOf(file, log.sizeInBytes));
    assert.deepEqual(numbers(log), range(0, 5));
  });

  it('a log that is fsynced after its appends (acks=all) is prefilled one append ahead, after the fsync', async (t) => {
    const held = new Held();
    const log = (await open(t, tempDir(t), { fs: held.fs })).openLog(tp, TOPIC_ID, cfg);
    const file = join(log.dir, segName(0));
    await log.flush(); // nothing to sync yet, but the log now counts as fsynced after its appends
    held.holdSyncs = true;
    appendBig(log, 0, 1); // no zeros now: they would go out with the fsync below
    const durable = log.flush();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(held.writes, 0, 'no zero write while the fsync is in flight');
    held.release();
    await durable;
    await waitFor('the zero write after the fsync', () => held.writes > 0);
    await waitFor('the zero tail', () => zeroTailOf(file, log.sizeInBytes));
    assert.ok(statSync(file).size - log.sizeInBytes <= 64 * 1024, 'one append ahead');
    assert.deepEqual(numbers(log), range(0, 1));
  });

  it('cuts the tail at a clean close, so that a clean open trusts the file size', async (t) => {
    const dataDir = tempDir(t);
    const first = await open(t, dataDir);
    const log = first.openLog(tp, TOPIC_ID, cfg);
    appendBig(log, 0, 5);
    const bytes = log.sizeInBytes;
    const dir = log.dir;
    await waitFor('the zero tail', () => zeroTailOf(join(dir, segName(0)), bytes));
    await first.close();
    assert.equal(statSync(join(dir, segName(0))).size, bytes);
    assert.ok(existsSync(join(dir, CLEAN_SHUTDOWN_FILE)));
    const reopened = (await open(t, dataDir)).openLog(tp, TOPIC_ID, cfg);
    appendBig(reopened, 5, 1);
    assert.deepEqual(numbers(reopened), range(0, 6));
  });

  it('a clean close waits for zeros in flight before it cuts', async (t) => {
    const { dataDir, held, first, log } = await threeBatchesWithZerosHeld(t);
    const bytes = log.sizeInBytes;
    const dir = log.dir;
    const closing = first.close();
    setTimeout(() => held.release(), 50);
    await closing;
    assert.equal(statSync(join(dir, segName(0))).size, bytes);
    const reopened = (await open(t, dataDir)).openLog(tp, TOPIC_ID, cfg);
    assert.deepEqual(numbers(reopened), range(0, 3));
  });

  it('a synchronous close with zeros in flight leaves no clean-shutdown marker, and the next open recovers', async (t) => {
    const { dataDir, held, log } = await threeBatchesWithZerosHeld(t);
    const dir = log.dir;
    const bytes = log.sizeInBytes;
    log.close();
    held.release(); // the zeros land after the close's cut
    await waitFor('the late zeros', () => zeroTailOf(join(dir, segName(0)), bytes));
    assert.equal(existsSync(join(dir, CLEAN_SHUTDOWN_FILE)), false);
    const reopened = (await open(t, dataDir)).openLog(tp, TOPIC_ID, cfg);
    assert.equal(reopened.logEndOffset, 3);
    appendBig(reopened, 3, 1);
    assert.deepEqual(numbers(reopened), range(0, 4));
  });

  it('after a crash, recovery ends the log where the batches end, not at the zeros', async (t) => {
    const dataDir = tempDir(t);
    const log = (await open(t, dataDir)).openLog(tp, TOPIC_ID, cfg);
    appendBig(log, 0, 7);
    const bytes = log.sizeInBytes;
    const file = join(log.dir, segName(0));
    await waitFor('the zero tail', () => zeroTailOf(file, bytes));
    const recovered = (await open(t, dataDir)).openLog(tp, TOPIC_ID, cfg);
    assert.equal(recovered.logEndOffset, 7);
    assert.equal(statSync(file).size, bytes);
    assert.deepEqual(numbers(recovered), range(0, 7));
  });

  it('marks the end of a rolled segment, so a crash before its tail is cut keeps the segments after it', async (t) => {
    const dataDir = tempDir(t);
    const held = new Held();
    held.holdCuts = true;
    const log = (await open(t, dataDir, { fs: held.fs })).openLog(tp, TOPIC_ID, cfg);
    for (let i = 0; i < 40; i++) {
      appendBig(log, i, 1);
      await new Promise((resolve) => setTimeout(resolve, 2)); // lets the zero writes land between appends
    }
    const dir = log.dir;
    assert.deepEqual(segments(dir), [segName(0), segName(34)]);
    assert.ok(statSync(join(dir, segName(0))).size > 34 * 60_000, 'the rolled segment kept its zeros (cut held)');
    await log.flush();
    const recovered = (await open(t, dataDir)).openLog(tp, TOPIC_ID, cfg);
    assert.equal(recovered.logEndOffset, 40);
    assert.deepEqual(numbers(recovered), range(0, 40));
    held.release();
  });

  it('cuts a rolled segment to its batches off the event loop, after zeros still in flight at the roll', async (t) => {
    const held = new Held();
    held.holdWrites = true;
    const log = (await open(t, tempDir(t), { fs: held.fs })).openLog(tp, TOPIC_ID, cfg);
    appendBig(log, 0, 34); // the first append starts a prefill, held: no other starts while it is in flight
    await waitFor('the held zero write', () => held.count === 1);
    const rolledBytes = log.sizeInBytes;
    appendBig(log, 34, 2); // the segment rolls with the zeros still in flight
    assert.deepEqual(segments(log.dir), [segName(0), segName(34)]);
    held.release();
    const file = join(log.dir, segName(0));
    await waitFor('the cut of the rolled segment', () => statSync(file).size === rolledBytes);
    assert.deepEqual(numbers(log), range(0, 36));
  });
});
