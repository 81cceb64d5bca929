/**
 * Rate conversion on a real call: the caller speaks mu-law 8 kHz, PCM16 16 kHz or PCM16 44.1 kHz; the scenario
 * (test/fixtures/server/wsBridge.ts) sends the call to a VoxEngine WebSocket that wants PCM16 16 kHz, and that socket's
 * far end sends every media frame straight back. The caller must hear its tone at its own format and rate.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';
import { ulawDecode, ulawEncode } from '../src/media/g711.js';
import { dominantFrequency, pcm16Bytes, pcm16View, sine } from '../src/media/pcm.js';
import {
  assertNoHandlesLeft,
  CallClient,
  createCall,
  resources,
  startServer,
  waitFor,
} from './helpers/server.js';

/** A VoxEngine media peer that echoes: answers `start` with its own PCM16/16 kHz `start`, returns each `media`. */
async function mediaEcho(): Promise<{ url: string; formats: unknown[]; close: () => Promise<void> }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const formats: unknown[] = [];
  wss.on('connection', (ws) => {
    let seq = 0;
    ws.on('message', (data: Buffer) => {
      const msg = JSON.parse(data.toString()) as {
        event: string;
        start?: { mediaFormat: unknown };
        media?: { payload: string };
      };
      if (msg.event === 'start') {
        formats.push(msg.start?.mediaFormat);
        ws.send(
          JSON.stringify({
            event: 'start',
            sequenceNumber: seq++,
            start: { mediaFormat: { encoding: 'PCM16', sampleRate: 16000, channels: 1 } },
          }),
        );
      } else if (msg.event === 'media') {
        ws.send(
          JSON.stringify({ event: 'media', sequenceNumber: seq++, media: { payload: msg.media?.payload } }),
        );
      }
    });
  });
  const port = (wss.address() as AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${port}`,
    formats,
    close: () =>
      new Promise((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      }),
  };
}

describe('caller rates are converted to what the scenario units need', () => {
  const cases = [
    { format: 'mulaw', sampleRate: 8000 },
    { format: 'pcm_s16le', sampleRate: 16000 },
    { format: 'pcm_s16le', sampleRate: 44100 },
  ] as const;
  for (const audioFormat of cases) {
    test(`${audioFormat.format} ${audioFormat.sampleRate} → PCM16 16 kHz → back, tone kept`, async () => {
      const peer = await mediaEcho();
      const scenario = fileURLToPath(new URL('./fixtures/server/wsBridge.ts', import.meta.url));
      const server = await startServer({ scenario });
      const before = resources();
      try {
        const { url } = await createCall(
          server,
          { ...audioFormat, container: 'raw' },
          { metadata: { url: peer.url } },
        );
        const client = await CallClient.open(url);
        const rate = audioFormat.sampleRate;
        const tone = sine(700, rate, 800);
        const wire = audioFormat.format === 'mulaw' ? Buffer.from(ulawEncode(tone)) : pcm16Bytes(tone);
        for (let off = 0; off < wire.length; off += 4096) client.send(wire.subarray(off, off + 4096));
        const bytesPerSample = audioFormat.format === 'mulaw' ? 1 : 2;
        // The far end's audio comes back in real time: wait for most of it.
        await waitFor(() => client.audioBytes().length >= wire.length * 0.7, 5000, 'the converted echo');
        const back = client.audioBytes();
        assert.equal(
          client.audio[0]!.length,
          Math.floor(rate / 50) * bytesPerSample,
          'frames at the caller rate',
        );
        const pcm =
          audioFormat.format === 'mulaw' ? ulawDecode(back) : pcm16View(back.subarray(0, back.length & ~1));
        // Skip the resamplers' start-up transient.
        const hz = dominantFrequency(pcm.subarray(Math.floor(rate / 10)), rate);
        assert.ok(Math.abs(hz - 700) < 7, `heard ${hz} Hz`);
        assert.deepEqual(peer.formats[0], { encoding: 'PCM16', sampleRate: 16000, channels: 1 });
        client.ws.close();
        await client.closed;
        await assertNoHandlesLeft(before, server);
      } finally {
        await server.close();
        await peer.close();
      }
    });
  }
});
