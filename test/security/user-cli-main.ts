// A stand-in for `umbra` with only the `user` commands, run as a child process by the CLI tests until the lead
// adds registerUserCommands() to src/cli/program.ts. Same conventions as src/cli/main.ts: exit 2 on usage errors.
import { Command, CommanderError } from 'commander';
import { registerUserCommands } from '../../src/cli/user.js';

const program = new Command('umbra');
registerUserCommands(program);
const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
for (const c of all(program)) c.exitOverride();
try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exitCode = err.exitCode === 0 ? 0 : 2;
  else {
    process.stderr.write(`umbra: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
