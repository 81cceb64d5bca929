/**
 * `voxgate serve` and `voxgate call` as processes: with the echo agent the reply WAV is the input sent back,
 * SIGTERM stops the server cleanly, and the start-up and connection errors say what to do. Real processes, real
 * sockets. (The default, local agent's path is test/agent.e2e.test.ts.)
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseWav } from '../src/media/wav.js';
import { type CliRun, runCli, waitForOutput as waitFor_ } from './helpers/cli.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const _bin = join(root, 'bin/voxgate.js');
const asset = join(root, 'assets/hello.wav');
const dir = mkdtempSync(join(tmpdir(), 'voxgate-e2e-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[], env: NodeJS.ProcessEnv = {}): CliRun {
  return runCli(args, {
    ...process.env,
    OPENAI_API_KEY: '',
    ULTRAVOX_API_KEY: '',
    VOXGATE_LOG_LEVEL: 'warn',
    ...env,
  });
}

function waitForOutput(r: CliRun, pattern: RegExp, ms = 15000): Promise<RegExpMatchArray> {
  return waitFor_(r, pattern, ms);
}

describe('voxgate serve + voxgate call', () => {
  test('the echo agent: the shipped WAV comes back as the reply WAV; SIGTERM stops the server', async () => {
    const server = run(['serve', '--port', '0', '--agent', 'echo']);
    try {
      const url = (await waitForOutput(server, /listening on (http:\/\/127\.0\.0\.1:\d+)/))[1]!;
      assert.match(server.stdout(), /voxgate call --server http:\/\/127\.0\.0\.1:\d+ --in \S*hello\.wav/);
      const out = join(dir, 'reply.wav');
      const call = run([
        'call',
        ...['--server', url, '--in', asset, '--out', out, '--grace', '300', '--greeting-wait', '0'],
      ]);
      assert.equal(await call.exit, 0, call.stderr());
      assert.match(call.stdout(), /status: in-progress/);
      assert.match(call.stdout(), /call ended: customer-ended-call/);
      const sent = parseWav(readFileSync(asset));
      const reply = parseWav(readFileSync(out));
      assert.equal(reply.format, sent.format);
      assert.ok(
        reply.data.length >= sent.data.length * 0.9,
        `reply is ${reply.data.length} of ${sent.data.length} bytes`,
      );
      // The echo sends back exactly what it got: the reply is the input from its first sample, then the silence
      // the caller's line carried until it hung up.
      const n = Math.min(reply.data.length, sent.data.length);
      assert.ok(Buffer.from(reply.data.subarray(0, n)).equals(Buffer.from(sent.data.subarray(0, n))));
      assert.ok(reply.data.subarray(n).every((b) => b === 0));
      server.child.kill('SIGTERM');
      assert.equal(await server.exit, 0, server.stderr());
      assert.match(server.stdout(), /stopped/);
    } finally {
      server.child.kill('SIGKILL');
    }
  });

  test('refuses a public host without a key, saying why', async () => {
    const server = run(['serve', '--host', '0.0.0.0', '--port', '0']);
    assert.equal(await server.exit, 1);
    assert.match(server.stderr(), /refusing to listen on 0\.0\.0\.0 without an API key/);
    assert.match(server.stderr(), /--insecure/);
  });

  test('voxgate call says when no server is there', async () => {
    const call = run(['call', '--server', 'http://127.0.0.1:9', '--in', asset]);
    assert.equal(await call.exit, 1);
    assert.match(call.stderr(), /cannot reach http:\/\/127\.0\.0\.1:9 .*is `voxgate serve` running/);
  });
});
