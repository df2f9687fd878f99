// The start of an empty shadow partition inside a source batch, when the first answers carry no batch.
//
// A source's log start can sit inside a batch (DeleteRecords takes any offset; Apache Kafka and Umbra both keep
// the batch and move only the log start). The replicator starts an empty shadow there and lowers the start to the
// base offset of the batch holding it, which it learns from the first answer with a batch. An answer without one
// (a response filled by other partitions: the source has data past the start, this partition got no room) must
// not settle the start: emptying the shadow at an offset inside a batch left that batch straddling the shadow's
// log end, refused as divergence for ever after (found by `npm run bench:shadow` against Apache Kafka).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildRecordBatch, recordBatches } from '../../src/protocol/record-batch.js';
import { PartitionReplicator, type OffsetSpec, type ReplicationSink, type ReplicationSource, type SourceFetch } from '../../src/shadow/replication/index.js';

/** Ten batches of four records (offsets 0..39), log start 10 (inside the batch 8..11); the first answers are empty. */
class MidBatchSource implements ReplicationSource {
  readonly batches: Buffer[] = [];
  readonly logStartOffset = 10;
  emptyAnswers = 3;

  constructor() {
    for (let b = 0; b < 10; b++) {
      this.batches.push(buildRecordBatch({ baseOffset: b * 4, records: [0, 1, 2, 3].map((i) => ({ value: `r${b * 4 + i}` })) }));
    }
  }

  async fetch(fromOffset: number): Promise<SourceFetch> {
    const meta = { highWatermark: 40, lastStableOffset: 40, logStartOffset: this.logStartOffset };
    if (this.emptyAnswers > 0) {
      this.emptyAnswers--;
      return { records: Buffer.alloc(0), ...meta };
    }
    const from = this.batches.findIndex((_, b) => b * 4 + 4 > fromOffset);
    return { records: from < 0 ? Buffer.alloc(0) : Buffer.concat(this.batches.slice(from)), ...meta };
  }

  async listOffsets(spec: OffsetSpec): Promise<number> {
    return spec === 'earliest' ? this.logStartOffset : 40;
  }
}

class Sink implements ReplicationSink {
  logStartOffset = 0;
  logEndOffset = 0;
  bases: number[] = [];

  get highWatermark(): number {
    return this.logEndOffset;
  }

  async append(buf: Buffer): Promise<void> {
    for (const b of recordBatches(buf)) {
      assert.ok(b.baseOffset >= this.logEndOffset, `batch at ${b.baseOffset} below log end ${this.logEndOffset}`);
      this.bases.push(b.baseOffset);
      this.logEndOffset = b.nextOffset;
    }
  }

  async prefixTruncate(newLogStart: number): Promise<void> {
    this.logStartOffset = newLogStart;
    if (newLogStart > this.logEndOffset) this.logEndOffset = newLogStart;
  }
}

test('an empty answer does not settle a start inside a batch: the shadow starts at the batch holding it', async () => {
  const source = new MidBatchSource();
  const sink = new Sink();
  const r = new PartitionReplicator(source, sink, { backoffBaseMs: 1, backoffMaxMs: 5, idleWaitMs: 1, name: 'mid-batch' });
  r.start();
  try {
    const s = await r.waitFor((x) => x.state === 'FAULTED' || (x.lag === 0 && x.sourceHighWatermark === 40), 5000);
    assert.equal(s.state, 'ACTIVE', s.reason);
    assert.deepEqual(sink.bases, [8, 12, 16, 20, 24, 28, 32, 36], 'the shadow starts with the whole batch holding offset 10');
    assert.equal(sink.logStartOffset, 10, 'and its log start follows the source');
  } finally {
    await r.stop('test over');
  }
});
