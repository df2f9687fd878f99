// `umbra topic create|list|describe|delete|alter-config`: topic administration over the Kafka API
// (CreateTopics, Metadata, ListOffsets, DescribeConfigs, DeleteTopics, IncrementalAlterConfigs), so it works
// against Umbra and any other Kafka-API cluster alike.
import { Command } from 'commander';
import { ZERO_UUID } from '../protocol/primitives.js';
import { AlterConfigOp, ConfigResourceType, OffsetSpec, type ConfigEntry, type KafkaClient } from '../client/client.js';
import { ErrorCode, kafkaError, throwIfError } from '../client/errors.js';
import {
  CliError,
  action,
  collect,
  parseIntOption,
  parseKeyValue,
  printResult,
  table,
  withClient,
  withClientOptions,
  type ClientCommandOptions,
} from './common.js';

/** DescribeConfigs ConfigSource names. */
const CONFIG_SOURCES: Record<number, string> = {
  0: 'UNKNOWN',
  1: 'TOPIC_CONFIG',
  2: 'DYNAMIC_BROKER_CONFIG',
  3: 'DYNAMIC_DEFAULT_BROKER_CONFIG',
  4: 'STATIC_BROKER_CONFIG',
  5: 'DEFAULT_CONFIG',
  6: 'DYNAMIC_BROKER_LOGGER_CONFIG',
};

export function configSourceName(source: number): string {
  return CONFIG_SOURCES[source] ?? `SOURCE_${source}`;
}

function parseConfigs(list: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list ?? []) {
    const [k, v] = parseKeyValue(kv);
    out[k] = v;
  }
  return out;
}

export function topicCommand(): Command {
  const topic = new Command('topic').description('create, list, describe, delete topics and change their configs');

  withClientOptions(
    topic
      .command('create')
      .description('create a topic')
      .argument('<name>', 'topic name')
      .option('-p, --partitions <n>', 'number of partitions (default: the broker\'s num.partitions)', parseIntOption('--partitions', 1, 1_000_000))
      .option('-r, --replication-factor <n>', 'replication factor (default: the broker\'s default)', parseIntOption('--replication-factor', 1, 32767))
      .option('-c, --config <key=value>', 'topic config, repeatable', collect)
      .option('--if-not-exists', 'succeed when the topic already exists'),
  ).action(
    action(async (name: string, o: ClientCommandOptions & { partitions?: number; replicationFactor?: number; config?: string[]; ifNotExists?: boolean }) => {
      const configs = parseConfigs(o.config);
      await withClient(o, async (client) => {
        const [r] = await client.createTopics([
          { name, numPartitions: o.partitions ?? -1, replicationFactor: o.replicationFactor ?? -1, configs },
        ]);
        if (!r) throw new CliError('the broker returned no result');
        if (r.errorCode === ErrorCode.TOPIC_ALREADY_EXISTS && o.ifNotExists) {
          printResult(o.format, { name, created: false }, () => `Topic '${name}' already exists`);
          return;
        }
        throwIfError(r.errorCode, `topic '${name}'`, r.errorMessage);
        const data = {
          name: r.name,
          topicId: r.topicId === ZERO_UUID ? null : r.topicId,
          partitions: r.numPartitions,
          replicationFactor: r.replicationFactor,
          created: true,
        };
        printResult(
          o.format,
          data,
          () =>
            `Created topic '${r.name}'` +
            (r.numPartitions > 0 ? ` with ${r.numPartitions} partition${r.numPartitions === 1 ? '' : 's'}` : '') +
            (r.replicationFactor > 0 ? `, replication factor ${r.replicationFactor}` : '') +
            (data.topicId ? ` (id ${data.topicId})` : ''),
        );
      });
    }),
  );

  withClientOptions(
    topic
      .command('list')
      .alias('ls')
      .description('list topics')
      .option('-i, --internal', 'include internal topics (__consumer_offsets, …)'),
  ).action(
    action(async (o: ClientCommandOptions & { internal?: boolean }) => {
      await withClient(o, async (client) => {
        const md = await client.metadata(null);
        const topics = md.topics
          .filter((t) => t.errorCode === ErrorCode.NONE && (o.internal || !t.isInternal))
          .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
          .map((t) => ({
            name: t.name,
            topicId: t.topicId === ZERO_UUID ? null : t.topicId,
            partitions: t.partitions.length,
            replicationFactor: t.partitions[0]?.replicas.length ?? 0,
            internal: t.isInternal,
          }));
        printResult(o.format, topics, () =>
          topics.length === 0
            ? 'No topics'
            : table(
                ['NAME', 'PARTITIONS', 'REPLICAS', 'ID'],
                topics.map((t) => [t.name + (t.internal ? ' (internal)' : ''), t.partitions, t.replicationFactor, t.topicId]),
              ),
        );
      });
    }),
  );

  withClientOptions(
    topic.command('describe').description('show a topic: partitions with leaders and offsets, and its configs').argument('<name>', 'topic name'),
  ).action(
    action(async (name: string, o: ClientCommandOptions) => {
      await withClient(o, async (client) => {
        const data = await describeTopic(client, name);
        printResult(o.format, data, () => renderDescribe(data));
      });
    }),
  );

  withClientOptions(topic.command('delete').alias('rm').description('delete a topic and its data').argument('<name>', 'topic name')).action(
    action(async (name: string, o: ClientCommandOptions) => {
      await withClient(o, async (client) => {
        const [r] = await client.deleteTopics([name]);
        if (!r) throw new CliError('the broker returned no result');
        throwIfError(r.errorCode, `topic '${name}'`, r.errorMessage);
        printResult(o.format, { name, deleted: true }, () => `Deleted topic '${name}'`);
      });
    }),
  );

  withClientOptions(
    topic
      .command('alter-config')
      .description('set or delete topic configs (IncrementalAlterConfigs)')
      .argument('<name>', 'topic name')
      .option('-c, --config <key=value>', 'set a config, repeatable', collect)
      .option('-d, --delete <key>', 'remove a topic-level override (back to the default), repeatable', collect)
      .option('--dry-run', 'validate only'),
  ).action(
    action(async (name: string, o: ClientCommandOptions & { config?: string[]; delete?: string[]; dryRun?: boolean }) => {
      const set = parseConfigs(o.config);
      const del = o.delete ?? [];
      if (Object.keys(set).length === 0 && del.length === 0) throw new CliError('nothing to change: give --config key=value and/or --delete key', 2);
      for (const k of del) if (k in set) throw new CliError(`'${k}' is both set and deleted`, 2);
      await withClient(o, async (client) => {
        const [r] = await client.incrementalAlterConfigs(
          [
            {
              type: ConfigResourceType.TOPIC,
              name,
              ops: [
                ...Object.entries(set).map(([k, v]) => ({ name: k, op: AlterConfigOp.SET, value: v })),
                ...del.map((k) => ({ name: k, op: AlterConfigOp.DELETE, value: null })),
              ],
            },
          ],
          { validateOnly: o.dryRun ?? false },
        );
        if (!r) throw new CliError('the broker returned no result');
        throwIfError(r.errorCode, `topic '${name}'`, r.errorMessage);
        printResult(o.format, { name, set, deleted: del, validateOnly: o.dryRun ?? false }, () => {
          const parts = [
            ...Object.entries(set).map(([k, v]) => `${k}=${v}`),
            ...del.map((k) => `${k} (deleted)`),
          ];
          return `${o.dryRun ? 'Validated' : 'Updated'} topic '${name}': ${parts.join(', ')}`;
        });
      });
    }),
  );

  return topic;
}

export interface TopicDescription {
  name: string;
  topicId: string | null;
  internal: boolean;
  partitions: {
    partition: number;
    leader: number;
    leaderEpoch: number;
    replicas: number[];
    isr: number[];
    logStartOffset: number | null;
    highWatermark: number | null;
    error: string | null;
  }[];
  configs: { name: string; value: string | null; source: string; readOnly: boolean; sensitive: boolean }[];
}

export async function describeTopic(client: KafkaClient, name: string): Promise<TopicDescription> {
  const md = await client.metadata([name]);
  const t = md.topics.find((x) => x.name === name);
  if (!t) throw kafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic '${name}'`);
  throwIfError(t.errorCode, `topic '${name}'`);
  const specs = t.partitions.filter((p) => p.leader >= 0);
  const [earliest, latest, configs] = await Promise.all([
    client.listOffsetsMany(specs.map((p) => ({ topic: name, partition: p.partition, timestamp: OffsetSpec.EARLIEST }))),
    client.listOffsetsMany(specs.map((p) => ({ topic: name, partition: p.partition, timestamp: OffsetSpec.LATEST }))),
    client.describeConfigs([{ type: ConfigResourceType.TOPIC, name }], { includeSynonyms: false }),
  ]);
  const offsetOf = (list: typeof earliest, partition: number): number | null => {
    const r = list.find((x) => x.partition === partition);
    return r && r.errorCode === ErrorCode.NONE ? r.offset : null;
  };
  const cfg = configs[0];
  if (cfg) throwIfError(cfg.errorCode, `configs of topic '${name}'`, cfg.errorMessage);
  return {
    name,
    topicId: t.topicId === ZERO_UUID ? null : t.topicId,
    internal: t.isInternal,
    partitions: t.partitions.map((p) => ({
      partition: p.partition,
      leader: p.leader,
      leaderEpoch: p.leaderEpoch,
      replicas: p.replicas,
      isr: p.isr,
      logStartOffset: offsetOf(earliest, p.partition),
      highWatermark: offsetOf(latest, p.partition),
      error: p.errorCode === ErrorCode.NONE ? null : kafkaError(p.errorCode).message,
    })),
    configs: (cfg?.configs ?? [])
      .map((c: ConfigEntry) => ({
        name: c.name,
        value: c.isSensitive ? null : c.value,
        source: configSourceName(c.source),
        readOnly: c.readOnly,
        sensitive: c.isSensitive,
      }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
  };
}

function renderDescribe(d: TopicDescription): string {
  const lines = [
    `Topic:       ${d.name}${d.internal ? ' (internal)' : ''}`,
    `Topic id:    ${d.topicId ?? '-'}`,
    `Partitions:  ${d.partitions.length}`,
    `Replicas:    ${d.partitions[0]?.replicas.length ?? 0}`,
    '',
    table(
      ['PARTITION', 'LEADER', 'EPOCH', 'REPLICAS', 'ISR', 'LOG-START', 'HIGH-WATERMARK'],
      d.partitions.map((p) => [
        p.partition,
        p.leader,
        p.leaderEpoch,
        p.replicas.join(','),
        p.isr.join(','),
        p.logStartOffset,
        p.highWatermark === null && p.error ? p.error : p.highWatermark,
      ]),
    ),
    '',
    d.configs.length === 0 ? 'No configs' : table(['CONFIG', 'VALUE', 'SOURCE'], d.configs.map((c) => [c.name, c.sensitive ? '(sensitive)' : c.value, c.source])),
  ];
  return lines.join('\n');
}
