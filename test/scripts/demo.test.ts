// `npm run demo` (scripts/demo.ts) end to end: two broker processes, two shadow links, a short burst of produce,
// lag back to 0, a per-topic failover, then both brokers stopped and their directories removed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../helpers/peers.js';

const DEMO = join(REPO_ROOT, 'dist', 'scripts', 'demo.js');
const TIMEOUT_MS = 40_000;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runDemo(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [DEMO, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    // SIGINT, as Ctrl-C would: the demo stops its brokers before exiting
    const timer = setTimeout(() => {
      child.kill('SIGINT');
      reject(new Error(`the demo did not finish within ${TIMEOUT_MS} ms:\n${stdout}\n${stderr}`));
    }, TIMEOUT_MS);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm run demo', () => {
  it('replicates both ways until lag is 0, fails a_orders over alone, and cleans up', { timeout: TIMEOUT_MS + 5_000 }, async () => {
    const run = await runDemo(['--seconds', '4']);
    const out = run.stdout;
    assert.equal(run.code, 0, `demo exited with ${run.code}:\n${out}\n${run.stderr}`);

    // live tables were printed while producing
    assert.match(out, /t=\ds {2}produced: a_orders \d+, a_payments \d+, b_inventory \d+/);

    // lag back to 0 after producing stopped: each row of the last table before the failover has shadow HWM =
    // source HWM > 0 and lag 0, for both links and all five partitions
    const caughtUp = out.slice(out.indexOf('== 5.'), out.indexOf('== 6.'));
    const rows = caughtUp.split('\n').filter((l) => /^\s+from-[ab] \(on [AB]\)/.test(l));
    assert.equal(rows.length, 5, caughtUp);
    for (const row of rows) {
      const [, , , , partition, sourceHwm, shadowHwm, lag] = row.trim().split(/\s+/);
      assert.ok(Number(sourceHwm) > 0, row);
      assert.equal(shadowHwm, sourceHwm, row);
      assert.equal(lag, '0', row);
      assert.match(partition!, /^\d$/);
    }
    assert.match(caughtUp, /lag 0 on every partition: all \d+ records produced are on the other broker/);

    // the failover of one topic: a_orders writable on B, a_payments still refused with a message naming the link
    assert.match(out, /a_orders: FAILED_OVER/);
    assert.match(out, /a_orders on B accepted the record: partition 0, offset \d+/);
    assert.match(out, /POLICY_VIOLATION: .*topic 'a_payments' is shadowed by link 'from-a' and read-only until failover/);
    assert.match(out, /npx umbra shadow failover from-a --topic a_orders --admin-url http:\/\/127\.0\.0\.1:\d+/);

    // the final statuses come from the CLI: a_orders failed over, a_payments and b_inventory still shadowed
    assert.match(out, /a_orders +FAILED_OVER +0 /);
    assert.match(out, /a_payments +ACTIVE +0 /);
    assert.match(out, /b_inventory +ACTIVE +0 /);

    // both brokers stopped and their directories removed
    const brokers = [...out.matchAll(/broker [AB]: Kafka \S+, admin \S+ \(pid (\d+), log (\S+)\)/g)];
    assert.equal(brokers.length, 2, out);
    for (const [, pid, log] of brokers) {
      assert.equal(alive(Number(pid)), false, `broker pid ${pid} still running`);
      assert.equal(existsSync(log!), false, `${log} not removed`);
    }
  });
});
