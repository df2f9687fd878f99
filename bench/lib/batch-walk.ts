// Counting what a fetch returned: steps over the record batches of a `records` blob by their headers only (the
// records inside are never decoded). A trailing partial batch, which brokers may send when maxBytes cuts one, is
// not counted: the next fetch starts at it.

import { Framing, RecordBatch, frameSizeAt } from '../../src/protocol/record-batch.js';

export interface BatchWalk {
  batches: number;
  records: number;
  /** bytes of the complete batches */
  bytes: number;
  /** offset after the last complete batch, or -1 when there was none */
  nextOffset: number;
  /** batches whose CRC did not match (of those checked) */
  crcErrors: number;
  /** set when the blob holds something other than whole v2 batches and a torn tail */
  framingError: string | null;
}

const view = new RecordBatch(Buffer.alloc(0));

/** `verifyCrc`: check the CRC of no batch, the first one, or all of them (costs load generator CPU). */
export function walkBatches(records: Buffer, verifyCrc: 'none' | 'first' | 'all' = 'none'): BatchWalk {
  const out: BatchWalk = { batches: 0, records: 0, bytes: 0, nextOffset: -1, crcErrors: 0, framingError: null };
  for (let pos = 0; pos < records.length; ) {
    const size = frameSizeAt(records, pos);
    if (size === Framing.TRUNCATED) break;
    if (size < 0) {
      out.framingError = `framing error ${size} at byte ${pos}`;
      break;
    }
    view.moveTo(records, pos);
    if ((verifyCrc === 'all' || (verifyCrc === 'first' && out.batches === 0)) && !view.verifyCrc()) out.crcErrors++;
    out.batches++;
    out.records += view.recordCount;
    out.bytes += size;
    out.nextOffset = view.nextOffset;
    pos += size;
  }
  return out;
}
