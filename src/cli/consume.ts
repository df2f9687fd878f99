// `umbra consume TOPIC`: prints records as they arrive. Without --group it reads the partitions directly; with
// --group it joins that consumer group (and commits what it printed). Stops after -n records, after
// --timeout-ms without a new record, or on Ctrl-C.
import { Command, Option } from 'commander';
import { Consumer, type ConsumerRecord } from '../client/consumer.js';
import { CliError, action, out, parseIntOption, withClient, withClientOptions, type ClientCommandOptions } from './common.js';

interface ConsumeOptions extends ClientCommandOptions {
  fromBeginning?: boolean;
  group?: string;
  count?: number;
  partition?: number;
  offset?: number;
  timeoutMs?: number;
  printKey?: boolean;
  isolation: 'read_uncommitted' | 'read_committed';
}

function text(b: Buffer | null): string | null {
  return b === null ? null : b.toString('utf8');
}

export function formatRecord(r: ConsumerRecord, format: 'text' | 'json', printKey: boolean): string {
  if (format === 'json') {
    return JSON.stringify({
      topic: r.topic,
      partition: r.partition,
      offset: r.offset,
      timestamp: r.timestamp,
      key: text(r.key),
      value: text(r.value),
      headers: r.headers.map((h) => ({ key: h.key, value: text(h.value) })),
    });
  }
  const value = text(r.value) ?? '';
  return printKey ? `${text(r.key) ?? ''}\t${value}` : value;
}

/** Moves each partition back to its first record that was returned but not printed. */
function rewindUnprinted(consumer: Consumer, unprinted: readonly ConsumerRecord[]): void {
  const first = new Map<string, ConsumerRecord>();
  for (const r of unprinted) {
    const k = `${r.topic}\0${r.partition}`;
    const seen = first.get(k);
    if (!seen || r.offset < seen.offset) first.set(k, r);
  }
  for (const r of first.values()) consumer.seek(r.topic, r.partition, r.offset);
}

export function consumeCommand(): Command {
  return withClientOptions(
    new Command('consume')
      .description('print records of a topic (text: one value per line; json: one object per line)')
      .argument('<topic>', 'topic to consume')
      .option('--from-beginning', 'start at the earliest offset when there is no committed offset')
      .option('-g, --group <group>', 'consume as a member of this consumer group, committing offsets')
      .option('-n, --count <n>', 'exit after this many records', parseIntOption('--count', 1))
      .option('-p, --partition <n>', 'only this partition', parseIntOption('--partition', 0))
      .option('-o, --offset <offset>', 'start at this offset (needs --partition)', parseIntOption('--offset', 0))
      .option('-t, --timeout-ms <ms>', 'exit when no record arrives for this long', parseIntOption('--timeout-ms', 0))
      .option('--print-key', 'text format: print key<TAB>value')
      .addOption(new Option('--isolation <level>', 'isolation level').choices(['read_uncommitted', 'read_committed']).default('read_uncommitted')),
    ['text', 'json'],
  ).action(
    action(async (topic: string, o: ConsumeOptions) => {
      if (o.offset !== undefined && o.partition === undefined) throw new CliError('--offset needs --partition', 2);
      const format = o.format === 'json' ? 'json' : 'text';
      await withClient(o, async (client) => {
        const meta = await client.topic(topic);
        if (o.partition !== undefined && !meta.partitions.some((p) => p.partition === o.partition)) {
          throw new CliError(`topic '${topic}' has no partition ${o.partition} (it has ${meta.partitions.length})`);
        }
        const consumer = new Consumer(client, {
          ...(o.group !== undefined ? { groupId: o.group } : {}),
          resetPolicy: o.fromBeginning ? 'earliest' : 'latest',
          isolationLevel: o.isolation === 'read_committed' ? 1 : 0,
          sessionTimeoutMs: 10_000,
          heartbeatIntervalMs: 1000,
        });
        if (o.group !== undefined && o.partition === undefined) {
          consumer.subscribe([topic]);
        } else {
          const parts = o.partition !== undefined ? [o.partition] : meta.partitions.map((p) => p.partition);
          consumer.assign(parts.map((partition) => ({ topic, partition, ...(o.offset !== undefined ? { offset: o.offset } : {}) })));
        }

        let stop = false;
        const onSignal = (): void => {
          stop = true;
        };
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        let printed = 0;
        let lastRecordAt = Date.now();
        try {
          while (!stop) {
            const wait = o.timeoutMs !== undefined ? Math.max(0, Math.min(500, lastRecordAt + o.timeoutMs - Date.now())) : 500;
            const records = await consumer.poll(wait);
            for (let i = 0; i < records.length; i++) {
              const r = records[i]!;
              out(formatRecord(r, format, o.printKey ?? false));
              printed++;
              if (o.count !== undefined && printed >= o.count) {
                // the group commits what was printed, not the rest of what this poll returned
                if (o.group !== undefined) rewindUnprinted(consumer, records.slice(i + 1));
                stop = true;
                break;
              }
            }
            if (records.length > 0) lastRecordAt = Date.now();
            if (o.timeoutMs !== undefined && Date.now() - lastRecordAt >= o.timeoutMs) break;
          }
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          await consumer.close();
        }
      });
    }),
  );
}
