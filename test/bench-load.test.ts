/**
 * Smoke test of the load benchmark's harness (bench/load), in-process and short: the echo server speaks valid
 * OpenAI Realtime events (the official client's schemas accept them), frames come back and their round trip is
 * measured, by marker (mu-law) and by tone-burst onset (PCM16), directly, through the floor relay, and through
 * the agents-js Twilio peer. No timings are asserted: only that things flow and get measured.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  burstFrame,
  burstPattern,
  markedUlawFrame,
  OnsetDetector,
  readMarker,
} from '../bench/load/common.js';
import { type EchoServer, startEchoServer } from '../bench/load/echoServer.js';
import { runStep } from '../bench/load/loadgen.js';
import { startPeer } from '../bench/load/peer.js';
import { categorise } from '../bench/load/perfcat.js';
import { startRelay } from '../bench/load/relay.js';
import { officialClientProblem, RawRealtimeClient, type ServerEvent } from '../src/emulators/testing.js';

const step = { calls: 2, rampMs: 20, warmupMs: 200, holdMs: 600, graceMs: 150 };

describe('bench/load harness', () => {
  let echo: EchoServer;
  before(async () => {
    echo = await startEchoServer();
  });
  after(async () => {
    await echo.close();
  });

  test('markers and onsets survive an identity path', () => {
    assert.equal(readMarker(markedUlawFrame(123_456)), 123_456);
    assert.equal(readMarker(new Uint8Array(160)), -1);
    const p = burstPattern(16000);
    const onsets: number[] = [];
    const detector = new OnsetDetector(16000, (_t, f) => onsets.push(f));
    for (let i = 0; i < 5; i++) detector.push(p.silence, i * 20); // an onset needs 60 ms of quiet before it
    for (let i = 0; i < 40; i++) detector.push(burstFrame(p, i), 100 + i * 20);
    assert.deepEqual(onsets, [0, 1, 2, 3], 'each burst found once, named by its frequency');
  });

  test('the echo server sends events the official client accepts, and echoes appends byte for byte', async () => {
    const client = await RawRealtimeClient.connect(`${echo.url}?model=bench-smoke`);
    client.send({
      type: 'session.update',
      session: {
        type: 'realtime',
        audio: { input: { format: { type: 'audio/pcmu' } }, output: { format: { type: 'audio/pcmu' } } },
      },
    });
    const audio = markedUlawFrame(7).toString('base64');
    client.send({ type: 'input_audio_buffer.append', audio });
    const delta = (await client.next('response.output_audio.delta')) as ServerEvent & { delta: string };
    assert.equal(delta.delta, audio);
    for (const event of client.events) assert.equal(await officialClientProblem(event), null, event.type);
    assert.ok('bench-smoke' in echo.takeFirstFrames());
    client.close();
  });

  test('direct callers: frames come back and are measured (marker and onset)', async () => {
    for (const audio of ['ulaw', 'pcm16-24k'] as const) {
      const r = await runStep({
        ...step,
        target: { system: 'direct', protocol: 'openai', audio, url: echo.url },
        tagPrefix: `smoke-direct-${audio}`,
      });
      assert.equal(r.streaming, 2);
      assert.ok(r.framesSent > 0 && r.framesReceived > 0, `${audio}: frames flow`);
      assert.ok(r.rtt.n > 0, `${audio}: round trips measured`);
      assert.equal(r.method, audio === 'ulaw' ? 'marker' : 'onset');
    }
  });

  test('the floor relay passes frames unchanged', async () => {
    const relay = await startRelay(echo.server.wsUrl);
    try {
      const r = await runStep({
        ...step,
        target: {
          system: 'floor',
          protocol: 'openai',
          audio: 'ulaw',
          url: `ws://127.0.0.1:${relay.port}/v1/realtime`,
        },
        tagPrefix: 'smoke-floor',
      });
      assert.ok(r.framesReceived > 0 && r.rtt.n > 0);
      assert.equal(r.unmatched, 0);
    } finally {
      await relay.close();
    }
  });

  test('the agents-js Twilio peer bridges Twilio callers to the echo server', async () => {
    const peer = await startPeer(echo.url);
    try {
      const r = await runStep({
        ...step,
        warmupMs: 500,
        target: {
          system: 'peer',
          protocol: 'twilio',
          audio: 'ulaw',
          url: `ws://127.0.0.1:${peer.port}/media`,
        },
        tagPrefix: 'smoke-peer',
      });
      assert.deepEqual(peer.errors, []);
      assert.ok(r.framesReceived > 0 && r.rtt.n > 0, 'frames come back through the official client');
    } finally {
      await peer.close();
    }
  });
});

describe('bench/load/perfcat.ts', () => {
  // `perf script -F pid,ip,sym` with -g: a pid line, then the stack leaf first, a blank line between samples.
  const script = [
    ' 101 ',
    '\tffffffff81e56931 sock_def_readable',
    '\tffffffff8200d98f tcp_sendmsg_locked',
    '',
    ' 101 ',
    '\t7f21340dcd97 JS:*emitMedia file:///repo/src/graph/unit.ts:1:726',
    '\t7f21340fc0a4 JS:*writeOrBuffer node:internal/streams/writable:548:23',
    '',
    ' 202 ',
    '\tffffffff81e66bf5 tcp_sendmsg_locked',
    '\tffffffff816b8e18 vfs_write',
    '',
    ' 202 ',
    '\t14d1546 v8::internal::JsonParser<unsigned char>::ScanJsonString',
    '',
    ' 303 ',
    '\t14d1546 Builtins_KeyedLoadIC_Megamorphic',
    '',
  ].join('\n');

  test('splits each listed pid’s samples by kind of work and ignores other pids', () => {
    const counts = categorise(script, ['101', '202']);
    assert.deepEqual(Object.fromEntries(counts.get('101')!), {
      'kernel: waking the peer process': 1,
      'JS: voxgate (src/)': 1,
    });
    assert.deepEqual(Object.fromEntries(counts.get('202')!), { 'kernel: send': 1, 'V8: JSON': 1 });
    assert.equal(counts.has('303'), false);
  });
});
