// `umbra produce TOPIC`: each line of stdin becomes one record; prints a summary when stdin ends.
import { createInterface } from 'node:readline';
import { Command, Option } from 'commander';
import { Compression, type CompressionName } from '../protocol/compression.js';
import { Producer, type RecordMetadata } from '../client/producer.js';
import { CliError, action, collect, parseIntOption, parseKeyValue, printResult, withClient, withClientOptions, type ClientCommandOptions } from './common.js';

const ACKS: Record<string, number> = { all: -1, '-1': -1, '1': 1, '0': 0 };

interface ProduceOptions extends ClientCommandOptions {
  key?: string;
  keySeparator?: string;
  acks: string;
  partition?: number;
  compression: CompressionName;
  header?: string[];
  lingerMs: number;
}

/** How many records may wait for acknowledgement before reading more of stdin. */
const MAX_OUTSTANDING = 20_000;

export function produceCommand(): Command {
  return withClientOptions(
    new Command('produce')
      .description('produce records read from stdin, one per line')
      .argument('<topic>', 'topic to produce to')
      .addOption(new Option('-k, --key <key>', 'key of every record').conflicts('keySeparator'))
      .option('-K, --key-separator <sep>', 'split each line at the first SEP into key and value')
      .addOption(new Option('-a, --acks <acks>', 'acknowledgements to wait for').choices(['all', '-1', '1', '0']).default('all'))
      .option('-p, --partition <n>', 'partition (default: murmur2 of the key, round-robin without one)', parseIntOption('--partition', 0))
      .addOption(new Option('-z, --compression <codec>', 'batch compression').choices(Object.keys(Compression)).default('none'))
      .option('-H, --header <key=value>', 'header added to every record, repeatable', collect)
      .option('--linger-ms <ms>', 'how long a batch waits for more lines', parseIntOption('--linger-ms', 0, 60_000), 5),
    ['text', 'json', 'yaml'],
  ).action(
    action(async (topic: string, o: ProduceOptions) => {
      const acks = ACKS[o.acks]!;
      const headers = (o.header ?? []).map((h) => {
        const [key, value] = parseKeyValue(h, 'header');
        return { key, value };
      });
      if (o.keySeparator === '') throw new CliError('--key-separator must not be empty', 2);
      await withClient(o, async (client) => {
        await client.topic(topic); // fail fast on an unknown topic, before reading stdin
        const producer = new Producer(client, { acks, compression: Compression[o.compression], lingerMs: o.lingerMs });
        const perPartition = new Map<number, { count: number; firstOffset: number; lastOffset: number }>();
        let firstError: Error | null = null;
        let sent = 0;
        let outstanding: Promise<void>[] = [];
        const record = (m: RecordMetadata): void => {
          const s = perPartition.get(m.partition);
          if (!s) perPartition.set(m.partition, { count: 1, firstOffset: m.offset, lastOffset: m.offset });
          else {
            s.count++;
            if (m.offset >= 0) {
              s.firstOffset = s.firstOffset < 0 ? m.offset : Math.min(s.firstOffset, m.offset);
              s.lastOffset = Math.max(s.lastOffset, m.offset);
            }
          }
        };
        const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
        for await (const line of lines) {
          if (firstError) break;
          let key: string | null = o.key ?? null;
          let value = line;
          if (o.keySeparator !== undefined) {
            const i = line.indexOf(o.keySeparator);
            if (i >= 0) {
              key = line.slice(0, i);
              value = line.slice(i + o.keySeparator.length);
            }
          }
          sent++;
          outstanding.push(
            producer
              .send({
                topic,
                ...(o.partition !== undefined ? { partition: o.partition } : {}),
                key,
                value,
                ...(headers.length > 0 ? { headers } : {}),
              })
              .then(record, (err: unknown) => {
                firstError ??= err instanceof Error ? err : new Error(String(err));
              }),
          );
          if (outstanding.length >= MAX_OUTSTANDING) {
            await Promise.all(outstanding);
            outstanding = [];
          }
        }
        await producer.close();
        await Promise.all(outstanding);
        if (firstError) throw firstError;
        const partitions = [...perPartition]
          .sort(([a], [b]) => a - b)
          .map(([partition, s]) => ({ partition, records: s.count, ...(acks !== 0 ? { firstOffset: s.firstOffset, lastOffset: s.lastOffset } : {}) }));
        printResult(o.format, { topic, records: sent, acks: o.acks, partitions }, () => {
          if (sent === 0) return `No records produced to '${topic}' (stdin was empty)`;
          const detail = partitions
            .map((p) => `partition ${p.partition}: ${p.records}` + (p.firstOffset !== undefined ? ` (offsets ${p.firstOffset}-${p.lastOffset})` : ''))
            .join(', ');
          return `Produced ${sent} record${sent === 1 ? '' : 's'} to '${topic}'${acks === 0 ? ' (acks=0: not confirmed)' : ''}: ${detail}`;
        });
      });
    }),
  );
}
