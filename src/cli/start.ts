// `umbra start`: runs a broker in this process until SIGTERM/SIGINT. Configuration comes from defaults, then
// --config FILE, then flags (src/config.ts); the broker logs its own "listening" line.
import { Command, Option } from 'commander';
import { ConfigError, loadConfig, type BrokerConfig, type ConfigOverrides } from '../config.js';
import { LOG_LEVELS, type LogLevel } from '../log.js';
import { collect, describeError, parseIntOption, parseKeyValue } from './common.js';

interface StartOptions {
  config?: string;
  dataDir?: string;
  listen?: string;
  adminListen?: string;
  advertisedHost?: string;
  nodeId?: number;
  logLevel?: LogLevel;
  set?: string[];
  sasl?: boolean;
  authorization?: 'none' | 'acl';
  superuser?: string[];
}

interface RunningBroker {
  port: number;
  adminPort: number;
  stop(): Promise<void>;
}

// The broker module is imported only by `umbra start`, so the topic/produce/consume commands do not pay for
// loading storage, groups and the admin API.
async function startBroker(config: BrokerConfig): Promise<RunningBroker> {
  const broker = await import('../broker/broker.js');
  return broker.startBroker(config);
}

export function overridesFrom(o: StartOptions): ConfigOverrides {
  const broker: Record<string, string> = {};
  for (const kv of o.set ?? []) {
    const [k, v] = parseKeyValue(kv, '--set');
    broker[k] = v;
  }
  return {
    ...(o.nodeId !== undefined ? { node_id: o.nodeId } : {}),
    ...(o.listen !== undefined ? { listen: o.listen } : {}),
    ...(o.adminListen !== undefined ? { admin_listen: o.adminListen } : {}),
    ...(o.advertisedHost !== undefined ? { advertised_host: o.advertisedHost } : {}),
    ...(o.dataDir !== undefined ? { data_dir: o.dataDir } : {}),
    ...(o.logLevel !== undefined ? { log_level: o.logLevel } : {}),
    ...(o.sasl ? { sasl: true } : {}),
    ...(o.authorization !== undefined ? { authorization: o.authorization } : {}),
    ...(o.superuser !== undefined ? { superusers: o.superuser } : {}),
    ...(Object.keys(broker).length > 0 ? { broker } : {}),
  };
}

export function startCommand(): Command {
  return new Command('start')
    .description('run a broker (Kafka listener and admin API) until SIGTERM or SIGINT')
    .option('-c, --config <file>', 'YAML or JSON config file (flags override it)')
    .option('-d, --data-dir <dir>', 'data directory (default ./data)')
    .option('-l, --listen <host:port>', 'Kafka listener (default 127.0.0.1:9092; port 0 = any free port)')
    .option('--admin-listen <host:port>', 'admin REST API and /metrics (default 127.0.0.1:9644)')
    .option('--advertised-host <host>', 'host clients are told to connect to (default: the listen host)')
    .option('--node-id <n>', 'node id (default 0)', parseIntOption('--node-id', 0, 2147483647))
    .addOption(new Option('--log-level <level>', 'log level (default info)').choices([...LOG_LEVELS]))
    .option('-s, --set <key=value>', 'Kafka-named broker config (e.g. num.partitions=3), repeatable', collect)
    .option('--sasl', 'every Kafka listener requires SASL authentication (SCRAM-SHA-256/512, PLAIN)')
    .addOption(new Option('--authorization <mode>', 'acl: enforce ACLs with Kafka semantics (default none)').choices(['none', 'acl']))
    .option('--superuser <name>', 'a user every ACL check allows, repeatable', collect)
    .action(async (o: StartOptions) => {
      let config: BrokerConfig;
      try {
        config = loadConfig({ ...(o.config !== undefined ? { file: o.config } : {}), overrides: overridesFrom(o) });
      } catch (err) {
        process.stderr.write(`umbra: ${err instanceof ConfigError ? err.message : describeError(err)}\n`);
        process.exitCode = 2;
        return;
      }
      let broker: RunningBroker;
      try {
        broker = await startBroker(config);
      } catch (err) {
        process.stderr.write(`umbra: cannot start the broker: ${describeError(err)}\n`);
        process.exitCode = 1;
        return;
      }
      await new Promise<void>((resolve) => {
        let stopping = false;
        const shutdown = (signal: NodeJS.Signals): void => {
          if (stopping) return;
          stopping = true;
          void broker.stop().then(
            () => resolve(),
            (err: unknown) => {
              process.stderr.write(`umbra: error while stopping after ${signal}: ${describeError(err)}\n`);
              process.exitCode = 1;
              resolve();
            },
          );
        };
        process.once('SIGTERM', shutdown);
        process.once('SIGINT', shutdown);
      });
      // open handles (timers, idle sockets) must not keep a stopped broker's process alive
      process.exit(process.exitCode ?? 0);
    });
}
