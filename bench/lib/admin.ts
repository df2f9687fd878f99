// Setup requests the benchmark needs before a run: wait for a broker to answer, pick protocol versions, create the
// topics and wait until every partition has a leader. All through Umbra's generated codecs.

import { ApiKey } from '../../src/protocol/generated/api.js';
import * as CreateTopicsRequest from '../../src/protocol/generated/messages/CreateTopicsRequest.js';
import * as CreateTopicsResponse from '../../src/protocol/generated/messages/CreateTopicsResponse.js';
import * as DeleteTopicsRequest from '../../src/protocol/generated/messages/DeleteTopicsRequest.js';
import * as DeleteTopicsResponse from '../../src/protocol/generated/messages/DeleteTopicsResponse.js';
import * as MetadataRequest from '../../src/protocol/generated/messages/MetadataRequest.js';
import * as MetadataResponse from '../../src/protocol/generated/messages/MetadataResponse.js';
import { KafkaConnection, fetchApiVersions, pickVersion, type ApiVersionRanges } from './wire.js';

const TOPIC_ALREADY_EXISTS = 36;
const UNKNOWN_TOPIC_OR_PARTITION = 3;

/** The versions the load generator speaks: topic names (not ids), so Produce ≤ 12 and Fetch ≤ 12. */
export interface WireVersions {
  produce: number;
  fetch: number;
  metadata: number;
}

export function chooseVersions(ranges: ApiVersionRanges): WireVersions {
  return {
    produce: pickVersion(ranges, ApiKey.Produce, 12),
    fetch: pickVersion(ranges, ApiKey.Fetch, 12),
    metadata: pickVersion(ranges, ApiKey.Metadata, 12),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls until the broker answers ApiVersions and lists itself in Metadata. `alive` lets the caller stop early when
 * the broker process has exited.
 */
export async function waitForBroker(host: string, port: number, timeoutMs: number, alive: () => string | null): Promise<ApiVersionRanges> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    const dead = alive();
    if (dead) throw new Error(dead);
    let conn: KafkaConnection | null = null;
    try {
      conn = await KafkaConnection.connect({ host, port, connectTimeoutMs: 2000 });
      const ranges = await fetchApiVersions(conn);
      const v = pickVersion(ranges, ApiKey.Metadata, 12);
      const md = await conn.request(ApiKey.Metadata, v, (w) => MetadataRequest.write(w, v, { topics: [] }), MetadataResponse.read);
      if (md.brokers.length > 0) return ranges;
      last = 'metadata lists no broker yet';
    } catch (err) {
      last = (err as Error).message;
    } finally {
      conn?.close();
    }
    await sleep(250);
  }
  throw new Error(`broker at ${host}:${port} not ready after ${timeoutMs} ms (${last})`);
}

/**
 * Creates `name` with `partitions` partitions (replication factor 1) and waits until all have a leader.
 * Returns the partition count the broker reports. Without CreateTopics the topic is auto-created by Metadata.
 */
export async function createTopic(conn: KafkaConnection, ranges: ApiVersionRanges, name: string, partitions: number, timeoutMs = 30_000): Promise<number> {
  if (ranges.has(ApiKey.CreateTopics)) {
    const v = pickVersion(ranges, ApiKey.CreateTopics, 7);
    const res = await conn.request(
      ApiKey.CreateTopics,
      v,
      (w) => CreateTopicsRequest.write(w, v, { topics: [{ name, numPartitions: partitions, replicationFactor: 1 }], timeoutMs: 30_000 }),
      CreateTopicsResponse.read,
    );
    const t = res.topics.find((x) => x.name === name);
    if (!t) throw new Error(`CreateTopics: no result for ${name}`);
    if (t.errorCode !== 0 && t.errorCode !== TOPIC_ALREADY_EXISTS) {
      throw new Error(`CreateTopics ${name}: error ${t.errorCode}${t.errorMessage ? ` (${t.errorMessage})` : ''}`);
    }
  }
  const v = pickVersion(ranges, ApiKey.Metadata, 12);
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const md = await conn.request(
      ApiKey.Metadata,
      v,
      (w) => MetadataRequest.write(w, v, { topics: [{ name }], allowAutoTopicCreation: true }),
      MetadataResponse.read,
    );
    const t = md.topics.find((x) => x.name === name);
    if (t && t.errorCode === 0 && t.partitions.length > 0 && t.partitions.every((p) => p.errorCode === 0 && p.leaderId >= 0)) {
      return t.partitions.length;
    }
    last = t ? `error ${t.errorCode}, ${t.partitions.length} partitions` : 'not listed';
    await sleep(100);
  }
  throw new Error(`topic ${name} has no leader for every partition after ${timeoutMs} ms (${last})`);
}

/** Deletes topics by name (DeleteTopics ≤ v5: names). Errors per topic are thrown, an unknown topic is not one. */
export async function deleteTopics(conn: KafkaConnection, ranges: ApiVersionRanges, names: string[]): Promise<void> {
  const v = pickVersion(ranges, ApiKey.DeleteTopics, 5);
  const res = await conn.request(
    ApiKey.DeleteTopics,
    v,
    (w) => DeleteTopicsRequest.write(w, v, { topicNames: names, timeoutMs: 30_000 }),
    DeleteTopicsResponse.read,
  );
  for (const r of res.responses) {
    if (r.errorCode !== 0 && r.errorCode !== UNKNOWN_TOPIC_OR_PARTITION) throw new Error(`DeleteTopics ${r.name}: error ${r.errorCode}`);
  }
}
