// LogSink against real partition logs (storage), with the broker's PartitionManager reduced to the three calls the
// sink makes (log lookup, append, wake).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PartitionManager } from '../../src/broker/partitions.js';
import type { ProducerIdManager } from '../../src/broker/producer-ids.js';
import { LogSink } from '../../src/shadow/sink.js';
import type { AppendOptions, PartitionLog } from '../../src/storage/types.js';
import { batch, config, open, tempDir, TOPIC_ID, waitFor } from '../storage/helpers.js';

const TOPIC = 'followed';

function busyFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // a follow that costs what it costs on a loaded machine
  }
}

describe('shadow log sink', () => {
  it('follows the source log start of many partitions over several event-loop turns, not in the one that asked', async (t) => {
    const storage = await open(t, tempDir(t));
    const n = 40;
    const logs = new Map<number, PartitionLog>();
    for (let p = 0; p < n; p++) {
      const log = storage.openLog({ topic: TOPIC, partition: p }, TOPIC_ID, config({ segmentBytes: 300 }));
      for (let i = 0; i < 8; i++) log.append(batch([`record-${i}`.padEnd(80, '.')]), { leaderEpoch: 0 });
      const deleteRecordsBefore = log.deleteRecordsBefore.bind(log);
      log.deleteRecordsBefore = (offset: number) => {
        busyFor(1);
        return deleteRecordsBefore(offset);
      };
      logs.set(p, log);
    }
    let turn = 0;
    let ticking = true;
    const tick = (): void => {
      turn++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    t.after(() => {
      ticking = false;
    });
    const followedIn = new Map<number, number>();
    const partitions = {
      log: (_topic: string, partition: number) => logs.get(partition),
      append: (log: PartitionLog, batches: Buffer, opts: AppendOptions) => log.append(batches, opts),
      wake: (log: PartitionLog) => followedIn.set(log.partition, turn),
    } as unknown as PartitionManager;
    const sinks = [...logs.keys()].map((p) => new LogSink(TOPIC, p, partitions, {} as ProducerIdManager));

    // one fetch response moving every partition's log start: the calls come in one turn
    const asked = turn;
    await Promise.all(sinks.map((s) => s.prefixTruncate(5)));
    assert.equal(followedIn.size, 0, 'nothing followed in the turn that asked');
    await waitFor('every log start moved', () => followedIn.size === n);
    for (const s of sinks) assert.equal(s.logStartOffset, 5);
    const perTurn = new Map<number, number>();
    for (const at of followedIn.values()) perTurn.set(at, (perTurn.get(at) ?? 0) + 1);
    assert.ok(Math.min(...followedIn.values()) >= asked);
    assert.ok(perTurn.size >= n / 3, `spread over ${perTurn.size} turns`);
    assert.ok(Math.max(...perTurn.values()) <= 3, `at most ~2 ms of follows per turn (${[...perTurn.values()]})`);

    // the start emptying the log (past its end) is applied at once: the next append depends on it
    await sinks[0]!.prefixTruncate(100);
    assert.equal(sinks[0]!.logStartOffset, 100);
    assert.equal(sinks[0]!.logEndOffset, 100);
  });
});
