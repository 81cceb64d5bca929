/**
 * WebSocket media: tags route streams to units, every encoding round-trips a tone, OPUS is refused clearly.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { VoxgateError } from '../errors.js';
import { ErrorCodes } from '../errors.js';
import { ULAW_8K } from '../media/format.js';
import { ulawDecode, ulawEncode } from '../media/g711.js';
import { initMedia } from '../media/index.js';
import { dominantFrequency, pcm16Bytes, pcm16View, sine } from '../media/pcm.js';
import { defineScenario, startSession } from './runtime.js';
import { MemoryTransport } from './testing.js';
import { PeerServer } from './testPeer.js';
import type { WebSocketAudioEncoding } from './voxengine.js';
import { AppEvents, CallEvents, VoxEngine, WebSocketEvents } from './voxengine.js';

let server: PeerServer;

before(async () => {
  await initMedia();
  server = await PeerServer.start();
});
after(() => server.close());

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error('timed out');
    await sleep(10);
  }
}

function frequencyOfPayloads(payloads: string[], encoding: string): number {
  const bytes = Buffer.concat(payloads.map((p) => Buffer.from(p, 'base64')));
  if (encoding === 'PCM8') return dominantFrequency(pcm16View(bytes), 8000);
  if (encoding === 'PCM16') return dominantFrequency(pcm16View(bytes), 16000);
  throw new Error(`no decoder for ${encoding} in this test`);
}

describe('WebSocket media streams', () => {
  it('two tags from one peer feed two different units at once', async () => {
    const transport = new MemoryTransport(ULAW_8K);
    const scenario = defineScenario('two-tags', () => {
      VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
        const ws = VoxEngine.createWebSocket(server.url);
        const other = VoxEngine.createWebSocket(`${server.url}?role=target`);
        call.addEventListener(CallEvents.Connected, () => {
          ws.sendMediaTo(call, { tag: 'left' });
          ws.sendMediaTo(other, { tag: 'right' });
        });
        call.answer();
      });
    });
    const session = startSession(scenario, { transport });
    const [a, b] = [await server.nextConnection(), await server.nextConnection()];
    const [source, target] = a.request.url?.includes('role=target') ? [b, a] : [a, b];
    await target.waitForEvent('start');
    source.sendStart('left', 'PCM8', 8000);
    source.sendStart('right', 'PCM16', 16000);
    await Promise.all([
      source.sendAudio('left', pcm16Bytes(sine(600, 8000, 500)), 320),
      source.sendAudio('right', pcm16Bytes(sine(1500, 16000, 500)), 640),
    ]);
    await until(() => transport.sent.length >= 25 && target.events('media').length >= 25);
    assert.ok(
      Math.abs(dominantFrequency(ulawDecode(transport.sentAudio()), 8000) - 600) < 10,
      'the call hears left',
    );
    const heard = frequencyOfPayloads(
      target.events('media').map((m) => m.media.payload),
      'PCM8',
    );
    assert.ok(Math.abs(heard - 1500) < 15, `the other unit hears right (${heard.toFixed(0)} Hz)`);
    session.terminate();
  });

  it('an untagged route hears the untagged stream, else the first tagged one', async () => {
    const scenario = defineScenario('untagged', () => {
      VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
        const ws = VoxEngine.createWebSocket(server.url);
        call.addEventListener(CallEvents.Connected, () => ws.sendMediaTo(call));
        call.answer();
      });
    });
    const heard: number[] = [];
    for (const withUntagged of [false, true]) {
      const transport = new MemoryTransport(ULAW_8K);
      const session = startSession(scenario, { transport });
      const peer = await server.nextConnection();
      await until(() => session.call.state() === 'CONNECTED');
      peer.sendStart('x', 'PCM8', 8000);
      if (withUntagged) peer.sendStart(undefined, 'PCM8', 8000);
      await Promise.all([
        peer.sendAudio('x', pcm16Bytes(sine(600, 8000, 400)), 320),
        withUntagged ? peer.sendAudio(undefined, pcm16Bytes(sine(900, 8000, 400)), 320) : undefined,
      ]);
      await until(() => transport.sent.length >= 20);
      await sleep(100);
      assert.equal(transport.sent.length, 20, 'one stream only, never both mixed');
      heard.push(Math.round(dominantFrequency(ulawDecode(transport.sentAudio()), 8000)));
      session.terminate();
    }
    assert.ok(Math.abs(heard[0]! - 600) < 10, `only a tagged stream: heard ${heard[0]} Hz`);
    assert.ok(Math.abs(heard[1]! - 900) < 10, `with an untagged stream: heard ${heard[1]} Hz`);
  });

  for (const encoding of ['PCM8', 'PCM16', 'ULAW', 'ALAW'] as const) {
    it(`${encoding} round-trips a tone through the peer`, async () => {
      const transport = new MemoryTransport(ULAW_8K);
      const scenario = defineScenario(`echo-${encoding}`, () => {
        VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
          const ws = VoxEngine.createWebSocket(server.url);
          call.addEventListener(CallEvents.Connected, () => {
            call.sendMediaTo(ws, { encoding: encoding as WebSocketAudioEncoding, tag: 'out' });
            ws.sendMediaTo(call);
          });
          call.answer();
        });
      });
      const session = startSession(scenario, { transport });
      const peer = await server.nextConnection();
      const start = (await peer.waitForEvent('start')).json!;
      const rate = encoding === 'PCM16' ? 16000 : 8000;
      assert.deepEqual(start.start.mediaFormat, { encoding, sampleRate: rate, channels: 1 });
      assert.equal(start.start.tag, 'out');
      transport.injectAudio(ulawEncode(sine(700, 8000, 600)));
      await peer.waitFor((m) => m.json?.event === 'media' && m.json.media.chunk === 29);
      const media = peer.events('media');
      const bytesPerFrame = { PCM8: 320, PCM16: 640, ULAW: 160, ALAW: 160 }[encoding];
      assert.equal(Buffer.from(media[0]!.media.payload, 'base64').length, bytesPerFrame);
      assert.equal(media[1]!.media.timestamp, rate / 50);
      // Echo: the peer sends the very payloads back as its own stream, in the same encoding.
      peer.sendStart(undefined, encoding, rate);
      for (const m of media)
        peer.sendJson({ event: 'media', media: { chunk: m.media.chunk, payload: m.media.payload } });
      await until(() => transport.sent.length >= 28);
      const heard = dominantFrequency(ulawDecode(transport.sentAudio()), 8000);
      assert.ok(Math.abs(heard - 700) < 10, `${encoding}: the caller hears ${heard.toFixed(1)} Hz`);
      session.terminate();
    });
  }

  it('refuses OPUS with VG_ERR_UNSUPPORTED_ENCODING, both ways', async () => {
    const transport = new MemoryTransport(ULAW_8K);
    const thrown: string[] = [];
    const mediaStarted: unknown[] = [];
    const scenario = defineScenario('opus', () => {
      VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
        const ws = VoxEngine.createWebSocket(server.url);
        ws.addEventListener(WebSocketEvents.MEDIA_STARTED, (e) => mediaStarted.push(e));
        call.addEventListener(CallEvents.Connected, () => {
          try {
            call.sendMediaTo(ws, { encoding: 'OPUS' });
          } catch (err) {
            thrown.push((err as VoxgateError).code, (err as Error).message);
          }
          ws.sendMediaTo(call);
        });
        call.answer();
      });
    });
    const session = startSession(scenario, { transport });
    const errors: VoxgateError[] = [];
    session.on('error', (e) => errors.push(e));
    const peer = await server.nextConnection();
    await until(() => thrown.length > 0);
    assert.equal(thrown[0], ErrorCodes.UNSUPPORTED_ENCODING);
    assert.match(thrown[1]!, /OPUS is not supported/);
    assert.equal(peer.events('start').length, 0, 'no start was sent for the refused link');

    peer.sendStart(undefined, 'OPUS', 48000);
    await peer.sendAudio(undefined, new Uint8Array(400), 100);
    await until(() => errors.length >= 2);
    assert.deepEqual(
      errors.map((e) => e.code),
      [ErrorCodes.UNSUPPORTED_ENCODING, ErrorCodes.MEDIA_BEFORE_START],
    );
    await sleep(100);
    assert.equal(mediaStarted.length, 0);
    assert.equal(transport.sent.length, 0);
    session.terminate();
  });
});
