/**
 * A scenario bridges a call to an outgoing VoxEngine WebSocket, against a real ws peer on 127.0.0.1:0.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { frameClock } from '../graph/clock.js';
import { ULAW_8K } from '../media/format.js';
import { ulawDecode, ulawEncode } from '../media/g711.js';
import { initMedia } from '../media/index.js';
import { dominantFrequency, pcm16Bytes, pcm16View, sine } from '../media/pcm.js';
import { defineScenario, startSession } from './runtime.js';
import type { Session } from './session.js';
import { MemoryTransport } from './testing.js';
import type { PeerConnection } from './testPeer.js';
import { PeerServer } from './testPeer.js';
import type { WebSocket } from './voxengine.js';
import { AppEvents, CallEvents, VoxEngine, WebSocketEvents } from './voxengine.js';

interface Bridge {
  session: Session;
  transport: MemoryTransport;
  peer: PeerConnection;
  ws: WebSocket;
  marks: { event: string; at: number; payload?: unknown }[];
}

let server: PeerServer;

before(async () => {
  await initMedia();
  server = await PeerServer.start();
});
after(() => server.close());

/** Starts a session whose scenario bridges the call to the peer; resolves once the peer got `start`. */
async function bridge(): Promise<Bridge> {
  const marks: Bridge['marks'] = [];
  let socket: WebSocket | undefined;
  const transport = new MemoryTransport(ULAW_8K);
  const scenario = defineScenario('bridge', () => {
    VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
      const ws = VoxEngine.createWebSocket(server.url);
      socket = ws;
      ws.addEventListener(WebSocketEvents.MEDIA_STARTED, (e) =>
        marks.push({ event: 'started', at: performance.now(), payload: e }),
      );
      ws.addEventListener(WebSocketEvents.MEDIA_ENDED, (e) =>
        marks.push({ event: 'ended', at: performance.now(), payload: e }),
      );
      // Set after the listener: on* properties still run first, as in VoxEngine.
      ws.onmediastarted = () => marks.push({ event: 'onmediastarted', at: performance.now() });
      ws.addEventListener(WebSocketEvents.MESSAGE, (e) => {
        if (e.text !== 'clear') return;
        marks.push({ event: 'clear', at: performance.now(), payload: transport.sent.length });
        ws.clearMediaBuffer();
      });
      call.addEventListener(CallEvents.Connected, () => VoxEngine.sendMediaBetween(call, ws));
      call.answer();
    });
  });
  const session = startSession(scenario, { transport });
  const peer = await server.nextConnection();
  await peer.waitForEvent('start');
  return { session, transport, peer, ws: socket!, marks };
}

function ulawTone(freq: number, ms: number): Uint8Array {
  return ulawEncode(sine(freq, 8000, ms, 0.5));
}

describe('bridging a call to an outgoing WebSocket', () => {
  it('sends start, 20 ms media chunks with chunk and timestamp, then stop when the call ends', async () => {
    const { session, transport, peer } = await bridge();
    const start = peer.events('start')[0]!;
    assert.deepEqual(start.start.mediaFormat, { encoding: 'PCM8', sampleRate: 8000, channels: 1 });
    assert.equal(start.sequenceNumber, 0);

    transport.injectAudio(ulawTone(440, 1000));
    await peer.waitFor((m) => m.json?.event === 'media' && m.json.media.chunk === 49);
    const media = peer.events('media');
    assert.equal(media.length, 50);
    media.forEach((m, i) => {
      assert.equal(m.sequenceNumber, i + 1, 'sequenceNumber +1 per message after start');
      assert.equal(m.media.chunk, i);
      assert.equal(m.media.timestamp, i * 160, 'timestamp counts samples');
      assert.equal(Buffer.from(m.media.payload, 'base64').length, 320, '20 ms of PCM16 at 8 kHz');
    });
    const pcm = Buffer.concat(media.map((m) => Buffer.from(m.media.payload, 'base64')));
    assert.ok(Math.abs(dominantFrequency(pcm16View(pcm), 8000) - 440) < 5);

    // Listen before hanging up: the session may end before the peer's `stop` is read.
    const terminated = once(session, 'terminated');
    transport.hangup();
    const stop = await peer.waitForEvent('stop');
    assert.deepEqual(stop.json!.stop.mediaInfo, { bytesSent: 50 * 320, duration: 1000 });
    assert.equal(stop.json!.sequenceNumber, 51);
    await terminated;
    assert.equal((await peer.closed).code, 1000, 'the session closes its sockets');
    assert.equal(frameClock.running, false, 'no paced stream is left on the clock');
  });

  it("plays the peer's 5x-fast audio into the call in real time, then MEDIA_ENDED 1 s after it stops", async () => {
    const { session, transport, peer, marks } = await bridge();
    peer.sendStart('reply', 'PCM8', 8000, { voice: 'test' });
    const tone = pcm16Bytes(sine(1000, 8000, 1000));
    const sendStarted = performance.now();
    await peer.sendAudio('reply', tone, 320, 20, 5);
    const sendMs = performance.now() - sendStarted;
    while (!marks.some((m) => m.event === 'ended')) await sleep(50);

    assert.equal(transport.sent.length, 50, 'every frame reached the caller');
    const playMs = transport.sentAt.at(-1)! - transport.sentAt[0]!;
    assert.ok(sendMs < 600, `the peer sent 1 s of audio in ${sendMs.toFixed(0)} ms`);
    assert.ok(playMs >= 0.8 * (1000 - 4 * 20), `played out over ${playMs.toFixed(0)} ms, i.e. in real time`);
    const heard = ulawDecode(transport.sentAudio());
    assert.ok(Math.abs(dominantFrequency(heard, 8000) - 1000) < 10);

    const order = marks.map((m) => m.event).filter((e) => e.includes('started'));
    assert.deepEqual(order, ['onmediastarted', 'started'], 'the on* property runs before the listeners');
    const started = marks.filter((m) => m.event === 'started');
    const ended = marks.filter((m) => m.event === 'ended');
    assert.equal(started.length, 1);
    assert.equal(ended.length, 1);
    assert.deepEqual(
      { ...(started[0]!.payload as object), websocket: undefined },
      { websocket: undefined, tag: 'reply', encoding: 'PCM8', customParameters: { voice: 'test' } },
    );
    const silence = ended[0]!.at - transport.sentAt.at(-1)!;
    assert.ok(silence >= 800 && silence < 3000, `MEDIA_ENDED ${silence.toFixed(0)} ms after the last frame`);
    const info = ended[0]!.payload as { tag: string; mediaInfo: { duration: number } };
    assert.equal(info.tag, 'reply');
    assert.equal(info.mediaInfo.duration, 1000);
    session.terminate();
  });

  it('clearMediaBuffer() drops what is buffered within one frame and ends the stream once', async () => {
    const { session, transport, peer, marks } = await bridge();
    peer.sendStart(undefined, 'PCM8', 8000);
    await peer.sendAudio(undefined, pcm16Bytes(sine(500, 8000, 3000)), 3200);
    while (transport.sent.length < 15) await sleep(10);
    peer.sendText('clear');
    while (!marks.some((m) => m.event === 'clear')) await sleep(5);
    const atClear = marks.find((m) => m.event === 'clear')!.payload as number;
    await sleep(300);
    assert.ok(
      transport.sent.length - atClear <= 1,
      `${transport.sent.length - atClear} frames after the clear`,
    );
    assert.ok(transport.sent.length < 40, 'most of the 150 buffered frames were dropped');
    assert.equal(marks.filter((m) => m.event === 'ended').length, 1, 'MEDIA_ENDED once, for the flush');
    session.terminate();
  });
  it('MEDIA_ENDED follows a stop as soon as the buffered audio has played', async () => {
    const { session, transport, peer, marks } = await bridge();
    peer.sendStart('tts', 'PCM16', 16000);
    await peer.sendAudio('tts', pcm16Bytes(sine(800, 16000, 300)), 640);
    peer.sendStop('tts');
    while (!marks.some((m) => m.event === 'ended')) await sleep(10);
    const ended = marks.find((m) => m.event === 'ended')!;
    assert.equal(transport.sent.length, 15, '300 ms at 20 ms a frame, resampled to the caller');
    const after = ended.at - transport.sentAt.at(-1)!;
    assert.ok(
      after < 500,
      `MEDIA_ENDED ${after.toFixed(0)} ms after the last frame: no 1 s wait after a stop`,
    );
    assert.deepEqual((ended.payload as { mediaInfo: unknown }).mediaInfo, { duration: 300 });
    session.terminate();
  });
});
