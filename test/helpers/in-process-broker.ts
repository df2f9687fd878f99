// An in-process broker over a data directory, for tests that need to reach inside it: a StorageFs that slows or
// fails file operations, or a restart over the same data (with or without that filesystem). Comes with a client.
import { startBroker, type RunningBroker } from '../../src/broker/broker.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { KafkaClient } from '../../src/client/client.js';
import type { StorageFs } from '../../src/storage/types.js';

export class InProcessBroker {
  broker: RunningBroker | undefined;
  client: KafkaClient | undefined;

  constructor(
    readonly dir: string,
    private readonly clientId: string,
  ) {}

  get port(): number {
    return this.broker!.port;
  }

  /** Starts the broker (over `storageFs` when given, with extra Kafka-named broker configs) on a free port, and a client of it. */
  async start(storageFs?: StorageFs, brokerConfigs: Record<string, string | number> = {}): Promise<KafkaClient> {
    const config = loadConfig({
      overrides: {
        data_dir: this.dir,
        listen: '127.0.0.1:0',
        admin_listen: '127.0.0.1:0',
        log_level: 'silent',
        broker: { 'offsets.topic.num.partitions': 1, ...brokerConfigs },
      },
    });
    this.broker = await startBroker(config, { logger: createLogger({ level: 'silent' }), ...(storageFs ? { storageFs } : {}) });
    this.client = new KafkaClient({ brokers: `127.0.0.1:${this.broker.port}`, clientId: this.clientId, retries: 0 });
    return this.client;
  }

  /** Stops the client and the broker (the data stays); start() again to restart. */
  async stop(): Promise<void> {
    await this.client?.close();
    await this.broker?.stop();
    this.client = undefined;
    this.broker = undefined;
  }
}
