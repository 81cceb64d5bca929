/**
 * Loading scenarios: a plain-JS VoxEngine scenario runs unchanged in compat mode (per-session top-level state,
 * globals, require(Modules.X)); a TypeScript scenario imports voxgate/voxengine; load errors are clear.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { VoxgateError } from '../errors.js';
import { ErrorCodes } from '../errors.js';
import { frameClock } from '../graph/clock.js';
import { ULAW_8K } from '../media/format.js';
import { ulawDecode, ulawEncode } from '../media/g711.js';
import { initMedia } from '../media/index.js';
import { dominantFrequency, pcm16Bytes, sine } from '../media/pcm.js';
import { registerModule } from './modules/index.js';
import { loadScenario, startSession } from './runtime.js';
import { MemoryTransport } from './testing.js';
import { PeerServer } from './testPeer.js';

const fixtures = resolve(import.meta.dirname, '../../test/fixtures/scenarios');
let server: PeerServer;
let scratch: string;

before(async () => {
  await initMedia();
  server = await PeerServer.start();
  scratch = await mkdtemp(join(tmpdir(), 'voxgate-scenarios-'));
});
after(async () => {
  await server.close();
  await rm(scratch, { recursive: true, force: true });
});

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error('timed out');
    await sleep(10);
  }
}

async function expectLoadError(path: string, pattern: RegExp): Promise<void> {
  await assert.rejects(loadScenario(path), (err: VoxgateError) => {
    assert.equal(err.code, ErrorCodes.SCENARIO_LOAD);
    assert.match(err.message, pattern);
    return true;
  });
}

describe('compat mode: a plain JavaScript VoxEngine scenario', () => {
  it('runs unchanged, with top-level state per session', async () => {
    const scenario = await loadScenario(join(fixtures, 'compat-bridge.js'));
    assert.equal(scenario.kind, 'compat');
    assert.equal(scenario.name, 'compat-bridge');
    assert.equal(await loadScenario(join(fixtures, 'compat-bridge.js')), scenario, 'loaded once');

    const transports = [new MemoryTransport(ULAW_8K), new MemoryTransport(ULAW_8K)];
    const sessions = transports.map((transport, i) =>
      startSession(scenario, { transport, customData: `${server.url}?session=${i}` }),
    );
    const connections = [await server.nextConnection(), await server.nextConnection()];
    const peers = [0, 1].map((i) => connections.find((c) => c.request.url?.endsWith(`session=${i}`))!);
    for (const peer of peers) {
      const hello = JSON.parse((await peer.waitFor((m) => m.text.includes('hello'))).text);
      assert.deepEqual(
        hello,
        { hello: 'compat', calls: 1, state: 'open' },
        'each session counts its own calls',
      );
      assert.equal(peer.request.headers['x-session-calls'], '1');
    }

    const [peer] = peers;
    const [transport] = transports;
    await until(() => peers.every((p) => p.events('start').length === 1));
    transport!.injectAudio(ulawEncode(sine(440, 8000, 200)));
    peers[0]!.sendStart(undefined, 'PCM8', 8000);
    await peers[0]!.sendAudio(undefined, pcm16Bytes(sine(900, 8000, 300)), 320);
    const ended = await peer!.waitFor((m) => m.text.startsWith('media ended'), 4000);
    assert.equal(ended.text, 'media ended 300');
    const heard = transports.map((t) => t.sent.length);
    assert.ok(Math.abs(dominantFrequency(ulawDecode(transports[0]!.sentAudio()), 8000) - 900) < 10);
    assert.equal(heard[1], 0, 'the other session heard nothing');
    assert.ok(peers[0]!.events('media').length >= 10, 'the peer heard the caller');

    const ended0 = once(sessions[0]!, 'terminated');
    peers[0]!.sendText('hangup');
    await ended0;
    assert.equal(transports[0]!.closedWith, 'assistant-ended-call');
    assert.equal((await peers[0]!.closed).code, 1000);
    assert.equal(sessions[1]!.state, 'running', 'the other session goes on');
    const ended1 = once(sessions[1]!, 'terminated');
    transports[1]!.hangup();
    await ended1;
    assert.equal(frameClock.running, false);
  });

  it('require(Modules.X) makes the module global available', async () => {
    registerModule('Echo', { shout: (s: string) => `${s.toUpperCase()}!` });
    const scenario = await loadScenario(join(fixtures, 'compat-require.js'));
    const session = startSession(scenario, { transport: new MemoryTransport() });
    await until(() => session.call.state() === 'CONNECTED');
    assert.equal(session.call.customData(), 'LOADED!');
    session.terminate();
  });

  it('reports syntax errors with the file and line, and unknown modules clearly', async () => {
    const broken = join(scratch, 'broken.js');
    await writeFile(
      broken,
      'VoxEngine.addEventListener(AppEvents.CallAlerting, function (e) {\n  e.call.answer(;\n});\n',
    );
    await expectLoadError(broken, /broken\.js:2/);

    const unknown = join(scratch, 'unknown-module.js');
    await writeFile(
      unknown,
      'require(Modules.ASR);\nVoxEngine.addEventListener(AppEvents.CallAlerting, function () {});\n',
    );
    const scenario = await loadScenario(unknown);
    const session = startSession(scenario, { transport: new MemoryTransport() });
    const [error] = (await once(session, 'error')) as [VoxgateError];
    assert.equal(error.code, ErrorCodes.HANDLER_THREW);
    assert.match(error.message, /require\(undefined\): voxgate has no such module/);
    session.terminate();
  });
});

describe('TypeScript and ES module scenarios', () => {
  it('a .ts scenario importing voxgate/voxengine runs', async () => {
    const scenario = await loadScenario(join(fixtures, 'ts-bridge.ts'));
    assert.equal(scenario.kind, 'module');
    const transport = new MemoryTransport(ULAW_8K);
    const session = startSession(scenario, { transport, customData: server.url, callerid: '+15550100' });
    const peer = await server.nextConnection();
    const hello = JSON.parse((await peer.waitFor((m) => m.text.includes('scenario'))).text);
    assert.deepEqual(hello, { scenario: 'ts', callId: session.call.id(), fromKnown: true });
    const start = (await peer.waitForEvent('start')).json!;
    assert.deepEqual(start.start, {
      mediaFormat: { encoding: 'ULAW', sampleRate: 8000, channels: 1 },
      tag: 'caller',
    });
    const terminated = once(session, 'terminated');
    transport.hangup();
    const ended = await peer.waitFor((m) => m.text.includes('ended'));
    assert.deepEqual(JSON.parse(ended.text), { ended: 'customer-ended-call' });
    await terminated;
  });

  it('fails clearly for a missing file, a module that throws, and a module with no handlers', async () => {
    await expectLoadError(join(scratch, 'nope.ts'), /cannot read scenario .*nope\.ts/);
    const throws = join(scratch, 'throws.mjs');
    await writeFile(throws, "throw new Error('boom at top level');\n");
    await expectLoadError(throws, /boom at top level/);
    const empty = join(scratch, 'empty.mjs');
    await writeFile(empty, 'export const nothing = 1;\n');
    await expectLoadError(empty, /registered no handlers/);
  });
});
