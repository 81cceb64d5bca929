/**
 * Pure pieces of the OpenAI connector: URLs, formats, message parsing, item mapping, the one-response-at-a-time
 * queue.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ALAW_8K, PCM16_16K, PCM16_24K, ULAW_8K } from '../media/format.js';
import { parseServerMessage, toRealtimeItem, translate } from './openaiRealtimeEvents.js';
import { appendMessage, audioDurationMs, formatFromWire, realtimeUrl } from './openaiRealtimeProtocol.js';
import { ResponseQueue } from './openaiRealtimeState.js';

describe('URLs and formats', () => {
  test('baseUrl maps to the realtime WebSocket URL', () => {
    assert.equal(
      realtimeUrl('https://api.openai.com/', { model: 'gpt-realtime' }),
      'wss://api.openai.com/v1/realtime?model=gpt-realtime',
    );
    assert.equal(
      realtimeUrl('http://127.0.0.1:8080/', { model: 'm' }),
      'ws://127.0.0.1:8080/v1/realtime?model=m',
    );
    assert.equal(
      realtimeUrl('https://proxy.example/openai', { intent: 'transcription' }),
      'wss://proxy.example/openai/v1/realtime?intent=transcription',
    );
    assert.throws(() => realtimeUrl('not a url', {}), { code: 'VG_ERR_CONFIG' });
  });

  test('GA and legacy formats map to interned formats', () => {
    assert.equal(formatFromWire({ type: 'audio/pcmu' }), ULAW_8K);
    assert.equal(formatFromWire({ type: 'audio/pcma' }), ALAW_8K);
    assert.equal(formatFromWire({ type: 'audio/pcm', rate: 24000 }), PCM16_24K);
    assert.equal(formatFromWire({ type: 'audio/pcm', rate: 16000 }), PCM16_16K);
    assert.equal(formatFromWire('g711_ulaw'), ULAW_8K);
    assert.equal(formatFromWire({ type: 'audio/opus' }), null);
    assert.equal(audioDurationMs(4800, { type: 'audio/pcm', rate: 24000 }), 100);
    assert.equal(audioDurationMs(800, { type: 'audio/pcmu' }), 100);
  });
});

describe('client events', () => {
  test('appendMessage is the JSON text of input_audio_buffer.append, for any length and any byte', () => {
    for (const n of [0, 1, 2, 3, 160, 161, 320]) {
      const audio = new Uint8Array(n);
      for (let i = 0; i < n; i++) audio[i] = (i * 97 + 255) & 0xff;
      const bytes = appendMessage(audio.subarray(0));
      const event = JSON.parse(bytes.toString('utf8')) as { type: string; audio: string };
      assert.deepEqual(Object.keys(event), ['type', 'audio']);
      assert.equal(event.type, 'input_audio_buffer.append');
      assert.deepEqual(new Uint8Array(Buffer.from(event.audio, 'base64')), audio);
    }
    const view = new Uint8Array([9, 1, 2, 3, 9]).subarray(1, 4);
    assert.equal(JSON.parse(appendMessage(view).toString()).audio, 'AQID', 'only the view, not its buffer');
  });
});

describe('server events', () => {
  test('parse: JSON with a string type, else VG_ERR_UPSTREAM_PROTOCOL', () => {
    assert.ok(parseServerMessage('{"type":"x"}').ok);
    for (const bad of ['nope', '[]', '{"type":1}', 'null']) {
      const r = parseServerMessage(bad);
      assert.ok(!r.ok && r.error.code === 'VG_ERR_UPSTREAM_PROTOCOL');
    }
  });

  test('items map to the transport shapes; assistant "audio" parts become "output_audio"', () => {
    const item = toRealtimeItem(
      { id: 'i1', type: 'message', role: 'assistant', content: [{ type: 'audio', transcript: 'hi' }] },
      'completed',
      null,
    );
    assert.deepEqual(item, {
      itemId: 'i1',
      previousItemId: null,
      type: 'message',
      role: 'assistant',
      content: [{ type: 'output_audio', transcript: 'hi' }],
      status: 'completed',
    });
    assert.equal(toRealtimeItem({ type: 'message', role: 'user', content: [] }, 'completed'), null);
  });

  test('a completed function call yields item_update then function_call', () => {
    const t = translate({
      type: 'response.output_item.done',
      response_id: 'r1',
      item: {
        id: 'i2',
        type: 'function_call',
        status: 'completed',
        name: 'f',
        call_id: 'c1',
        arguments: '{}',
      },
    });
    assert.ok('emit' in t);
    assert.deepEqual(
      t.emit.map(([name]) => name),
      ['item_update', 'function_call'],
    );
    assert.deepEqual(t.emit[1]?.[1], {
      id: 'i2',
      type: 'function_call',
      callId: 'c1',
      arguments: '{}',
      name: 'f',
      responseId: 'r1',
    });
    assert.ok('problem' in translate({ type: 'response.done' }));
  });
});

describe('ResponseQueue: one response.create at a time', () => {
  test('a create waits for the running response; automatic requests coalesce; an error on ours frees the slot', () => {
    const sent: { type: string; event_id?: string }[] = [];
    const q = new ResponseQueue((e) => sent.push(e));
    q.request({ type: 'response.create' }, false);
    assert.equal(sent.length, 1);
    q.onResponseCreated();
    q.request({ type: 'response.create' }, false);
    q.request({ type: 'response.create' }, false);
    q.request({ type: 'response.create', event_id: 'mine' }, true);
    assert.equal(sent.length, 1, 'nothing while a response runs');
    assert.ok(q.beginCancel());
    assert.ok(!q.beginCancel(), 'one cancel per response');
    q.onResponseDone();
    assert.equal(sent.length, 2, 'the coalesced automatic request');
    q.onError({ event_id: sent[1]?.event_id, code: 'conversation_already_has_active_response' });
    assert.deepEqual(sent[2], { type: 'response.create', event_id: 'mine' });
    q.reset();
    assert.ok(!q.active);
  });
});
