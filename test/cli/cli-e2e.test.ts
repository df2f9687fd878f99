// The `umbra` CLI end to end against an Umbra broker: the shared CLI scenario against a broker started in this
// process (127.0.0.1, port 0, data in a temp folder), and `umbra start` itself as a child process that stops
// cleanly on SIGTERM.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { startBroker } from '../../src/broker/broker.js';
import { cliScenario } from './scenario.js';
import { UMBRA_BIN, runCli, show } from './run-cli.js';

describe('umbra CLI against an Umbra broker', () => {
  let dir: string;
  let broker: Awaited<ReturnType<typeof startBroker>>;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'umbra-cli-e2e-'));
    const config = loadConfig({
      overrides: {
        listen: '127.0.0.1:0',
        admin_listen: '127.0.0.1:0',
        data_dir: join(dir, 'data'),
        log_level: 'silent',
        broker: { 'group.initial.rebalance.delay.ms': 0 },
      },
    });
    broker = await startBroker(config);
  });
  after(async () => {
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  cliScenario(() => `127.0.0.1:${broker.port}`, 'umbra');
});

describe('umbra start', () => {
  it('runs a broker until SIGTERM, then exits 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'umbra-start-'));
    const child = spawn(
      process.execPath,
      [UMBRA_BIN, 'start', '--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', '--data-dir', join(dir, 'data'), '--node-id', '3'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      let stderr = '';
      const port = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no listening line in 20 s:\n${stderr}`)), 20_000);
        child.stderr.setEncoding('utf8').on('data', (d: string) => {
          stderr += d;
          const m = /"kafka":"127\.0\.0\.1:(\d+)"/.exec(stderr);
          if (m) {
            clearTimeout(timer);
            resolve(Number(m[1]));
          }
        });
        child.once('exit', (code) => reject(new Error(`umbra start exited (${code}) before listening:\n${stderr}`)));
      });
      const list = await runCli(['topic', 'list', '-i', '-f', 'json', '--brokers', `127.0.0.1:${port}`]);
      assert.equal(list.code, 0, show(list));
      assert.ok((JSON.parse(list.stdout) as { name: string }[]).some((t) => t.name === '__consumer_offsets'), show(list));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      assert.equal(await exited, 0, stderr);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits 2 naming the key of an invalid config', async () => {
    const r = await runCli(['start', '--set', 'num.partitions=zero']);
    assert.equal(r.code, 2, show(r));
    assert.match(r.stderr, /num\.partitions/);
  });
});
