// The entry point of a benchmark script: run main, print a usage error briefly and anything else with its stack,
// and stop the processes the run started however it ends (also on SIGINT/SIGTERM).

export function runBench(name: string, main: () => Promise<void>, cleanupSync: () => void): void {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      process.stderr.write(`\n${sig}: stopping the processes this run started\n`);
      cleanupSync();
      process.exit(130);
    });
  }
  main()
    .then(() => cleanupSync())
    .catch((err) => {
      const e = err as Error;
      process.stderr.write(e.name === 'UsageError' ? `${name}: ${e.message} (see --help)\n` : `${name}: ${e.stack ?? e}\n`);
      cleanupSync();
      process.exit(1);
    });
}
