// Entry point of the `umbra` command (bin/umbra.js imports this module): parses argv and runs the command.
// Exit codes: 0 success, 1 a failed operation (the message on stderr names the Kafka error), 2 a usage error.
import { CommanderError } from 'commander';
import { buildProgram } from './program.js';

// `umbra consume … | head`: a closed pipe is a normal way for output to end
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

const program = buildProgram();
try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // commander has already printed the message (or the help)
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else {
    process.stderr.write(`umbra: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
