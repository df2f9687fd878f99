// BrokerConnection against the fake broker: version negotiation (and the ApiVersions fallback), header versions,
// framing across odd chunk boundaries, pipelining, timeouts and disconnects.
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BrokerConnection } from '../../src/client/connection.js';
import { ApiKey } from '../../src/protocol/generated/api.js';
import { ErrorCode, KafkaError } from '../../src/protocol/errors.js';
import { FakeBroker, metadataResponse, requestedTopics } from './fake-broker.js';

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function isKafkaError(code: number): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof KafkaError, `expected a KafkaError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  };
}

describe('BrokerConnection', () => {
  let broker: FakeBroker;
  const conns: BrokerConnection[] = [];

  before(async () => {
    broker = await FakeBroker.start({
      handlers: {
        [ApiKey.Metadata]: (req) => metadataResponse(broker, { a: { partitions: 1 }, b: { partitions: 2 } }, requestedTopics(req.body)),
      },
    });
  });
  after(async () => {
    await broker.close();
  });
  afterEach(() => {
    for (const c of conns.splice(0)) c.close();
    broker.writeMode = 'whole';
    broker.apiVersions = undefined;
    broker.requests.length = 0;
  });

  async function open(opts: Partial<Parameters<typeof BrokerConnection.connect>[0]> = {}): Promise<BrokerConnection> {
    const c = await BrokerConnection.connect({ host: '127.0.0.1', port: broker.port, ...opts });
    conns.push(c);
    return c;
  }

  it('negotiates with ApiVersions v3 and picks the highest common version', async () => {
    broker.apiVersions = new Map([
      [18, [0, 4]],
      [3, [0, 7]],
    ]);
    const c = await open();
    const av = broker.requestsOf(ApiKey.ApiVersions);
    assert.equal(av.length, 1);
    assert.equal(av[0]!.version, 3);
    assert.equal(av[0]!.headerVersion, 2, 'ApiVersions v3 is flexible: request header v2');
    assert.deepEqual((av[0]!.body as { clientSoftwareName: string }).clientSoftwareName, 'umbra');
    assert.equal(c.versionFor(ApiKey.Metadata), 7);
    assert.equal(c.versionFor(ApiKey.Metadata, 4), 4);
    assert.throws(() => c.versionFor(ApiKey.Produce), isKafkaError(ErrorCode.UNSUPPORTED_VERSION));
  });

  it('falls back to the broker\'s ApiVersions version on UNSUPPORTED_VERSION (v0-format answer)', async () => {
    broker.apiVersions = new Map([
      [18, [0, 2]],
      [3, [0, 12]],
    ]);
    const c = await open();
    assert.deepEqual(
      broker.requestsOf(ApiKey.ApiVersions).map((r) => r.version),
      [3, 2],
    );
    assert.equal(c.versionFor(ApiKey.Metadata), 12);
    assert.equal(c.brokerRange(3)?.maxVersion, 12);
  });

  it('uses request header v1 for non-flexible and v2 for flexible versions, and reads both response headers', async () => {
    const c = await open();
    const flexible = await c.request(ApiKey.Metadata, { topics: [{ name: 'a' }] }, { version: 12 });
    const classic = await c.request(ApiKey.Metadata, { topics: [{ name: 'a' }] }, { version: 5 });
    assert.equal(flexible.topics[0]!.name, 'a');
    assert.equal(classic.topics[0]!.name, 'a');
    const md = broker.requestsOf(ApiKey.Metadata);
    assert.deepEqual(
      md.map((r) => [r.version, r.headerVersion, r.clientId]),
      [
        [12, 2, 'umbra'],
        [5, 1, 'umbra'],
      ],
    );
  });

  for (const mode of ['bytewise', 'coalesce'] as const) {
    it(`pipelines many requests and matches responses in order (${mode} writes)`, async () => {
      broker.writeMode = mode;
      const c = await open({ clientId: 'pipeline-test' });
      const names = Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? 'a' : 'b'));
      broker.maxInFlight = 0;
      const results = await Promise.all(names.map((n) => c.request(ApiKey.Metadata, { topics: [{ name: n }] })));
      assert.deepEqual(
        results.map((r) => r.topics[0]!.name),
        names,
      );
      assert.deepEqual(
        results.map((r) => r.topics[0]!.partitions.length),
        names.map((n) => (n === 'a' ? 1 : 2)),
      );
      assert.ok(broker.maxInFlight > 1, `requests were pipelined (max in flight ${broker.maxInFlight})`);
      assert.equal(c.pendingRequests, 0);
    });
  }

  it('delivers a large response intact (assembled across many chunks)', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let i = 0; i < big.length; i++) big[i] = i % 251;
    broker.handlers[ApiKey.Fetch] = () => ({
      responses: [{ topic: 'a', partitions: [{ partitionIndex: 0, highWatermark: 1, records: big }] }],
    });
    try {
      const c = await open();
      const res = await c.request(ApiKey.Fetch, { topics: [{ topic: 'a', partitions: [{ partition: 0, fetchOffset: 0 }] }] }, { maxVersion: 12 });
      const records = res.responses[0]!.partitions[0]!.records!;
      assert.equal(records.length, big.length);
      assert.ok(records.equals(big));
    } finally {
      delete broker.handlers[ApiKey.Fetch];
    }
  });

  it('keeps response order when a slow request is followed by fast ones', async () => {
    let first = true;
    broker.handlers[ApiKey.Heartbeat] = async (req) => {
      if (first) {
        first = false;
        await sleep(100);
      }
      return { errorCode: (req.body as { generationId: number }).generationId };
    };
    try {
      const c = await open();
      const res = await Promise.all([1, 2, 3, 4].map((g) => c.request(ApiKey.Heartbeat, { groupId: 'g', generationId: g, memberId: 'm' })));
      assert.deepEqual(
        res.map((r) => r.errorCode),
        [1, 2, 3, 4],
      );
    } finally {
      delete broker.handlers[ApiKey.Heartbeat];
    }
  });

  it('sends acks=0 produce without waiting for a response, and stays in sync afterwards', async () => {
    broker.handlers[ApiKey.Produce] = (req) => ((req.body as { acks: number }).acks === 0 ? null : { responses: [] });
    try {
      const c = await open();
      await c.sendWithoutResponse(ApiKey.Produce, { acks: 0, timeoutMs: 1000, topicData: [] });
      const md = await c.request(ApiKey.Metadata, { topics: [{ name: 'b' }] });
      assert.equal(md.topics[0]!.name, 'b');
      assert.equal(broker.requestsOf(ApiKey.Produce).length, 1);
    } finally {
      delete broker.handlers[ApiKey.Produce];
    }
  });

  it('times out a request with REQUEST_TIMED_OUT and fails the others with NETWORK_EXCEPTION', async () => {
    broker.handlers[ApiKey.Heartbeat] = () => new Promise(() => undefined); // never answers
    try {
      const c = await open({ requestTimeoutMs: 150 });
      const closed = new Promise<KafkaError>((resolve) => c.once('close', resolve));
      const a = c.request(ApiKey.Heartbeat, { groupId: 'g' });
      const b = c.request(ApiKey.Heartbeat, { groupId: 'g' }, { timeoutMs: 10_000 });
      await assert.rejects(a, isKafkaError(ErrorCode.REQUEST_TIMED_OUT));
      await assert.rejects(b, isKafkaError(ErrorCode.NETWORK_EXCEPTION));
      assert.equal((await closed).code, ErrorCode.NETWORK_EXCEPTION);
      assert.ok(c.isClosed);
      await assert.rejects(c.request(ApiKey.Metadata, { topics: [] }), isKafkaError(ErrorCode.NETWORK_EXCEPTION));
    } finally {
      delete broker.handlers[ApiKey.Heartbeat];
    }
  });

  it('rejects every pending request when the broker disconnects', async () => {
    broker.handlers[ApiKey.Heartbeat] = () => new Promise(() => undefined);
    try {
      const c = await open();
      const pending = [1, 2, 3].map(() => c.request(ApiKey.Heartbeat, { groupId: 'g' }));
      while (broker.requestsOf(ApiKey.Heartbeat).length < 3) await sleep(5);
      broker.dropConnections();
      for (const p of pending) await assert.rejects(p, isKafkaError(ErrorCode.NETWORK_EXCEPTION));
      assert.equal(c.pendingRequests, 0);
    } finally {
      delete broker.handlers[ApiKey.Heartbeat];
    }
  });

  it('closes the connection on a correlation id mismatch', async () => {
    const c = await open();
    broker.corruptNextCorrelationId = true;
    await assert.rejects(c.request(ApiKey.Metadata, { topics: [] }), isKafkaError(ErrorCode.NETWORK_EXCEPTION));
    assert.ok(c.isClosed);
  });

  it('fails cleanly when nothing listens', async () => {
    const probe = await FakeBroker.start();
    const port = probe.port;
    await probe.close();
    await assert.rejects(BrokerConnection.connect({ host: '127.0.0.1', port, connectTimeoutMs: 2000 }), isKafkaError(ErrorCode.NETWORK_EXCEPTION));
  });

  it('runs the authenticate hook after ApiVersions, before the connection is handed out', async () => {
    const seen: number[] = [];
    const c = await open({
      authenticate: async (conn) => {
        seen.push(broker.requestsOf(ApiKey.ApiVersions).length);
        const md = await conn.request(ApiKey.Metadata, { topics: [] });
        seen.push(md.brokers.length);
      },
    });
    assert.deepEqual(seen, [1, 1]);
    assert.ok(!c.isClosed);
  });
});
