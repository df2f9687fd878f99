// Runs a real Apache Kafka 4.1 (single-node KRaft) in the foreground, for hands-on comparison, demos and
// benchmarks against a source cluster:
//
//   npx tsc -p tsconfig.json && node dist/bench/kafka/start-kafka.js [--port 9192] [--dir ./kafka-data] [--heap-mb 1024]
//
// Prints the bootstrap address, then runs until Ctrl-C / SIGTERM, when it stops the broker it started
// (and removes its data dir unless --dir was given).

import { parseArgs } from 'node:util';
import { startKafka } from '../../test/helpers/kafka.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    dir: { type: 'string' },
    'heap-mb': { type: 'string' },
  },
});

const kafka = await startKafka({
  port: values.port ? Number(values.port) : undefined,
  dir: values.dir,
  heapMb: values['heap-mb'] ? Number(values['heap-mb']) : undefined,
});
process.stdout.write(
  `Apache Kafka up in ${kafka.startupMs} ms\n  bootstrap: ${kafka.bootstrap}\n  cluster id: ${kafka.clusterId}\n  pid: ${kafka.pid}\n  log: ${kafka.logFile}\n  data: ${kafka.dataDir}\nCtrl-C to stop\n`,
);

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  process.stdout.write('stopping Apache Kafka…\n');
  kafka.stop().then(
    () => process.exit(0),
    (e: unknown) => {
      process.stderr.write(`${String(e)}\n`);
      process.exit(1);
    },
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
