/** Running the real `bin/voxgate.js` as a child process in end-to-end tests. */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));
export const bin = fileURLToPath(new URL('../../bin/voxgate.js', import.meta.url));

export interface CliRun {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

/** Starts `voxgate <args>` with exactly `env`, collecting its output. */
export function runCli(args: string[], env: NodeJS.ProcessEnv): CliRun {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exit };
}

/** Waits until stdout matches `pattern`; fails with both streams if it never does or the process exits. */
export async function waitForOutput(r: CliRun, pattern: RegExp, ms: number): Promise<RegExpMatchArray> {
  const until = Date.now() + ms;
  for (;;) {
    const match = r.stdout().match(pattern);
    if (match !== null) return match;
    if (Date.now() > until || r.child.exitCode !== null) {
      assert.fail(`no ${pattern} in output.\nstdout: ${r.stdout()}\nstderr: ${r.stderr()}`);
    }
    await sleep(20);
  }
}
