// Idempotent producer state per producer id: its epoch and the first/last sequence and offsets of its last five
// batches (Kafka's ProducerStateManager). Rebuilt from batch headers when a log is opened after a crash; a snapshot
// written on clean close spares that scan.
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { NO_PRODUCER_EPOCH, NO_SEQUENCE } from '../protocol/record-batch.js';

/** Kafka's ProducerStateEntry.NUM_BATCHES_TO_RETAIN: the producer has at most 5 requests in flight. */
export const NUM_BATCHES_TO_RETAIN = 5;

export interface BatchMetadata {
  firstSeq: number;
  lastSeq: number;
  firstOffset: number;
  lastOffset: number;
}

export interface ProducerStateEntry {
  producerId: number;
  producerEpoch: number;
  /** oldest first, at most NUM_BATCHES_TO_RETAIN */
  batches: BatchMetadata[];
}

export interface ProducerBatch {
  producerId: number;
  producerEpoch: number;
  firstSeq: number;
  lastSeq: number;
  firstOffset: number;
  lastOffset: number;
}

function inSequence(lastSeq: number, nextSeq: number): boolean {
  return nextSeq === lastSeq + 1 || (nextSeq === 0 && lastSeq === 0x7fffffff);
}

export class ProducerStateManager {
  private producers = new Map<number, ProducerStateEntry>();
  /** highest producer id seen; survives retention so the id allocator can stay above it */
  maxProducerId = -1;

  get(producerId: number): ProducerStateEntry | undefined {
    return this.producers.get(producerId);
  }
  /**
   * Checks a client batch (assign mode) against the producer's state, with `pending` holding updates of earlier
   * batches of the same append. Returns the original batch when this one is a duplicate of one of the last five,
   * null when it may be appended; throws INVALID_PRODUCER_EPOCH or OUT_OF_ORDER_SEQUENCE_NUMBER.
   */
  check(b: ProducerBatch, pending: Map<number, ProducerStateEntry> | null): BatchMetadata | null {
    const entry = pending?.get(b.producerId) ?? this.producers.get(b.producerId);
    if (entry === undefined) return null; // unknown producer: any sequence is accepted (Kafka >= 2.5)
    if (b.producerEpoch < entry.producerEpoch) {
      throw new KafkaError(
        ErrorCode.INVALID_PRODUCER_EPOCH,
        `producer ${b.producerId}: epoch ${b.producerEpoch} is older than the current epoch ${entry.producerEpoch}`,
      );
    }
    if (b.producerEpoch === entry.producerEpoch) {
      for (const m of entry.batches) {
        if (m.firstSeq === b.firstSeq && m.lastSeq === b.lastSeq) return m;
      }
    }
    if (b.firstSeq === NO_SEQUENCE) return null;
    if (b.producerEpoch !== entry.producerEpoch) {
      // A bumped epoch restarts sequences at 0, unless there was no epoch to bump.
      if (b.firstSeq !== 0 && entry.producerEpoch !== NO_PRODUCER_EPOCH) {
        throw new KafkaError(
          ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
          `producer ${b.producerId}: new epoch ${b.producerEpoch} must start at sequence 0, got ${b.firstSeq}`,
        );
      }
      return null;
    }
    const last = entry.batches[entry.batches.length - 1];
    // No retained batch (all removed by retention or compaction): accept any sequence, as Kafka does.
    if (last === undefined || inSequence(last.lastSeq, b.firstSeq)) return null;
    throw new KafkaError(
      ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
      `producer ${b.producerId}: expected sequence ${last.lastSeq + 1}, got ${b.firstSeq}`,
    );
  }

  /** Applies a batch to `target` (the state itself, or a pending overlay cloned from it). */
  update(b: ProducerBatch, target: Map<number, ProducerStateEntry> = this.producers): void {
    if (target === this.producers && b.producerId > this.maxProducerId) this.maxProducerId = b.producerId;
    let entry = target.get(b.producerId);
    if (entry === undefined) {
      const current = this.producers.get(b.producerId);
      entry = current
        ? { producerId: current.producerId, producerEpoch: current.producerEpoch, batches: current.batches.slice() }
        : { producerId: b.producerId, producerEpoch: b.producerEpoch, batches: [] };
      target.set(b.producerId, entry);
    }
    if (b.producerEpoch !== entry.producerEpoch) {
      entry.producerEpoch = b.producerEpoch;
      entry.batches = [];
    }
    if (b.firstSeq === NO_SEQUENCE) return;
    entry.batches.push({ firstSeq: b.firstSeq, lastSeq: b.lastSeq, firstOffset: b.firstOffset, lastOffset: b.lastOffset });
    if (entry.batches.length > NUM_BATCHES_TO_RETAIN) entry.batches.shift();
  }

  /** Makes the pending overlay of a successful append the state. */
  commit(pending: Map<number, ProducerStateEntry>): void {
    for (const [id, entry] of pending) {
      this.producers.set(id, entry);
      if (id > this.maxProducerId) this.maxProducerId = id;
    }
  }

  /** Log start moved: producers whose every batch is gone are forgotten (as a rebuild from the log would). */
  removeBefore(logStartOffset: number): void {
    for (const [id, entry] of this.producers) {
      const last = entry.batches[entry.batches.length - 1];
      if (last === undefined || last.lastOffset < logStartOffset) this.producers.delete(id);
    }
  }

  clear(): void {
    this.producers.clear();
  }

  serialize(offset: number): string {
    const producers = [...this.producers.values()].map((e) => [
      e.producerId,
      e.producerEpoch,
      e.batches.map((m) => [m.firstSeq, m.lastSeq, m.firstOffset, m.lastOffset]),
    ]);
    return JSON.stringify({ version: 1, offset, maxProducerId: this.maxProducerId, producers });
  }

  /** Loads a snapshot taken at `offset`; false (state untouched) when it does not parse or is for another offset. */
  load(text: string, offset: number): boolean {
    try {
      const snap = JSON.parse(text) as { version: number; offset: number; maxProducerId: number; producers: unknown[] };
      if (snap.version !== 1 || snap.offset !== offset || !Array.isArray(snap.producers)) return false;
      const producers = new Map<number, ProducerStateEntry>();
      for (const p of snap.producers as [number, number, [number, number, number, number][]][]) {
        const [producerId, producerEpoch, batches] = p;
        if (!Number.isInteger(producerId) || !Number.isInteger(producerEpoch) || !Array.isArray(batches)) return false;
        producers.set(producerId, {
          producerId,
          producerEpoch,
          batches: batches.map(([firstSeq, lastSeq, firstOffset, lastOffset]) => ({ firstSeq, lastSeq, firstOffset, lastOffset })),
        });
      }
      this.producers = producers;
      this.maxProducerId = Number.isInteger(snap.maxProducerId) ? snap.maxProducerId : -1;
      return true;
    } catch {
      return false;
    }
  }
}
