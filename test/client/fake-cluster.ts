// An in-memory single-node "cluster" on top of FakeBroker, enough for producer/consumer and CLI tests without a
// real broker: topics (create, delete, configs), and per-partition logs that Produce appends to (assigning offsets
// by rewriting baseOffset, as a broker does) and Fetch/ListOffsets read. No groups.
import { randomUUID } from 'node:crypto';
import { ApiKey } from '../../src/protocol/generated/api.js';
import { writeInt64 } from '../../src/protocol/primitives.js';
import { RecordBatch, recordBatches } from '../../src/protocol/record-batch.js';
import { FakeBroker, metadataResponse, requestedTopics } from './fake-broker.js';

export interface FakeTopic {
  name: string;
  topicId: string;
  partitions: Buffer[][];
  configs: Record<string, string>;
}

export class FakeCluster {
  readonly topics = new Map<string, FakeTopic>();
  constructor(readonly broker: FakeBroker) {}

  static async start(): Promise<FakeCluster> {
    const broker = await FakeBroker.start();
    const c = new FakeCluster(broker);
    c.install();
    return c;
  }

  close(): Promise<void> {
    return this.broker.close();
  }

  get bootstrap(): string {
    return this.broker.address;
  }

  createTopic(name: string, partitions: number, configs: Record<string, string> = {}): FakeTopic {
    const t: FakeTopic = { name, topicId: randomUUID(), partitions: Array.from({ length: partitions }, () => []), configs };
    this.topics.set(name, t);
    return t;
  }

  /** every batch of a partition, in offset order */
  log(topic: string, partition: number): Buffer[] {
    return this.topics.get(topic)?.partitions[partition] ?? [];
  }

  private endOffset(log: Buffer[]): number {
    const last = log[log.length - 1];
    return last ? new RecordBatch(last).nextOffset : 0;
  }

  private install(): void {
    const b = this.broker;
    b.handlers[ApiKey.Metadata] = (req) => {
      const shape: Record<string, { partitions: number; topicId: string }> = {};
      for (const t of this.topics.values()) shape[t.name] = { partitions: t.partitions.length, topicId: t.topicId };
      return metadataResponse(b, shape, requestedTopics(req.body));
    };
    b.handlers[ApiKey.CreateTopics] = (req) => {
      const body = req.body as { topics: { name: string; numPartitions: number; configs: { name: string; value: string | null }[] }[] };
      return {
        topics: body.topics.map((t) => {
          if (this.topics.has(t.name)) {
            return { name: t.name, errorCode: 36, errorMessage: `Topic '${t.name}' already exists.`, numPartitions: -1, replicationFactor: -1 };
          }
          const configs: Record<string, string> = {};
          for (const c of t.configs) if (c.value !== null) configs[c.name] = c.value;
          const created = this.createTopic(t.name, t.numPartitions < 0 ? 1 : t.numPartitions, configs);
          return { name: t.name, topicId: created.topicId, errorCode: 0, numPartitions: created.partitions.length, replicationFactor: 1, configs: [] };
        }),
      };
    };
    b.handlers[ApiKey.DeleteTopics] = (req) => {
      const body = req.body as { topicNames: string[]; topics: { name: string | null }[] };
      const names = req.version >= 6 ? body.topics.map((t) => t.name ?? '') : body.topicNames;
      return {
        responses: names.map((name) => {
          const existed = this.topics.delete(name);
          return { name, errorCode: existed ? 0 : 3 };
        }),
      };
    };
    b.handlers[ApiKey.DescribeConfigs] = (req) => {
      const body = req.body as { resources: { resourceType: number; resourceName: string }[] };
      return {
        results: body.resources.map((r) => {
          const t = this.topics.get(r.resourceName);
          if (!t) return { errorCode: 3, errorMessage: 'no such topic', resourceType: r.resourceType, resourceName: r.resourceName, configs: [] };
          const all: Record<string, string> = { 'cleanup.policy': 'delete', 'retention.ms': '604800000', ...t.configs };
          return {
            errorCode: 0,
            resourceType: r.resourceType,
            resourceName: r.resourceName,
            configs: Object.entries(all).map(([name, value]) => ({
              name,
              value,
              readOnly: false,
              configSource: name in t.configs ? 1 : 5,
              isSensitive: false,
              synonyms: [],
              configType: 2,
            })),
          };
        }),
      };
    };
    b.handlers[ApiKey.IncrementalAlterConfigs] = (req) => {
      const body = req.body as { resources: { resourceType: number; resourceName: string; configs: { name: string; configOperation: number; value: string | null }[] }[] };
      return {
        responses: body.resources.map((r) => {
          const t = this.topics.get(r.resourceName);
          if (!t) return { errorCode: 3, resourceType: r.resourceType, resourceName: r.resourceName };
          for (const c of r.configs) {
            if (c.configOperation === 0 && c.value !== null) t.configs[c.name] = c.value;
            if (c.configOperation === 1) delete t.configs[c.name];
          }
          return { errorCode: 0, resourceType: r.resourceType, resourceName: r.resourceName };
        }),
      };
    };
    b.handlers[ApiKey.ListOffsets] = (req) => {
      const body = req.body as { topics: { name: string; partitions: { partitionIndex: number; timestamp: number }[] }[] };
      return {
        topics: body.topics.map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => {
            const log = this.topics.get(t.name)?.partitions[p.partitionIndex];
            if (!log) return { partitionIndex: p.partitionIndex, errorCode: 3, offset: -1, timestamp: -1 };
            const offset = p.timestamp === -2 ? 0 : this.endOffset(log);
            return { partitionIndex: p.partitionIndex, errorCode: 0, offset, timestamp: -1, leaderEpoch: 0 };
          }),
        })),
      };
    };
    b.handlers[ApiKey.Produce] = (req) => {
      const body = req.body as { acks: number; topicData: { name: string; topicId: string; partitionData: { index: number; records: Buffer | null }[] }[] };
      const responses = body.topicData.map((td) => {
        const t = this.topics.get(td.name) ?? [...this.topics.values()].find((x) => x.topicId === td.topicId);
        return {
          name: td.name,
          topicId: td.topicId,
          partitionResponses: td.partitionData.map((pd) => {
            const log = t?.partitions[pd.index];
            if (!log || !pd.records) return { index: pd.index, errorCode: 3, baseOffset: -1 };
            const baseOffset = this.endOffset(log);
            let next = baseOffset;
            for (const batch of recordBatches(pd.records)) {
              const copy = Buffer.from(batch.bytes);
              writeInt64(copy, next, 0);
              next += batch.lastOffsetDelta + 1;
              log.push(copy);
            }
            return { index: pd.index, errorCode: 0, baseOffset, logAppendTimeMs: -1, logStartOffset: 0 };
          }),
        };
      });
      return body.acks === 0 ? null : { responses };
    };
    b.handlers[ApiKey.Fetch] = async (req) => {
      const body = req.body as {
        maxWaitMs: number;
        topics: { topic: string; topicId: string; partitions: { partition: number; fetchOffset: number }[] }[];
      };
      const answer = () =>
        body.topics.map((ft) => {
          const t = this.topics.get(ft.topic) ?? [...this.topics.values()].find((x) => x.topicId === ft.topicId);
          return {
            topic: ft.topic,
            topicId: ft.topicId,
            partitions: ft.partitions.map((fp) => {
              const log = t?.partitions[fp.partition];
              if (!log) return { partitionIndex: fp.partition, errorCode: 3, highWatermark: -1, records: null };
              const hw = this.endOffset(log);
              if (fp.fetchOffset > hw) return { partitionIndex: fp.partition, errorCode: 1, highWatermark: hw, records: null };
              const batches = log.filter((bb) => new RecordBatch(bb).nextOffset > fp.fetchOffset);
              return {
                partitionIndex: fp.partition,
                errorCode: 0,
                highWatermark: hw,
                lastStableOffset: hw,
                logStartOffset: 0,
                records: batches.length > 0 ? Buffer.concat(batches) : null,
              };
            }),
          };
        });
      let res = answer();
      const empty = res.every((t) => t.partitions.every((p) => !p.records && p.errorCode === 0));
      if (empty && body.maxWaitMs > 0) {
        await new Promise((r) => setTimeout(r, Math.min(body.maxWaitMs, 200)));
        res = answer();
      }
      return { responses: res };
    };
  }
}
