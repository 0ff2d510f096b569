/** Runs the real `mailkeep` CLI in a child process, as a user would (bin/mailkeep.js via tsx). */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const BIN = path.resolve(import.meta.dirname, '../../bin/mailkeep.js');

/**
 * How long one CLI run may take before it counts as hung: longer than any run in the suite (the
 * 150 MB message backups take well under a minute), so only a real hang reaches it. A hung child
 * is killed, so it never outlives its test or keeps the worker from exiting.
 */
export const CLI_DEADLINE_MS = 120_000;

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The last stdout line parsed as JSON (with --json). */
  json: Record<string, unknown> | null;
  lines: Record<string, unknown>[];
}

export function startCli(
  args: string[],
  env: Record<string, string> = {},
  opts: { deadlineMs?: number } = {},
): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const deadlineMs = opts.deadlineMs ?? CLI_DEADLINE_MS;
  const done = new Promise<CliResult>((resolve, reject) => {
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, deadlineMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (hung) {
        reject(new Error(`mailkeep ${args[0] ?? ''} did not finish within ${deadlineMs} ms and was killed\n--- stdout\n${stdout}\n--- stderr\n${stderr}`));
        return;
      }
      const lines = stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      resolve({ code, signal, stdout, stderr, json: lines.at(-1) ?? null, lines });
    });
  });
  return { child, done };
}

export async function runCli(args: string[], env: Record<string, string> = {}, opts: { deadlineMs?: number } = {}): Promise<CliResult> {
  return await startCli(args, env, opts).done;
}
