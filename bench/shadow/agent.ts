// An agent process of the shadow benchmark (forked by bench/shadow/main.ts, twice: the load generator and the
// monitor). It runs the jobs it is sent over IPC; a monitor job runs until the orchestrator sends a stop for it.

import type { AgentReply, AgentRequest, AgentResult } from './jobs.js';
import { Monitor } from './monitor.js';
import { runShadowProduce } from './produce.js';

if (!process.send) {
  process.stderr.write('bench/shadow/agent.js is started by bench/shadow/main.js (it takes its jobs over IPC)\n');
  process.exit(2);
}

const monitors = new Map<number, Monitor>();

function reply(msg: AgentReply): void {
  process.send!(msg);
}

process.on('message', (msg: AgentRequest) => {
  if ('stop' in msg) {
    monitors.get(msg.stop)?.stop();
    return;
  }
  const { id, job } = msg;
  let run: Promise<AgentResult>;
  if (job.kind === 'monitor') {
    const m = new Monitor(job);
    monitors.set(id, m);
    run = m.run().finally(() => monitors.delete(id));
  } else {
    run = runShadowProduce(job);
  }
  run.then(
    (result) => reply({ id, ok: true, result }),
    (err: unknown) => reply({ id, ok: false, error: (err as Error).stack ?? String(err) }),
  );
});
process.on('disconnect', () => process.exit(0));
