// Decodes frames captured from real clients talking to a real Apache Kafka 4.1 broker (test/protocol/captures/,
// recorded by capture-clients.ts through capture-proxy.ts; see captures/README.md). For each request frame: the
// header and body decode with the generated readers, the body is consumed exactly, re-encoding gives the same
// bytes, and a few fields carry what the client was told to send (client id, topic, group, acks, compression).
// Kafka's responses to them are decoded the same way (response header v0 for ApiVersions, KIP-511).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32c } from '@node-rs/crc32';
import { API_CODECS, type ApiCodec } from '../../src/protocol/generated/api.js';
import { Reader, Writer, ZERO_UUID } from '../../src/protocol/primitives.js';
import { readRequestHeader, writeRequestHeader } from '../../src/protocol/generated/messages/RequestHeader.js';
import { readResponseHeader, writeResponseHeader } from '../../src/protocol/generated/messages/ResponseHeader.js';
import type { ApiVersionsRequest } from '../../src/protocol/generated/messages/ApiVersionsRequest.js';
import type { ApiVersionsResponse } from '../../src/protocol/generated/messages/ApiVersionsResponse.js';
import type { MetadataRequest } from '../../src/protocol/generated/messages/MetadataRequest.js';
import type { MetadataResponse } from '../../src/protocol/generated/messages/MetadataResponse.js';
import type { ProduceRequest } from '../../src/protocol/generated/messages/ProduceRequest.js';
import type { ProduceResponse } from '../../src/protocol/generated/messages/ProduceResponse.js';
import type { FetchRequest } from '../../src/protocol/generated/messages/FetchRequest.js';
import type { FetchResponse } from '../../src/protocol/generated/messages/FetchResponse.js';
import type { ListOffsetsRequest } from '../../src/protocol/generated/messages/ListOffsetsRequest.js';
import type { FindCoordinatorRequest } from '../../src/protocol/generated/messages/FindCoordinatorRequest.js';
import type { JoinGroupRequest } from '../../src/protocol/generated/messages/JoinGroupRequest.js';
import type { JoinGroupResponse } from '../../src/protocol/generated/messages/JoinGroupResponse.js';
import type { SyncGroupRequest } from '../../src/protocol/generated/messages/SyncGroupRequest.js';
import type { HeartbeatRequest } from '../../src/protocol/generated/messages/HeartbeatRequest.js';
import type { LeaveGroupRequest } from '../../src/protocol/generated/messages/LeaveGroupRequest.js';
import type { OffsetCommitRequest } from '../../src/protocol/generated/messages/OffsetCommitRequest.js';
import type { OffsetFetchRequest } from '../../src/protocol/generated/messages/OffsetFetchRequest.js';
import type { InitProducerIdRequest } from '../../src/protocol/generated/messages/InitProducerIdRequest.js';
import { readConsumerProtocolSubscription } from '../../src/protocol/generated/messages/ConsumerProtocolSubscription.js';
import { readConsumerProtocolAssignment } from '../../src/protocol/generated/messages/ConsumerProtocolAssignment.js';

function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || dir.endsWith('/dist')) {
    const up = dirname(dir);
    if (up === dir) throw new Error('no package.json above the test file');
    dir = up;
  }
  return dir;
}

const capturesDir = join(projectRoot(), 'test', 'protocol', 'captures');

interface Manifest {
  broker: string;
  clients: Record<string, { software: string; clientId: string; topic: string; group: string }>;
  files: { file: string; client: string; direction: 'request' | 'response'; apiKey: number; api: string; version: number }[];
}

const manifest: Manifest | undefined = existsSync(join(capturesDir, 'manifest.json'))
  ? (JSON.parse(readFileSync(join(capturesDir, 'manifest.json'), 'utf8')) as Manifest)
  : undefined;

const CODEC_BY_NAME = new Map([...API_CODECS.values()].map((c) => [c.name, c]));
const COMPRESSION = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

interface Capture {
  client: string;
  file: string;
  codec: ApiCodec;
  version: number;
  direction: 'request' | 'response';
  /** Produce requests: the codec named in the file */
  suffix: string | undefined;
  payload: Buffer;
}

function loadCaptures(): Capture[] {
  const out: Capture[] = [];
  const clients = readdirSync(capturesDir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  for (const client of clients.sort()) {
    const dir = join(capturesDir, client);
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.bin')).sort()) {
      const m = /^([A-Za-z]+)-v(\d+)(?:-([a-z0-9+]+))?(\.response)?\.bin$/.exec(file);
      assert.ok(m, `unexpected capture file name ${client}/${file}`);
      const codec = CODEC_BY_NAME.get(m[1]!);
      assert.ok(codec, `no API named ${m[1]} (${client}/${file})`);
      out.push({
        client,
        file,
        codec,
        version: Number(m[2]),
        direction: m[4] ? 'response' : 'request',
        suffix: m[3],
        payload: readFileSync(join(dir, file)),
      });
    }
  }
  return out;
}

const isFlexible = (codec: ApiCodec, v: number): boolean => codec.firstFlexibleVersion >= 0 && v >= codec.firstFlexibleVersion;

/** decodes header + body, asserts the body was consumed exactly and that re-encoding gives the captured bytes */
function decodeCapture(c: Capture): { header: Record<string, unknown>; body: unknown } {
  const r = new Reader(c.payload);
  const w = new Writer(c.payload.length);
  let header: Record<string, unknown>;
  let body: unknown;
  if (c.direction === 'request') {
    const hv = isFlexible(c.codec, c.version) ? 2 : 1;
    const h = readRequestHeader(r, hv);
    header = h as unknown as Record<string, unknown>;
    assert.equal(h.requestApiKey, c.codec.apiKey, 'api key in the header');
    assert.equal(h.requestApiVersion, c.version, 'api version in the header');
    body = c.codec.readRequest(r, c.version);
    writeRequestHeader(w, hv, h);
    c.codec.writeRequest(w, c.version, body as never);
  } else {
    // ApiVersions answers with header v0 whatever its version (KIP-511)
    const hv = isFlexible(c.codec, c.version) && c.codec.apiKey !== 18 ? 1 : 0;
    const h = readResponseHeader(r, hv);
    header = h as unknown as Record<string, unknown>;
    body = c.codec.readResponse(r, c.version);
    writeResponseHeader(w, hv, h);
    c.codec.writeResponse(w, c.version, body as never);
  }
  assert.equal(r.remaining, 0, `${r.remaining} bytes of the body were not consumed`);
  assert.equal(w.toBuffer().toString('hex'), c.payload.toString('hex'), 'write(read(capture)) == capture');
  return { header, body };
}

/** walks a records blob (concatenated v2 batches): header fields, and the CRC-32C over attributes..end */
function batches(records: Buffer): { codec: string; count: number; producerId: number; crcOk: boolean }[] {
  const out: { codec: string; count: number; producerId: number; crcOk: boolean }[] = [];
  for (let pos = 0; pos < records.length; ) {
    const length = records.readInt32BE(pos + 8);
    const end = pos + 12 + length;
    assert.ok(end <= records.length, 'batch within the records');
    assert.equal(records.readInt8(pos + 16), 2, 'magic 2');
    const crc = records.readUInt32BE(pos + 17);
    out.push({
      codec: COMPRESSION[records.readInt16BE(pos + 21) & 7]!,
      count: records.readInt32BE(pos + 57),
      producerId: new Reader(records, pos + 43).int64(),
      crcOk: crc32c(records.subarray(pos + 21, end)) >>> 0 === crc,
    });
    pos = end;
  }
  return out;
}

/** acks each client was configured with, by the compression codec of the Produce file */
const EXPECTED_ACKS: Record<string, Record<string, number>> = {
  kcat: { gzip: -1, snappy: -1, lz4: -1, zstd: -1 }, // idempotent producer: acks=all
  kafkajs: { gzip: -1, none: 1 },
  'kafka-python': { gzip: 1, none: -1 },
  java: { gzip: -1, snappy: -1, lz4: -1, zstd: -1 },
};

/** the client software name librdkafka/Java send in ApiVersions v3+ */
const SOFTWARE_NAME: Record<string, string> = { kcat: 'librdkafka', java: 'apache-kafka-java' };

function checkRequest(c: Capture, header: Record<string, unknown>, body: unknown): void {
  const client = manifest!.clients[c.client]!;
  assert.equal(header.clientId, client.clientId, 'client id');
  const topicOk = (name: string | null, topicId?: string): void =>
    assert.ok(name === client.topic || (topicId !== undefined && topicId !== ZERO_UUID && (name === '' || name === null)), `topic ${name}/${topicId}`);
  switch (c.codec.apiKey) {
    case 18: {
      const m = body as ApiVersionsRequest;
      if (c.version >= 3) {
        assert.equal(m.clientSoftwareName, SOFTWARE_NAME[c.client]);
        assert.match(m.clientSoftwareVersion, /^[0-9a-zA-Z.-]+$/);
      }
      break;
    }
    case 3: {
      const m = body as MetadataRequest;
      for (const t of m.topics ?? []) topicOk(t.name, t.topicId);
      break;
    }
    case 0: {
      const m = body as ProduceRequest;
      assert.equal(m.acks, EXPECTED_ACKS[c.client]![c.suffix!], 'acks');
      assert.equal(m.transactionalId, null);
      assert.ok(m.topicData.length > 0);
      for (const t of m.topicData) {
        topicOk(t.name, t.topicId);
        for (const p of t.partitionData) {
          assert.ok(p.records !== null && p.records.length > 61, 'a record batch');
          for (const b of batches(p.records)) {
            assert.equal(b.codec, c.suffix, 'compression codec of the batch');
            assert.ok(b.crcOk, 'batch CRC-32C');
            assert.ok(b.count > 0);
            if (m.acks === -1 && c.client !== 'kafka-python') assert.ok(b.producerId >= 0, 'idempotent: a producer id');
          }
        }
      }
      break;
    }
    case 1: {
      const m = body as FetchRequest;
      assert.ok(m.maxWaitMs > 0);
      if (c.version <= 14) assert.equal(m.replicaId, -1, 'a consumer, not a follower');
      else assert.equal(m.replicaState.replicaId, -1);
      for (const t of m.topics) {
        topicOk(t.topic, t.topicId);
        for (const p of t.partitions) assert.ok(p.fetchOffset >= 0);
      }
      break;
    }
    case 2: {
      const m = body as ListOffsetsRequest;
      assert.equal(m.replicaId, -1);
      for (const t of m.topics) {
        topicOk(t.name);
        for (const p of t.partitions) assert.ok(p.timestamp === -1 || p.timestamp === -2, `timestamp ${p.timestamp}`);
      }
      break;
    }
    case 10: {
      const m = body as FindCoordinatorRequest;
      const keys = c.version >= 4 ? m.coordinatorKeys : [m.key];
      assert.ok(m.keyType === 0 || m.keyType === 1);
      if (m.keyType === 0) assert.deepEqual(keys, [client.group]);
      break;
    }
    case 11: {
      const m = body as JoinGroupRequest;
      assert.equal(m.groupId, client.group);
      assert.equal(m.protocolType, 'consumer');
      assert.ok(m.sessionTimeoutMs > 0);
      assert.ok(m.protocols.length > 0);
      for (const p of m.protocols) {
        // the protocol metadata is a ConsumerProtocolSubscription: int16 version, then the struct
        const r = new Reader(p.metadata);
        const v = r.int16();
        const sub = readConsumerProtocolSubscription(r, Math.min(v, 3));
        assert.deepEqual(sub.topics, [client.topic], `subscription of ${p.name}`);
      }
      break;
    }
    case 14: {
      const m = body as SyncGroupRequest;
      assert.equal(m.groupId, client.group);
      assert.ok(m.generationId >= 1);
      assert.ok(m.memberId.length > 0);
      for (const a of m.assignments) {
        const r = new Reader(a.assignment);
        const v = r.int16();
        const asg = readConsumerProtocolAssignment(r, Math.min(v, 3));
        assert.deepEqual(asg.assignedPartitions.map((tp) => tp.topic), [client.topic]);
      }
      break;
    }
    case 12: {
      const m = body as HeartbeatRequest;
      assert.equal(m.groupId, client.group);
      assert.ok(m.generationId >= 1);
      assert.ok(m.memberId.length > 0);
      break;
    }
    case 13: {
      const m = body as LeaveGroupRequest;
      assert.equal(m.groupId, client.group);
      const ids = c.version >= 3 ? m.members.map((x) => x.memberId) : [m.memberId];
      assert.ok(ids.length > 0 && ids.every((id) => id.length > 0));
      break;
    }
    case 8: {
      const m = body as OffsetCommitRequest;
      assert.equal(m.groupId, client.group);
      for (const t of m.topics) {
        topicOk(t.name, t.topicId);
        for (const p of t.partitions) assert.ok(p.committedOffset >= 0);
      }
      break;
    }
    case 9: {
      const m = body as OffsetFetchRequest;
      if (c.version >= 8) {
        assert.deepEqual(m.groups.map((g) => g.groupId), [client.group]);
        for (const g of m.groups) for (const t of g.topics ?? []) topicOk(t.name, t.topicId);
      } else {
        assert.equal(m.groupId, client.group);
        for (const t of m.topics ?? []) topicOk(t.name);
      }
      break;
    }
    case 22: {
      const m = body as InitProducerIdRequest;
      assert.equal(m.transactionalId, null, 'idempotent, not transactional');
      break;
    }
  }
}

function checkResponse(c: Capture, body: unknown): void {
  const client = manifest!.clients[c.client]!;
  switch (c.codec.apiKey) {
    case 18: {
      const m = body as ApiVersionsResponse;
      assert.equal(m.errorCode, 0);
      const av = m.apiKeys.find((k) => k.apiKey === 18);
      assert.deepEqual([av?.minVersion, av?.maxVersion], [0, 4], 'Kafka 4.1 advertises ApiVersions 0-4');
      assert.ok(m.apiKeys.some((k) => k.apiKey === 0 && k.minVersion === 0), 'Kafka advertises Produce from v0 (KAFKA-18659)');
      break;
    }
    case 3: {
      const m = body as MetadataResponse;
      assert.ok(m.brokers.length >= 1);
      for (const t of m.topics) if (t.name === client.topic) assert.equal(t.errorCode, 0);
      break;
    }
    case 0: {
      const m = body as ProduceResponse;
      for (const t of m.responses) for (const p of t.partitionResponses) assert.equal(p.errorCode, 0), assert.ok(p.baseOffset >= 0);
      break;
    }
    case 1: {
      const m = body as FetchResponse;
      assert.equal(m.errorCode, 0);
      const data = m.responses.flatMap((t) => t.partitions).filter((p) => p.records !== null && p.records.length > 0);
      for (const p of data) for (const b of batches(p.records!)) assert.ok(b.crcOk, 'fetched batch CRC-32C');
      break;
    }
    case 11: {
      const m = body as JoinGroupResponse;
      assert.ok(m.errorCode === 0 || m.errorCode === 79, `JoinGroup error ${m.errorCode}`); // 79 MEMBER_ID_REQUIRED (KIP-394)
      break;
    }
  }
}

describe('frames captured from real clients against Apache Kafka 4.1', { skip: manifest ? false : `no captures in ${capturesDir}` }, () => {
  const captures = manifest ? loadCaptures() : [];

  it('the manifest lists exactly the capture files present', () => {
    assert.deepEqual(
      manifest!.files.map((f) => f.file).sort(),
      captures.map((c) => `${c.client}/${c.file}`).sort(),
    );
  });

  it('covers the APIs and versions each client is known to send', () => {
    const have = (client: string, api: string, version?: number): boolean =>
      captures.some((c) => c.client === client && c.direction === 'request' && c.codec.name === api && (version === undefined || c.version === version));
    const core = ['ApiVersions', 'Metadata', 'Produce', 'Fetch', 'FindCoordinator', 'JoinGroup', 'SyncGroup', 'Heartbeat', 'OffsetCommit', 'OffsetFetch', 'ListOffsets'];
    const missing: string[] = [];
    for (const client of Object.keys(manifest!.clients)) {
      // kafka-python 2.0.2 has no idempotent producer, so no InitProducerId
      for (const api of client === 'kafka-python' ? core : [...core, 'InitProducerId']) if (!have(client, api)) missing.push(`${client} ${api}`);
    }
    for (const [client, v] of [['kcat', 3], ['kafkajs', 2], ['kafka-python', 0]] as const) if (!have(client, 'ApiVersions', v)) missing.push(`${client} ApiVersions v${v}`);
    for (const client of ['kcat', 'java']) {
      for (const codec of ['gzip', 'snappy', 'lz4', 'zstd']) {
        if (!captures.some((c) => c.client === client && c.codec.apiKey === 0 && c.suffix === codec)) missing.push(`${client} Produce ${codec}`);
      }
    }
    assert.deepEqual(missing, []);
  });

  for (const c of captures) {
    it(`${c.client}/${c.file}`, () => {
      const { header, body } = decodeCapture(c);
      if (c.direction === 'request') checkRequest(c, header, body);
      else checkResponse(c, body);
    });
  }
});
