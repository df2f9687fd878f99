// The periodic link task's state machine: ACTIVE on success (with a note), LINK_UNAVAILABLE on transport errors
// (retried with backoff, not at the interval), NOT_RUNNING with the reason when the source lacks an API, FAULTED
// otherwise, PAUSED while paused, and back to ACTIVE by itself.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, KafkaError } from '../../src/protocol/errors.js';
import { PeriodicTask } from '../../src/shadow/task.js';
import { SourceUnsupportedError } from '../../src/shadow/source/types.js';

const quiet = { warn() {}, info() {} };

class ScriptedTask extends PeriodicTask {
  runs = 0;
  constructor(
    private readonly script: (n: number) => Promise<string | void>,
    intervalMs: number,
    readonly pausedFlag = { paused: false },
  ) {
    super('scripted', () => intervalMs, () => pausedFlag.paused, quiet, () => 5);
  }
  protected async run(): Promise<void> {
    this.runs++;
    const note = await this.script(this.runs);
    if (note) this.note = note;
  }
}

async function until(what: string, cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('PeriodicTask', () => {
  it('reports each failure kind with its reason and recovers on the next success', async () => {
    const outcomes: (() => Promise<string | void>)[] = [
      async () => {
        throw new KafkaError(ErrorCode.NETWORK_EXCEPTION, 'connection refused');
      },
      async () => {
        throw new SourceUnsupportedError('DescribeConfigs', 'the source does not offer DescribeConfigs');
      },
      async () => {
        throw new Error('boom');
      },
      async () => 'skipped g1',
    ];
    const seen: string[] = [];
    const task = new ScriptedTask((n) => {
      const out = outcomes[Math.min(n, outcomes.length) - 1]!();
      return out;
    }, 20);
    assert.equal(task.state, 'NOT_RUNNING');
    task.start();
    const record = (): void => {
      const s = task.status();
      const line = `${s.state}:${s.reason}`;
      if (seen[seen.length - 1] !== line) seen.push(line);
    };
    const timer = setInterval(record, 1);
    try {
      await until('four runs', () => task.runs >= 4);
      await until('ACTIVE with the note', () => task.state === 'ACTIVE');
      record();
    } finally {
      clearInterval(timer);
      await task.stop();
    }
    assert.ok(seen.some((l) => l.startsWith('LINK_UNAVAILABLE:source unavailable: connection refused')), seen.join(' | '));
    assert.ok(seen.includes('NOT_RUNNING:the source does not offer DescribeConfigs'), seen.join(' | '));
    assert.ok(seen.includes('FAULTED:boom'), seen.join(' | '));
    assert.equal(seen[seen.length - 1], 'ACTIVE:skipped g1');
    assert.equal(task.status().state, 'NOT_RUNNING', 'stopped');
  });

  it('retries an unavailable source with backoff, well before the interval', async () => {
    let n = 0;
    const task = new ScriptedTask(async () => {
      n++;
      if (n < 3) throw new KafkaError(ErrorCode.NETWORK_EXCEPTION, 'down');
    }, 60_000);
    task.start();
    try {
      await until('three runs despite a one-minute interval', () => n >= 3, 2000);
      assert.equal(task.state, 'ACTIVE');
    } finally {
      await task.stop();
    }
  });

  it('pauses, and runNow resolves after a run that started after the call', async () => {
    const flag = { paused: true };
    const task = new ScriptedTask(async () => {}, 60_000, flag);
    task.start();
    try {
      await until('PAUSED', () => task.state === 'PAUSED');
      assert.equal(task.runs, 0);
      flag.paused = false;
      await task.runNow(2000);
      assert.equal(task.runs, 1);
      assert.equal(task.state, 'ACTIVE');
      await task.runNow(2000);
      assert.equal(task.runs, 2);
    } finally {
      await task.stop();
    }
  });
});
