import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { ErrorCodes, type VoxgateError } from '../errors.js';
import { audioFormat, PCM16_16K, ULAW_8K } from '../media/format.js';
import type { CallEndReason, CallerControl } from './types.js';
import { parseCallerControl, VapiWebSocketTransport } from './vapiWebSocket.js';

/** Just enough of a ws WebSocket to drive the transport synchronously. */
class FakeWs extends EventEmitter {
  readyState = 1;
  bufferedAmount = 0;
  readonly sent: (string | Uint8Array)[] = [];
  closedWith: [number, string] | null = null;

  send(data: string | Uint8Array): void {
    this.sent.push(data);
  }
  close(code: number, reason: string): void {
    this.closedWith = [code, reason];
    this.readyState = 2;
  }
  terminate(): void {
    this.readyState = 3;
  }
  /** The peer sends something. */
  receive(data: Buffer | string, binary = typeof data !== 'string'): void {
    this.emit('message', typeof data === 'string' ? Buffer.from(data) : data, binary);
  }
  texts(): Record<string, unknown>[] {
    return this.sent.filter((d): d is string => typeof d === 'string').map((d) => JSON.parse(d));
  }
}

function make(format = PCM16_16K, options = {}) {
  const ws = new FakeWs();
  const transport = new VapiWebSocketTransport(ws as never, format, options);
  const frames: Uint8Array[] = [];
  const controls: CallerControl[] = [];
  const errors: VoxgateError[] = [];
  const closes: CallEndReason[] = [];
  transport.on('audio', (f) => frames.push(Buffer.from(f)));
  transport.on('control', (c) => controls.push(c));
  transport.on('error', (e) => errors.push(e));
  transport.on('close', (r) => closes.push(r));
  return { ws, transport, frames, controls, errors, closes };
}

describe('VapiWebSocketTransport audio', () => {
  test('re-frames chunks of any size, odd ones included, into exact 20 ms frames in order', () => {
    const { ws, frames } = make(PCM16_16K);
    const bytes = Buffer.alloc(640 * 3 + 100);
    for (let i = 0; i < bytes.length; i++) bytes[i] = i & 0xff;
    // 333 is odd: a sample is split across chunks and must be joined, not dropped.
    for (let off = 0; off < bytes.length; off += 333) ws.receive(bytes.subarray(off, off + 333));
    assert.equal(frames.length, 3);
    for (const f of frames) assert.equal(f.length, 640);
    assert.deepEqual(Buffer.concat(frames), bytes.subarray(0, 1920));
  });

  test('frames at the wire format: mu-law 8 kHz is 160 bytes, pcm16 44.1 kHz is 1764 bytes (882 samples)', () => {
    const mulaw = make(ULAW_8K);
    mulaw.ws.receive(Buffer.alloc(400));
    assert.deepEqual(
      mulaw.frames.map((f) => f.length),
      [160, 160],
    );
    const cd = make(audioFormat('pcm16', 44100));
    cd.ws.receive(Buffer.alloc(1764 * 2));
    assert.deepEqual(
      cd.frames.map((f) => f.length),
      [1764, 1764],
    );
  });

  test('refuses a frame over maxFrameBytes with VG_ERR_FRAME_TOO_LARGE and carries on', () => {
    const { ws, frames, errors, transport } = make(PCM16_16K, { maxFrameBytes: 1000 });
    ws.receive(Buffer.alloc(1001));
    assert.equal(frames.length, 0);
    assert.equal(errors[0]?.code, ErrorCodes.FRAME_TOO_LARGE);
    assert.equal(errors[0]?.closeCode, 1009);
    const reply = ws.texts()[0]!;
    assert.equal(reply.type, 'error');
    assert.equal(reply.code, 'VG_ERR_FRAME_TOO_LARGE');
    assert.equal(transport.counters.framesRefused, 1);
    ws.receive(Buffer.alloc(640));
    assert.equal(frames.length, 1, 'the call goes on');
  });

  test('sendAudio sends binary, counts it, and drops while the peer is not reading', () => {
    const { ws, transport } = make(PCM16_16K, { maxBufferedBytes: 1000 });
    transport.sendAudio(new Uint8Array(640));
    assert.equal(ws.sent.length, 1);
    ws.bufferedAmount = 5000;
    transport.sendAudio(new Uint8Array(640));
    assert.equal(ws.sent.length, 1);
    assert.equal(transport.counters.framesOut, 1);
    assert.equal(transport.counters.framesDropped, 1);
  });
});

describe('VapiWebSocketTransport control', () => {
  test('maps hangup, end-call, say (content or message), add-message and control', () => {
    const { ws, controls, errors } = make();
    ws.receive('{"type":"hangup"}');
    ws.receive('{"type":"end-call"}');
    ws.receive('{"type":"say","content":"hello","endCallAfterSpoken":true}');
    ws.receive('{"type":"say","message":"from the web sdk"}');
    ws.receive(
      '{"type":"add-message","message":{"role":"system","content":"be brief"},"triggerResponseEnabled":false}',
    );
    ws.receive('{"type":"control","control":"mute-assistant"}');
    assert.deepEqual(errors, []);
    assert.deepEqual(controls, [
      { type: 'end-call' },
      { type: 'end-call' },
      { type: 'say', content: 'hello', endCallAfterSpoken: true },
      { type: 'say', content: 'from the web sdk' },
      {
        type: 'add-message',
        message: { role: 'system', content: 'be brief' },
        triggerResponseEnabled: false,
      },
      { type: 'control', control: 'mute-assistant' },
    ]);
  });

  test('malformed JSON, unknown types and bad fields get a coded error back; the call goes on', () => {
    const { ws, controls, errors, closes } = make();
    ws.receive('{not json');
    ws.receive('{"type":"dance"}');
    ws.receive('{"type":"transfer","destination":{"type":"number","number":"+1"}}');
    ws.receive('{"type":"say"}');
    ws.receive('{"type":"add-message","message":{"role":"robot","content":"x"}}');
    ws.receive('[1,2]');
    const replies = ws.texts();
    assert.deepEqual(
      replies.map((r) => [r.type, r.code]),
      [
        ['error', 'VG_ERR_BAD_JSON'],
        ['error', 'VG_ERR_UNKNOWN_MESSAGE'],
        ['error', 'VG_ERR_UNKNOWN_MESSAGE'],
        ['error', 'VG_ERR_BAD_MESSAGE'],
        ['error', 'VG_ERR_BAD_MESSAGE'],
        ['error', 'VG_ERR_BAD_MESSAGE'],
      ],
    );
    assert.match(String(replies[2]!.message), /transfer' is not supported/);
    assert.match(String(replies[4]!.message), /message\.role/);
    assert.equal(errors.length, 6);
    assert.deepEqual(controls, []);
    assert.deepEqual(closes, []);
    ws.receive('{"type":"end-call"}');
    assert.deepEqual(controls, [{ type: 'end-call' }]);
  });

  test('parseCallerControl names the field at fault', () => {
    assert.throws(
      () => parseCallerControl({ type: 'control', control: 'explode' }),
      (err: VoxgateError) => err.code === ErrorCodes.BAD_MESSAGE && /control: control:/.test(err.message),
    );
    assert.throws(
      () => parseCallerControl({ content: 'no type' }),
      (err: VoxgateError) => err.code === ErrorCodes.BAD_MESSAGE && err.details?.field === 'type',
    );
  });
});

describe('VapiWebSocketTransport close', () => {
  test('close(reason) runs onClosing while the socket is open, then closes with a code, once', () => {
    const order: string[] = [];
    const ws = new FakeWs();
    const transport = new VapiWebSocketTransport(ws as never, PCM16_16K, {
      onClosing: (reason) => {
        order.push(`closing:${reason}:${ws.readyState}`);
        transport.sendMessage({ type: 'status-update', status: 'ended' });
      },
    });
    transport.on('close', (reason) => order.push(`close:${reason}`));
    transport.close('api-ended-call');
    transport.close('api-ended-call');
    assert.deepEqual(order, ['closing:api-ended-call:1', 'close:api-ended-call']);
    assert.deepEqual(ws.closedWith, [1000, 'api-ended-call']);
    assert.equal(ws.texts()[0]!.status, 'ended');
  });

  test('server shutdown closes with 1001; the peer closing reports customer-ended-call', () => {
    const a = make();
    a.transport.close('server-shutdown');
    assert.deepEqual(a.ws.closedWith, [1001, 'server-shutdown']);
    const b = make();
    b.ws.readyState = 3;
    b.ws.emit('close', 1000, Buffer.from(''));
    b.ws.emit('close', 1000, Buffer.from(''));
    assert.deepEqual(b.closes, ['customer-ended-call']);
    b.ws.receive(Buffer.alloc(640));
    assert.equal(b.frames.length, 0, 'nothing flows after the end');
  });

  test('works over a real socket: audio both ways, error replies, close code', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    const port = (wss.address() as AddressInfo).port;
    const serverSide = new Promise<VapiWebSocketTransport>((resolve) =>
      wss.once('connection', (ws) => resolve(new VapiWebSocketTransport(ws, PCM16_16K))),
    );
    const client = new WebSocket(`ws://127.0.0.1:${port}`);
    const transport = await serverSide;
    await new Promise((resolve) => client.once('open', resolve));
    transport.on('audio', (frame) => transport.sendAudio(frame));
    const messages: { binary: boolean; data: Buffer }[] = [];
    client.on('message', (data: Buffer, binary) => messages.push({ binary, data }));
    const closed = new Promise<number>((resolve) => client.once('close', (code) => resolve(code)));
    client.send(Buffer.alloc(1280, 7));
    client.send('{"type":"nope"}');
    await waitFor(() => messages.length >= 3);
    transport.close('assistant-ended-call');
    assert.equal(await closed, 1000);
    assert.deepEqual(
      messages.map((m) => (m.binary ? m.data.length : JSON.parse(m.data.toString()).code)),
      [640, 640, 'VG_ERR_UNKNOWN_MESSAGE'],
    );
    await new Promise((resolve) => wss.close(resolve));
  });
});

async function waitFor(check: () => boolean, ms = 2000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
