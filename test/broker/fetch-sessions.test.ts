// Incremental fetch sessions (KIP-227) on the broker: a full fetch with epoch 0 opens a session, incremental
// fetches name only what changed and are answered with only what changed, and every misuse (wrong epoch, unknown
// session, switching between topic names and ids) gets Kafka's error so the client starts over.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KafkaClient } from '../../src/client/client.js';
import { ApiKey } from '../../src/protocol/generated/api.js';
import { ZERO_UUID, type Input } from '../../src/protocol/primitives.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { buildRecordBatch } from '../../src/protocol/record-batch.js';
import type { FetchRequest } from '../../src/protocol/generated/messages/FetchRequest.js';
import type { FetchResponse } from '../../src/protocol/generated/messages/FetchResponse.js';
import { EVICTION_MS, FetchSessionCache } from '../../src/broker/fetch-sessions.js';
import { InProcessBroker } from '../helpers/in-process-broker.js';

const PARTITIONS = 4;

interface Want {
  partition: number;
  fetchOffset: number;
}

/** A Fetch request naming topic `t` by id (v13+) or by name. */
function fetchRequest(
  t: { name: string; id: string },
  byId: boolean,
  sessionId: number,
  sessionEpoch: number,
  wants: Want[],
  forgotten: number[] = [],
  maxWaitMs = 0,
): Input<FetchRequest> {
  const topic = byId ? '' : t.name;
  const topicId = byId ? t.id : ZERO_UUID;
  return {
    clusterId: null,
    replicaId: -1,
    replicaState: { replicaId: -1, replicaEpoch: -1 },
    maxWaitMs,
    minBytes: 1,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId,
    sessionEpoch,
    topics: wants.length === 0 ? [] : [{ topic, topicId, partitions: wants.map((w) => ({ partition: w.partition, currentLeaderEpoch: -1, fetchOffset: w.fetchOffset, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 1 << 20 })) }],
    forgottenTopicsData: forgotten.length === 0 ? [] : [{ topic, topicId, partitions: forgotten }],
    rackId: '',
  };
}

/** partition → [high watermark, record bytes] of every partition in a response */
function answered(res: FetchResponse): Map<number, [number, number]> {
  const out = new Map<number, [number, number]>();
  for (const t of res.responses) for (const p of t.partitions) out.set(p.partitionIndex, [p.highWatermark, p.records?.length ?? 0]);
  return out;
}

describe('fetch sessions', () => {
  const dir = mkdtempSync(join(tmpdir(), 'umbra-fetch-sessions-'));
  const node = new InProcessBroker(dir, 'fetch-sessions');
  let client: KafkaClient;
  const topic = { name: 'fs', id: '' };
  const all: Want[] = Array.from({ length: PARTITIONS }, (_, partition) => ({ partition, fetchOffset: 0 }));
  const fetch = async (req: Input<FetchRequest>, version = 17): Promise<FetchResponse> => {
    const conn = await client.connection();
    return conn.request(ApiKey.Fetch, req, { version, timeoutMs: 10_000 });
  };
  const produce = (partition: number, n: number): Promise<unknown> =>
    client.produce(topic.name, partition, buildRecordBatch({ records: Array.from({ length: n }, (_, i) => ({ key: null, value: `v${i}` })) }), { acks: 1 });

  before(async () => {
    client = await node.start();
    const created = await client.createTopics([{ name: topic.name, numPartitions: PARTITIONS }]);
    assert.equal(created[0]!.errorCode, 0, created[0]!.errorMessage ?? '');
    topic.id = (await client.topic(topic.name)).topicId;
    await produce(0, 3);
  });

  after(async () => {
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens a session on a full fetch, then answers incremental fetches with what changed only', async () => {
    const full = await fetch(fetchRequest(topic, true, 0, 0, all));
    assert.equal(full.errorCode, ErrorCode.NONE);
    assert.notEqual(full.sessionId, 0, 'a full fetch with epoch 0 opens a session');
    assert.deepEqual([...answered(full).keys()].sort(), [0, 1, 2, 3], 'a full response carries every partition');
    assert.ok(answered(full).get(0)![1] > 0);

    // the client moves partition 0 past its records; nothing else changed, so nothing is answered
    const quiet = await fetch(fetchRequest(topic, true, full.sessionId, 1, [{ partition: 0, fetchOffset: 3 }]));
    assert.equal(quiet.errorCode, ErrorCode.NONE);
    assert.equal(quiet.sessionId, full.sessionId);
    assert.equal(answered(quiet).size, 0, 'no partition changed');

    // partition 2 gets records: an empty incremental fetch is answered with partition 2 alone
    await produce(2, 2);
    const moved = await fetch(fetchRequest(topic, true, full.sessionId, 2, []));
    assert.deepEqual([...answered(moved).keys()], [2], 'only the partition with new records');
    assert.deepEqual(answered(moved).get(2)![0], 2);

    // a long poll over the session wakes on data of a partition the request itself does not name
    const polling = fetch(fetchRequest(topic, true, full.sessionId, 3, [{ partition: 2, fetchOffset: 2 }], [], 5_000));
    await new Promise((r) => setTimeout(r, 100));
    await produce(3, 1);
    const woke = await polling;
    assert.deepEqual([...answered(woke).keys()], [3]);
    assert.ok(answered(woke).get(3)![1] > 0);
  });

  it('drops forgotten partitions and answers misuse with the session errors', async () => {
    // every partition fetched from its end (the first test left 3, 0, 2 and 1 records)
    const ends = [3, 0, 2, 1];
    const full = await fetch(fetchRequest(topic, true, 0, 0, all.map((w) => ({ ...w, fetchOffset: ends[w.partition]! }))));
    const id = full.sessionId;
    assert.notEqual(id, 0);
    // forget partition 1, then give it data: it is no longer fetched
    const forgot = await fetch(fetchRequest(topic, true, id, 1, [], [1]));
    assert.equal(forgot.errorCode, ErrorCode.NONE);
    await produce(1, 1);
    assert.equal(answered(await fetch(fetchRequest(topic, true, id, 2, []))).size, 0, 'a forgotten partition is not fetched');

    assert.equal((await fetch(fetchRequest(topic, true, id, 2, []))).errorCode, ErrorCode.INVALID_FETCH_SESSION_EPOCH, 'an epoch used twice');
    assert.equal((await fetch(fetchRequest(topic, true, id + 1, 1, []))).errorCode, ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
    assert.equal((await fetch(fetchRequest(topic, false, id, 3, []), 12)).errorCode, ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR, 'names in an id session');
    // the errors did not use up the epoch
    assert.equal((await fetch(fetchRequest(topic, true, id, 3, []))).errorCode, ErrorCode.NONE);

    // epoch -1 closes the session and is answered without one
    const closing = await fetch(fetchRequest(topic, true, id, -1, [{ partition: 0, fetchOffset: 0 }]));
    assert.equal(closing.errorCode, ErrorCode.NONE);
    assert.equal(closing.sessionId, 0);
    assert.ok(answered(closing).get(0)![1] > 0, 'a sessionless fetch answers what it names');
    assert.equal((await fetch(fetchRequest(topic, true, id, 4, []))).errorCode, ErrorCode.FETCH_SESSION_ID_NOT_FOUND, 'closed');
  });

  it('keeps sessions by topic name before v13, and re-sends a partition once its error is gone', async () => {
    const full = await fetch(fetchRequest({ name: 'fs-late', id: ZERO_UUID }, false, 0, 0, [{ partition: 0, fetchOffset: 0 }]), 12);
    assert.notEqual(full.sessionId, 0);
    assert.equal(full.responses[0]!.partitions[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    const again = await fetch(fetchRequest({ name: 'fs-late', id: ZERO_UUID }, false, full.sessionId, 1, []), 12);
    assert.equal(again.responses[0]!.partitions[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'errors are always answered');
    await client.createTopics([{ name: 'fs-late', numPartitions: 1 }]);
    const created = await fetch(fetchRequest({ name: 'fs-late', id: ZERO_UUID }, false, full.sessionId, 2, []), 12);
    assert.equal(created.responses[0]!.topic, 'fs-late');
    assert.equal(created.responses[0]!.partitions[0]!.errorCode, ErrorCode.NONE, 'the partition is answered once it exists');
    assert.equal(answered(await fetch(fetchRequest({ name: 'fs-late', id: ZERO_UUID }, false, full.sessionId, 3, []), 12)).size, 0);
  });

  it('follows a topic deleted and created again under its name (sessions by name)', async () => {
    const t = { name: 'fs-again', id: ZERO_UUID };
    await client.createTopics([{ name: t.name, numPartitions: 1 }]);
    await client.produce(t.name, 0, buildRecordBatch({ records: [{ key: null, value: 'a' }, { key: null, value: 'b' }, { key: null, value: 'c' }] }), { acks: 1 });
    const full = await fetch(fetchRequest(t, false, 0, 0, [{ partition: 0, fetchOffset: 3 }]), 12);
    assert.notEqual(full.sessionId, 0);
    assert.equal(answered(full).get(0)![0], 3);

    await client.deleteTopics([t.name]);
    await client.createTopics([{ name: t.name, numPartitions: 1 }]);
    await client.produce(t.name, 0, buildRecordBatch({ records: [{ key: null, value: 'new' }] }), { acks: 1 });
    // the session's offset 3 is past the new log's end (1): the answer comes from the new log, not the old one
    const after = await fetch(fetchRequest(t, false, full.sessionId, 1, []), 12);
    const p = after.responses[0]!.partitions[0]!;
    assert.equal(p.errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
    const reread = await fetch(fetchRequest(t, false, full.sessionId, 2, [{ partition: 0, fetchOffset: 0 }]), 12);
    assert.deepEqual(answered(reread).get(0), [1, answered(reread).get(0)![1]]);
    assert.ok(answered(reread).get(0)![1] > 0, 'the new topic\'s record');
  });

  it('wakes a long poll for a partition the same incremental request adds', async () => {
    const full = await fetch(fetchRequest(topic, true, 0, 0, [{ partition: 0, fetchOffset: 3 }]));
    assert.notEqual(full.sessionId, 0);
    const ends = answered(await fetch(fetchRequest(topic, true, 0, -1, all))); // high watermarks, sessionless
    const end2 = ends.get(2)![0];
    const polling = fetch(fetchRequest(topic, true, full.sessionId, 1, [{ partition: 2, fetchOffset: end2 }], [], 5_000));
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    await produce(2, 1);
    const woke = await polling;
    assert.ok(Date.now() - started < 2_000, 'answered on the append, not at maxWaitMs');
    assert.deepEqual([...answered(woke).keys()], [2]);
    assert.ok(answered(woke).get(2)![1] > 0);
  });

  it('opens no session when the cache has no slots, and none for fetches before v7', async () => {
    const old = await fetch(fetchRequest(topic, false, 0, 0, all), 6);
    assert.equal(answered(old).size, PARTITIONS);
    const off = new InProcessBroker(mkdtempSync(join(tmpdir(), 'umbra-fetch-sessions-off-')), 'fetch-sessions-off');
    const offClient = await off.start(undefined, { 'max.incremental.fetch.session.cache.slots': 0 });
    try {
      await offClient.createTopics([{ name: 'x', numPartitions: 1 }]);
      const conn = await offClient.connection();
      const res = await conn.request(ApiKey.Fetch, fetchRequest({ name: 'x', id: ZERO_UUID }, false, 0, 0, [{ partition: 0, fetchOffset: 0 }]), { version: 12 });
      assert.equal(res.errorCode, ErrorCode.NONE);
      assert.equal(res.sessionId, 0, 'no slots: the client goes on with full fetches');
      assert.equal(answered(res).size, 1);
    } finally {
      await off.stop();
      rmSync(off.dir, { recursive: true, force: true });
    }
  });
});

describe('fetch session cache', () => {
  it('gives a full cache slot to a new session only for a stale or a smaller one', () => {
    let now = 1_000_000;
    const cache = new FetchSessionCache(2, () => now);
    const a = cache.create(true, 10)!;
    for (let i = 0; i < 10; i++) a.upsert({ topic: '', topicId: 't', partition: i, fetchOffset: 0, partitionMaxBytes: 1, currentLeaderEpoch: -1 });
    const b = cache.create(true, 2)!;
    for (let i = 0; i < 2; i++) b.upsert({ topic: '', topicId: 't', partition: i, fetchOffset: 0, partitionMaxBytes: 1, currentLeaderEpoch: -1 });
    assert.equal(cache.create(true, 2), undefined, 'full, nothing stale, nothing smaller');
    const c = cache.create(true, 5)!;
    assert.ok(c, 'a larger session takes the smallest one’s slot');
    assert.equal(cache.get(b.id), undefined);
    now += EVICTION_MS;
    cache.get(c.id); // c used just now; a unused for EVICTION_MS
    const d = cache.create(true, 1)!;
    assert.ok(d, 'a stale session gives its slot up');
    assert.equal(cache.get(a.id), undefined);
    assert.ok(cache.get(c.id));
    assert.equal(cache.size, 2);
  });

  it('lets a session wait for appends, and detaches its partitions when forgotten or when it leaves the cache', async () => {
    const cache = new FetchSessionCache(1);
    const s = cache.create(true, 2)!;
    const detached: number[] = [];
    s.attachment = { detach: (p) => detached.push(p.partition) };
    for (const partition of [0, 1, 2]) s.upsert({ topic: '', topicId: 't', partition, fetchOffset: 0, partitionMaxBytes: 1, currentLeaderEpoch: -1 });
    assert.deepEqual(s.added.map((p) => p.partition), [0, 1, 2]);

    const waiting = s.waitForData(10_000);
    const seq = s.dataSeq;
    s.onAppend();
    await waiting; // resolved by the append, long before its timeout
    assert.equal(s.dataSeq, seq + 1);

    s.forget('', 't', 1);
    assert.deepEqual(detached, [1]);
    const stillWaiting = s.waitForData(10_000);
    cache.remove(s.id);
    await stillWaiting; // the session left the cache: the request waiting on it goes on
    assert.deepEqual(detached.sort(), [0, 1, 2]);
    assert.ok(s.disposed);
  });

  it('wraps the epoch to 1', () => {
    const s = new FetchSessionCache(1).create(false, 1)!;
    assert.equal(s.epoch, 1);
    s.epoch = 0x7fffffff;
    s.advanceEpoch();
    assert.equal(s.epoch, 1);
  });
});
