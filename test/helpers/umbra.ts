// Starts an Umbra broker as a real child process (`node bin/umbra.js start`) on 127.0.0.1 port 0 with a
// temporary data directory, and learns its ports from the "listening" log line. Tests stop the brokers they
// start; `kill()` is kill -9 for crash tests, and `restart()` reopens the same data directory.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './peers.js';

export interface UmbraOptions {
  dataDir?: string;
  /** extra `umbra start` flags */
  args?: string[];
  /** Kafka-named broker configs written to a config file (`broker:` map) */
  brokerConfigs?: Record<string, string | number | boolean>;
  /** more top-level config file text (YAML), e.g. a `listeners:` list; `--listen` still moves the first listener */
  configYaml?: string;
  env?: Record<string, string>;
}

export interface UmbraBroker {
  bootstrap: string;
  host: string;
  port: number;
  adminUrl: string;
  /** bound port of each listener, by name */
  listeners: Record<string, number>;
  dataDir: string;
  pid: number;
  /** everything the broker wrote to stderr so far */
  logs(): string;
  /** SIGTERM and wait for exit */
  stop(): Promise<number | null>;
  /** SIGKILL (kill -9) and wait for exit */
  kill(): Promise<void>;
  /** start again on the same data directory and the same ports */
  restart(): Promise<UmbraBroker>;
  /** stop (if running) and delete the data directory */
  destroy(): Promise<void>;
}

const STARTUP_TIMEOUT_MS = 30_000;

export async function startUmbra(opts: UmbraOptions = {}): Promise<UmbraBroker> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'umbra-test-'));
  return launch(dataDir, opts, '127.0.0.1:0', '127.0.0.1:0');
}

function configFileOf(dataDir: string): string {
  return `${dataDir}.umbra.yaml`;
}

async function launch(dataDir: string, opts: UmbraOptions, listen: string, adminListen: string): Promise<UmbraBroker> {
  const args = [join(REPO_ROOT, 'bin', 'umbra.js'), 'start', '--data-dir', dataDir, '--listen', listen, '--admin-listen', adminListen, ...(opts.args ?? [])];
  if (opts.brokerConfigs || opts.configYaml) {
    const { writeFileSync } = await import('node:fs');
    // beside the data directory, one per broker (a restart rewrites it); destroy() removes it
    const file = configFileOf(dataDir);
    const lines = opts.brokerConfigs ? ['broker:', ...Object.entries(opts.brokerConfigs).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`)] : [];
    writeFileSync(file, lines.join('\n') + '\n' + (opts.configYaml ?? ''));
    args.push('--config', file);
  }
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const ready = await new Promise<{ host: string; port: number; admin: string; listeners: Record<string, number> }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`umbra did not start within ${STARTUP_TIMEOUT_MS} ms:\n${output}`)), STARTUP_TIMEOUT_MS);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      for (const line of output.split('\n')) {
        if (!line.includes('"kafka"')) continue;
        try {
          const rec = JSON.parse(line) as { kafka?: string; admin?: string; listeners?: string[] };
          if (rec.kafka && rec.admin) {
            clearTimeout(timer);
            const i = rec.kafka.lastIndexOf(':');
            const listeners: Record<string, number> = {};
            for (const l of rec.listeners ?? []) {
              const m = /^([^:]+):\/\/.*:(\d+)$/.exec(l);
              if (m) listeners[m[1]!] = Number(m[2]);
            }
            resolve({ host: rec.kafka.slice(0, i), port: Number(rec.kafka.slice(i + 1)), admin: rec.admin, listeners });
            return;
          }
        } catch {
          // not a JSON line
        }
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`umbra exited with ${code} before it was ready:\n${output}`));
    });
  });

  const broker: UmbraBroker = {
    bootstrap: `${ready.host}:${ready.port}`,
    host: ready.host,
    port: ready.port,
    adminUrl: `http://${ready.admin}`,
    listeners: ready.listeners,
    dataDir,
    pid: child.pid!,
    logs: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
    async restart() {
      await broker.stop();
      return launch(dataDir, opts, broker.bootstrap, ready.admin);
    },
    async destroy() {
      await broker.kill();
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(configFileOf(dataDir), { force: true });
    },
  };
  return broker;
}
