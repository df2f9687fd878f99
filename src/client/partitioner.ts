// Partitioners. Keyed records go where the Java client's default partitioner (and librdkafka's
// "murmur2_random") puts them: toPositive(murmur2(key)) % partitions, so a key lands on the same partition
// whichever of these clients wrote it. Records without a key are spread round-robin.

/** Kafka's murmur2 (Utils.murmur2 in the Java client): seed 0x9747b28c, 32-bit signed result. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  const m = 0x5bd1e995;
  const r = 24;
  let h = 0x9747b28c ^ length;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = data[i4]! | (data[i4 + 1]! << 8) | (data[i4 + 2]! << 16) | (data[i4 + 3]! << 24);
    k = Math.imul(k, m);
    k ^= k >>> r;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  // the tail: Java's switch falls through from 3 to 2 to 1
  const tail = length & ~3;
  const rest = length & 3;
  if (rest >= 3) h ^= data[tail + 2]! << 16;
  if (rest >= 2) h ^= data[tail + 1]! << 8;
  if (rest >= 1) {
    h ^= data[tail]!;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** Java's Utils.toPositive: clears the sign bit (not Math.abs, which differs for negative values). */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}

/** The partition the Java default partitioner picks for a key. */
export function partitionForKey(key: Uint8Array, numPartitions: number): number {
  return toPositive(murmur2(key)) % numPartitions;
}

export type Partitioner = (topic: string, key: Buffer | null, numPartitions: number) => number;

/** murmur2 for keyed records, round-robin per topic for the rest. */
export function defaultPartitioner(): Partitioner {
  const counters = new Map<string, number>();
  return (topic, key, numPartitions) => {
    if (key !== null) return partitionForKey(key, numPartitions);
    const n = counters.get(topic) ?? 0;
    counters.set(topic, (n + 1) & 0x7fffffff);
    return n % numPartitions;
  };
}
