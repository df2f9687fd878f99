// The load generator process (forked by bench/broker.ts): runs one job at a time on request over IPC, so its CPU
// use is its own and the broker under test never shares an event loop with it.

import type { Job, JobReply, JobRequest, JobResult } from './jobs.js';
import { runBlast, runDrain } from './blast.js';
import { runFetch } from './fetch.js';
import { runProduce } from './produce.js';

function run(job: Job): Promise<JobResult> {
  switch (job.kind) {
    case 'produce':
      return runProduce(job);
    case 'fetch':
      return runFetch(job);
    case 'blast':
      return runBlast(job);
    case 'drain':
      return runDrain(job);
  }
}

if (!process.send) {
  process.stderr.write('bench/lib/loadgen.js is started by bench/broker.js (it takes its jobs over IPC)\n');
  process.exit(2);
}

let queue: Promise<void> = Promise.resolve();
process.on('message', (msg: JobRequest) => {
  queue = queue.then(async () => {
    let reply: JobReply;
    try {
      reply = { id: msg.id, ok: true, result: await run(msg.job) };
    } catch (err) {
      reply = { id: msg.id, ok: false, error: (err as Error).stack ?? String(err) };
    }
    process.send!(reply);
  });
});
process.on('disconnect', () => process.exit(0));
