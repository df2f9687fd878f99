// Creating topics while the broker serves. A new partition's directory and files are made on the threadpool
// (Storage.createLog), not on the event loop: a synchronous open made three files and two fsyncs per partition,
// and a 1,000-partition CreateTopics held every other client for seconds on a slow disk. CreateTopics and
// CreatePartitions still answer only once every new partition takes records; meanwhile Metadata shows those
// partitions without a leader and Produce or Fetch them with NOT_LEADER_OR_FOLLOWER, as Kafka does until a leader
// has its log.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KafkaClient } from '../../src/client/client.js';
import { ApiKey } from '../../src/protocol/generated/api.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { buildRecordBatch } from '../../src/protocol/record-batch.js';
import { defaultStorageFs } from '../../src/storage/index.js';
import type { StorageFs } from '../../src/storage/types.js';
import { InProcessBroker } from '../helpers/in-process-broker.js';

/** node:fs counting the synchronous calls that make or sync files, with asynchronous opens that can be held. */
class WatchedFs {
  syncCalls = 0;
  holdOpens = false;
  heldOpens: (() => void)[] = [];
  /** asynchronous mkdirs of paths containing `failMkdirsOf` fail with EIO while `failMkdirs` is above 0 */
  failMkdirs = 0;
  failMkdirsOf = '';
  readonly fs: StorageFs = {
    ...defaultStorageFs,
    openSync: (path, flags) => (this.syncCalls++, defaultStorageFs.openSync(path, flags)),
    mkdirSync: (path) => (this.syncCalls++, defaultStorageFs.mkdirSync(path)),
    fsyncSync: (fd) => (this.syncCalls++, defaultStorageFs.fsyncSync(fd)),
    mkdir: (path, cb) => {
      if (this.failMkdirs > 0 && path.includes(this.failMkdirsOf)) {
        this.failMkdirs--;
        const err: NodeJS.ErrnoException = new Error(`EIO: i/o error, mkdir '${path}'`);
        err.code = 'EIO';
        setImmediate(() => cb(err));
      } else defaultStorageFs.mkdir!(path, cb);
    },
    open: (path, flags, cb) => {
      if (this.holdOpens) this.heldOpens.push(() => defaultStorageFs.open!(path, flags, cb));
      else defaultStorageFs.open!(path, flags, cb);
    },
  };

  releaseOpens(): void {
    this.holdOpens = false;
    for (const open of this.heldOpens.splice(0)) open();
  }
}

describe('creating topics while the broker serves', () => {
  const dir = mkdtempSync(join(tmpdir(), 'umbra-topic-creation-'));
  const node = new InProcessBroker(dir, 'topic-creation');
  const watched = new WatchedFs();
  let client: KafkaClient;
  /** another client, on its own connection (a broker answers one request of a connection at a time) */
  let other: KafkaClient;
  const record = buildRecordBatch({ records: [{ key: null, value: 'first' }] });

  /** One Produce request naming every partition from `from` to `to` (exclusive), sent without metadata or retries. */
  async function produceToAll(topic: string, from: number, to: number, via: KafkaClient = client): Promise<number[]> {
    const conn = await via.connection();
    const partitionData = [];
    for (let p = from; p < to; p++) partitionData.push({ index: p, records: record });
    const res = await conn.request(ApiKey.Produce, { transactionalId: null, acks: 1, timeoutMs: 10_000, topicData: [{ name: topic, partitionData }] }, { maxVersion: 12 });
    return res.responses[0]!.partitionResponses.map((p) => p.errorCode);
  }

  before(async () => {
    client = await node.start(watched.fs);
    other = new KafkaClient({ brokers: `127.0.0.1:${node.port}`, clientId: 'topic-creation-other', retries: 0 });
  });

  after(async () => {
    watched.releaseOpens();
    await other.close();
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('makes the files of new partitions off the event loop, and answers once every one takes records', async () => {
    watched.syncCalls = 0;
    const created = await client.createTopics([{ name: 'wide', numPartitions: 64 }]);
    assert.equal(created[0]!.errorCode, ErrorCode.NONE, created[0]!.errorMessage ?? '');
    assert.equal(watched.syncCalls, 0, 'synchronous file creations or fsyncs while creating 64 partitions');
    // sent the moment CreateTopics answered: every partition takes it, and the first appends write no checkpoint
    assert.deepEqual(await produceToAll('wide', 0, 64), new Array(64).fill(ErrorCode.NONE));
    assert.equal(watched.syncCalls, 0, 'synchronous file creations or fsyncs at the first appends');
    const [topic] = (await client.metadata(['wide'])).topics;
    assert.deepEqual(new Set(topic!.partitions.map((p) => `${p.errorCode}/${p.leader}`)), new Set([`0/${node.broker!.services.nodeId}`]));

    const grown = await client.createPartitions([{ topic: 'wide', count: 96 }]);
    assert.equal(grown[0]!.errorCode, ErrorCode.NONE, grown[0]!.errorMessage ?? '');
    assert.deepEqual(await produceToAll('wide', 64, 96), new Array(32).fill(ErrorCode.NONE));
    assert.equal(watched.syncCalls, 0);
  });

  it('shows partitions still being created as leaderless, and serves other clients meanwhile', async () => {
    watched.holdOpens = true;
    const creating = client.createTopics([{ name: 'slow', numPartitions: 8 }]);
    const deadline = Date.now() + 5000;
    while (watched.heldOpens.length < 8 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.equal(watched.heldOpens.length, 8, 'every partition waits for its segment file');

    const [slow] = (await other.metadata(['slow'])).topics;
    assert.equal(slow!.errorCode, ErrorCode.NONE);
    assert.equal(slow!.partitions.length, 8);
    for (const p of slow!.partitions) {
      assert.equal(p.errorCode, ErrorCode.LEADER_NOT_AVAILABLE);
      assert.equal(p.leader, -1);
    }
    // another topic takes records meanwhile; the new one does not yet
    assert.deepEqual(await produceToAll('wide', 0, 4, other), [0, 0, 0, 0]);
    assert.deepEqual(await produceToAll('slow', 0, 1, other), [ErrorCode.NOT_LEADER_OR_FOLLOWER]);
    // (sent by hand: a client asks no leader the metadata does not name)
    const fetched = await (await other.connection()).request(
      ApiKey.Fetch,
      {
        replicaId: -1,
        maxWaitMs: 0,
        minBytes: 1,
        maxBytes: 1 << 20,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [{ topic: 'slow', partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 1 << 20 }] }],
        forgottenTopicsData: [],
        rackId: '',
      },
      { maxVersion: 12 },
    );
    assert.equal(fetched.responses[0]!.partitions[0]!.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
    // a partition the topic does not have is still unknown
    assert.deepEqual(await produceToAll('wide', 200, 201, other), [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);

    watched.releaseOpens();
    const created = await creating;
    assert.equal(created[0]!.errorCode, ErrorCode.NONE, created[0]!.errorMessage ?? '');
    assert.deepEqual(await produceToAll('slow', 0, 8), new Array(8).fill(ErrorCode.NONE));
  });

  it('drops a topic deleted while its partitions are being created, and creates the name anew', async () => {
    watched.holdOpens = true;
    const creating = client.createTopics([{ name: 'brief', numPartitions: 4 }]);
    const deadline = Date.now() + 5000;
    while (watched.heldOpens.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    const deleting = other.deleteTopics(['brief']);
    const [deleted] = await deleting;
    assert.equal(deleted!.errorCode, ErrorCode.NONE);
    watched.releaseOpens();
    await creating; // answered whatever its outcome: the topic is gone
    assert.deepEqual((await client.metadata(['brief'])).topics[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);

    const again = await client.createTopics([{ name: 'brief', numPartitions: 4 }]);
    assert.equal(again[0]!.errorCode, ErrorCode.NONE, again[0]!.errorMessage ?? '');
    assert.deepEqual(await produceToAll('brief', 0, 4), [0, 0, 0, 0]);
  });

  it('answers REQUEST_TIMED_OUT when the logs take longer than the timeoutMs of the request, and goes on creating them', async () => {
    watched.holdOpens = true;
    const started = performance.now();
    const [late] = await client.createTopics([{ name: 'late', numPartitions: 3 }], { timeoutMs: 300 });
    assert.ok(performance.now() - started >= 290, 'answered before its timeout');
    assert.equal(late!.errorCode, ErrorCode.REQUEST_TIMED_OUT, late!.errorMessage ?? '');
    assert.match(late!.errorMessage ?? '', /on their way/);
    assert.equal(watched.heldOpens.length, 3);
    watched.releaseOpens();
    const deadline = Date.now() + 5000;
    let leaders: number[] = [];
    while (Date.now() < deadline) {
      leaders = (await client.metadata(['late'])).topics[0]!.partitions.map((p) => p.leader);
      if (leaders.every((l) => l >= 0)) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(leaders, [0, 1, 2].map(() => node.broker!.services.nodeId));
    assert.deepEqual(await produceToAll('late', 0, 3), [0, 0, 0]);
    // the same for new partitions
    watched.holdOpens = true;
    const [grown] = await client.createPartitions([{ topic: 'late', count: 5 }], { timeoutMs: 200 });
    assert.equal(grown!.errorCode, ErrorCode.REQUEST_TIMED_OUT);
    watched.releaseOpens();
    await node.broker!.services.partitions.ready('late');
    assert.deepEqual(await produceToAll('late', 0, 5), [0, 0, 0, 0, 0]);
  });

  it('tries the creation of a partition whose directory could not be made again, and serves it once made', async () => {
    watched.failMkdirsOf = 'retried-1';
    watched.failMkdirs = 2; // the first try and the first retry fail
    const started = performance.now();
    const [created] = await client.createTopics([{ name: 'retried', numPartitions: 3 }]);
    assert.equal(created!.errorCode, ErrorCode.NONE, created!.errorMessage ?? '');
    const [topic] = (await client.metadata(['retried'])).topics;
    assert.deepEqual(
      topic!.partitions.map((p) => p.errorCode),
      [ErrorCode.NONE, ErrorCode.LEADER_NOT_AVAILABLE, ErrorCode.NONE],
    );
    assert.deepEqual(await produceToAll('retried', 0, 3), [0, ErrorCode.NOT_LEADER_OR_FOLLOWER, 0]);
    // tried again after 1 s (fails) and 2 s more
    const deadline = Date.now() + 10_000;
    let errors: number[] = [];
    while (Date.now() < deadline) {
      errors = await produceToAll('retried', 1, 2);
      if (errors[0] === ErrorCode.NONE) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(errors, [ErrorCode.NONE]);
    assert.equal(watched.failMkdirs, 0);
    const took = performance.now() - started;
    assert.ok(took >= 2900 && took < 6000, `served after ${took.toFixed(0)} ms (two retries: 1 s, then 2 s)`);
  });
});
