// Runs `umbra user …` (through test/security/user-cli-main.ts) as a child process with stdin and environment.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), 'user-cli-main.js');

export interface UserCliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function userCli(args: readonly string[], opts: { input?: string; env?: Record<string, string> } = {}): Promise<UserCliResult> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env };
    if (!opts.env?.UMBRA_BROKERS) delete env.UMBRA_BROKERS;
    if (!opts.env?.UMBRA_PASSWORD) delete env.UMBRA_PASSWORD;
    const child = spawn(process.execPath, [MAIN, 'user', ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

export function show(r: UserCliResult): string {
  return `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}
