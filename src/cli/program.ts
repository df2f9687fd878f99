// The `umbra` command tree. main.ts runs it; tests can build it without running anything.
import { registerUserCommands } from './user.js';
import { registerAclCommands } from './acl.js';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { consumeCommand } from './consume.js';
import { produceCommand } from './produce.js';
import { shadowCommand } from './shadow.js';
import { startCommand } from './start.js';
import { topicCommand } from './topic.js';

/** The version in package.json (found by walking up from this file, in src/ or dist/src/). */
function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) {
      try {
        return (JSON.parse(readFileSync(p, 'utf8')) as { version?: string }).version ?? '0.0.0';
      } catch {
        return '0.0.0';
      }
    }
    dir = dirname(dir);
  }
  return '0.0.0';
}

function forEachCommand(cmd: Command, fn: (c: Command) => void): void {
  fn(cmd);
  for (const sub of cmd.commands) forEachCommand(sub, fn);
}

export function buildProgram(): Command {
  const program = new Command('umbra')
    .description('Umbra: a Kafka-API-compatible broker with shadow linking')
    .version(packageVersion(), '-V, --version')
    .addCommand(startCommand())
    .addCommand(topicCommand())
    .addCommand(produceCommand())
    .addCommand(consumeCommand())
    .addCommand(shadowCommand());
  registerUserCommands(program);
  registerAclCommands(program);
  forEachCommand(program, (c) => {
    c.showHelpAfterError('(add --help for usage)');
    // usage errors exit with 2, help and --version with 0 (see main.ts)
    c.exitOverride();
  });
  return program;
}
