// MirrorMaker 2 (org.apache.kafka.connect.mirror.MirrorMaker, "dedicated mode", as connect-mirror-maker.sh runs it),
// the replication tool users would pick instead of a shadow link (SPEC.md §1). Run from the same Maven Central jars
// as the Apache Kafka broker (test/peers/fetch-peers.sh), replicating one direction: source -> target.
//
//   const mm2 = await startMirrorMaker({ source: a.bootstrap, target: b.bootstrap, topics: 'orders.*' });
//   ... remote topics appear on the target as `source.orders` (or `orders` with identity: true) ...
//   await mm2.stop();

import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { javaCommand, javaPeersLayout, requirePeers } from '../../test/helpers/peers.js';

export interface MirrorMakerOptions {
  source: string;
  target: string;
  /** Topic regex list to replicate (MM2 `topics`). Default '.*' (MM2 itself leaves out internal topics). */
  topics?: string;
  /** Consumer-group regex list whose offsets are checkpointed and synced. Default '.*'. */
  groups?: string;
  /** Keep topic names (IdentityReplicationPolicy) instead of prefixing them with `source.`. */
  identity?: boolean;
  /** Extra mm2.properties entries (override the defaults). */
  config?: Record<string, string | number | boolean>;
  heapMb?: number;
  /** Folder for mm2.properties and mm2.log. Default: a temp dir, removed on stop. */
  dir?: string;
}

export interface MirrorMaker {
  readonly pid: number | undefined;
  readonly dir: string;
  readonly logFile: string;
  /** The remote topic name MM2 gives a source topic on the target. */
  remoteTopic(topic: string): string;
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

export async function startMirrorMaker(opts: MirrorMakerOptions): Promise<MirrorMaker> {
  requirePeers(['kafka']);
  const layout = javaPeersLayout();
  const ownsDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'umbra-mm2-'));
  const configFile = join(dir, 'mm2.properties');
  const logFile = join(dir, 'mm2.log');

  const props: Record<string, string | number | boolean> = {
    clusters: 'source, target',
    'source.bootstrap.servers': opts.source,
    'target.bootstrap.servers': opts.target,
    'source->target.enabled': true,
    'target->source.enabled': false,
    'source->target.topics': opts.topics ?? '.*',
    'source->target.groups': opts.groups ?? '.*',
    // Single-node clusters: every topic MM2 creates (remote topics and its own internal ones) has one replica.
    'replication.factor': 1,
    'checkpoints.topic.replication.factor': 1,
    'heartbeats.topic.replication.factor': 1,
    'offset-syncs.topic.replication.factor': 1,
    'offset.storage.replication.factor': 1,
    'status.storage.replication.factor': 1,
    'config.storage.replication.factor': 1,
    // Benchmarks and tests want changes picked up in seconds, not MM2's default ten minutes.
    'refresh.topics.interval.seconds': 1,
    'refresh.groups.interval.seconds': 1,
    'emit.checkpoints.interval.seconds': 1,
    'sync.group.offsets.enabled': true,
    'sync.group.offsets.interval.seconds': 1,
    'sync.topic.acls.enabled': false,
    ...(opts.identity ? { 'replication.policy.class': 'org.apache.kafka.connect.mirror.IdentityReplicationPolicy' } : {}),
    ...opts.config,
  };
  writeFileSync(configFile, `${Object.entries(props).map(([k, v]) => `${k} = ${String(v)}`).join('\n')}\n`);

  const fd = openSync(logFile, 'a');
  const proc: ChildProcess = spawn(
    javaCommand(),
    [
      `-Xmx${opts.heapMb ?? 512}m`,
      '-XX:+UseG1GC',
      '-Djava.awt.headless=true',
      `-Dlog4j2.configurationFile=${layout.brokerLog4j}`,
      '-cp',
      join(layout.libsDir, '*'),
      'org.apache.kafka.connect.mirror.MirrorMaker',
      configFile,
      '--clusters',
      'target',
    ],
    { cwd: dir, stdio: ['ignore', fd, fd] },
  );
  closeSync(fd);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const onExit = (): void => {
    proc.kill('SIGKILL'); // only the MM2 JVM this module started
  };
  process.once('exit', onExit);

  const alive = (): boolean => proc.exitCode === null && proc.signalCode === null;
  const logTail = (lines = 40): string =>
    existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-lines - 1).join('\n') : '(no log)';

  return {
    get pid() {
      return alive() ? proc.pid : undefined;
    },
    dir,
    logFile,
    remoteTopic: (topic) => (opts.identity ? topic : `source.${topic}`),
    logTail,
    async stop() {
      process.removeListener('exit', onExit);
      if (alive()) {
        proc.kill('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const grace = new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), 30_000);
        });
        const timedOut = await Promise.race([exited.then(() => false), grace]);
        clearTimeout(timer);
        if (timedOut) {
          proc.kill('SIGKILL');
          await exited;
        }
      }
      if (ownsDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
