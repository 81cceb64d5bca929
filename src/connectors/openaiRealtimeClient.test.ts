/**
 * The media-unit client (`OpenAI.RealtimeAPIClient`) against the local emulator: a mu-law 8 kHz caller bridged
 * with no transcoding, a PCM16 16 kHz caller through the resampler, barge-in truncating at the audio the caller
 * was actually sent, a tool call through the raw methods, and the VoxEngine event shape.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { BrainPart } from '../agent/brain.js';
import { scriptedBrain } from '../agent/scriptedBrain.js';
import { toneBrain } from '../agent/toneBrain.js';
import { type OpenAIClientEvent, startOpenAIRealtimeEmulator } from '../emulators/openaiRealtime.js';
import { mediaStats } from '../graph/stats.js';
import { type Link, MediaUnit, type SendMediaOptions, sendMediaBetween } from '../graph/unit.js';
import type { AudioFormat } from '../media/format.js';
import { PCM16_16K, PCM16_24K, ULAW_8K } from '../media/format.js';
import { ulawDecode, ulawEncode } from '../media/g711.js';
import { initMedia } from '../media/index.js';
import { dominantFrequency, pcm16View, sine } from '../media/pcm.js';
import {
  createRealtimeAPIClient,
  Events,
  type RealtimeAPIClient,
  RealtimeAPIEvents,
} from './openaiRealtimeClient.js';
import { waitFor } from './testHelpers.js';
import type { ConnectorEvent } from './types.js';

/** A caller leg for tests: it speaks in its format and records what it is sent. */
class FakeCaller extends MediaUnit {
  readonly frames: Uint8Array[] = [];
  cleared = 0;
  constructor(readonly format: AudioFormat) {
    super('fake-caller');
  }
  inputFormat(_options: Readonly<SendMediaOptions>): AudioFormat {
    return this.format;
  }
  receiveMedia(frame: Uint8Array, _link: Link): void {
    this.frames.push(Uint8Array.from(frame));
  }
  protected override inputCleared(): void {
    this.cleared++;
  }
  /** Sends `pcm` (at the caller's rate) as 20 ms frames in the caller's encoding. */
  speak(pcm: Int16Array): void {
    const bytes =
      this.format.encoding === 'ulaw'
        ? ulawEncode(pcm)
        : new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength);
    const step = (this.format.sampleRate / 50) * (this.format.encoding === 'ulaw' ? 1 : 2);
    for (let at = 0; at + step <= bytes.length; at += step)
      this.emitMedia(bytes.subarray(at, at + step), this.format);
  }
  /** Everything received, as PCM16 at the caller's rate. */
  heard(): Int16Array {
    const all = new Uint8Array(this.frames.reduce((n, f) => n + f.length, 0));
    let at = 0;
    for (const f of this.frames) {
      all.set(f, at);
      at += f.length;
    }
    return this.format.encoding === 'ulaw' ? ulawDecode(all) : pcm16View(all);
  }
}

/** Silence, a 330 Hz burst, silence: one user turn for the emulator's server VAD. */
function userTurn(rate: number): Int16Array {
  const pcm = new Int16Array((rate * 1300) / 1000);
  pcm.set(sine(330, rate, 500, 0.5), (rate * 200) / 1000);
  return pcm;
}

const baseUrl = (port: number): string => `http://127.0.0.1:${port}/`;
const nextTick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

before(() => initMedia());

describe('OpenAI.RealtimeAPIClient with the tone brain', () => {
  const events: OpenAIClientEvent[] = [];
  let emu: Awaited<ReturnType<typeof startOpenAIRealtimeEmulator>>;
  before(async () => {
    emu = await startOpenAIRealtimeEmulator({
      brain: toneBrain({ freqHz: 440, toneMs: 400 }),
      audioSpeed: 20,
      onClientEvent: (_id, e) => events.push(e),
    });
  });
  after(() => emu.close());

  test('a mu-law 8 kHz caller is bridged with audio/pcmu both ways and no transcoding', async () => {
    const client = await createRealtimeAPIClient({ apiKey: 'sk-test', baseUrl: baseUrl(emu.port) });
    const caller = new FakeCaller(ULAW_8K);
    const converters = mediaStats.convertersCreated;
    try {
      sendMediaBetween(caller, client);
      await nextTick(); // the link made before the format was known is remade once, outside the attach
      const ended = waitFor<unknown>(
        (resolve) => client.addEventListener(Events.WebSocketMediaEnded, resolve),
        'media ended',
      );
      caller.speak(userTurn(8000));
      await ended;

      const toClient = client.input;
      const toCaller = caller.input;
      assert.ok(toClient !== null && toCaller !== null);
      assert.equal(toClient.targetFormat, ULAW_8K);
      assert.equal(toCaller.targetFormat, ULAW_8K);
      assert.equal(toClient.converter, null);
      assert.equal(toCaller.converter, null);
      assert.ok(toClient.passthrough && toCaller.passthrough);
      assert.equal(mediaStats.convertersCreated, converters, 'no converter was created on this path');
      const update = events.find((e) => e.type === 'session.update') as { session: { audio: unknown } };
      assert.deepEqual(update.session.audio, {
        input: { format: { type: 'audio/pcmu' } },
        output: { format: { type: 'audio/pcmu' } },
      });
      const heard = caller.heard();
      assert.ok(Math.abs(heard.length - 3200) <= 160, `400 ms at 8 kHz, got ${heard.length} samples`);
      assert.ok(Math.abs(dominantFrequency(heard, 8000) - 440) < 10);
      assert.ok(client.stats.framesSent >= 60);
    } finally {
      client.close();
      client.close();
    }
    assert.equal(client.input, null, 'close detaches every link');
    assert.equal(caller.input, null);
  });

  test('a PCM16 16 kHz caller goes through the resampler to audio/pcm 24 kHz', async () => {
    const client = await createRealtimeAPIClient({ apiKey: 'sk-test', baseUrl: baseUrl(emu.port) });
    const caller = new FakeCaller(PCM16_16K);
    const converters = mediaStats.convertersCreated;
    try {
      sendMediaBetween(caller, client);
      const ended = waitFor<unknown>(
        (resolve) => client.addEventListener(Events.WebSocketMediaEnded, resolve),
        'media ended',
      );
      caller.speak(userTurn(16000));
      await ended;
      assert.equal(client.input?.targetFormat, PCM16_24K);
      assert.ok(client.input?.converter !== null && caller.input?.converter !== null);
      assert.equal(mediaStats.convertersCreated, converters + 2);
      const heard = caller.heard();
      assert.ok(Math.abs(heard.length - 6400) <= 320, `400 ms at 16 kHz, got ${heard.length} samples`);
      assert.ok(Math.abs(dominantFrequency(heard, 16000) - 440) < 10);
    } finally {
      client.close();
    }
  });

  test('events carry {client, data: {customEvent, payload}}; bad handlers are refused at once', async () => {
    const client = await createRealtimeAPIClient({ apiKey: 'sk-test', baseUrl: baseUrl(emu.port) });
    try {
      assert.throws(() => client.addEventListener(RealtimeAPIEvents.ResponseDone, 'nope' as never), {
        code: 'VG_ERR_BAD_HANDLER',
      });
      const throwing = (): void => {
        throw new Error('a broken handler');
      };
      client.addEventListener(RealtimeAPIEvents.SessionUpdated, throwing);
      const updated = waitFor<ConnectorEvent<RealtimeAPIClient>>(
        (resolve) => client.addEventListener(RealtimeAPIEvents.SessionUpdated, resolve),
        'session.updated',
      );
      client.sessionUpdate({ session: { type: 'realtime', instructions: 'Be brief.' } });
      const event = await updated;
      assert.equal(event.client, client);
      assert.equal(event.data.customEvent, 'session.updated');
      assert.equal(
        (event.data.payload as { session: { instructions: string } }).session.instructions,
        'Be brief.',
      );
      assert.match(client.id(), /^openai-realtime-/);
      assert.notEqual(client.webSocketId(), client.id());
    } finally {
      client.close();
    }
  });

  test('a tool call through the raw methods, and its follow-up response', async () => {
    const client = await createRealtimeAPIClient({ apiKey: 'sk-test', baseUrl: baseUrl(emu.port) });
    try {
      const tool = {
        type: 'function',
        name: 'get_weather',
        description: 'Weather',
        parameters: { type: 'object', properties: { city: { type: 'string' } } },
      };
      client.sessionUpdate({
        session: { type: 'realtime', tools: [tool], audio: { input: { turn_detection: null } } },
      });
      const firstDone = waitFor<unknown>(
        (resolve) => client.addEventListener(RealtimeAPIEvents.ResponseDone, resolve),
        'done',
      );
      const call = waitFor<{ call_id: string; arguments: string }>(
        (resolve) =>
          client.addEventListener(RealtimeAPIEvents.ResponseOutputItemDone, (e) => {
            const item = (e.data.payload as { item: { type: string; call_id: string; arguments: string } })
              .item;
            if (item.type === 'function_call') resolve(item);
          }),
        'the function call',
      );
      client.conversationItemCreate({
        item: {
          type: 'message',
          role: 'user',
          content: [{ type: 'input_text', text: 'What is the weather in Paris?' }],
        },
      });
      client.responseCreate({});
      const fn = await call;
      assert.deepEqual(JSON.parse(fn.arguments), { city: 'Paris' });
      const answer = waitFor<string>(
        (resolve) =>
          client.addEventListener(RealtimeAPIEvents.ResponseOutputAudioTranscriptDone, (e) =>
            resolve((e.data.payload as { transcript: string }).transcript),
          ),
        'the follow-up transcript',
      );
      await firstDone; // the function-call response ends before the next may start
      client.conversationItemCreate({
        item: { type: 'function_call_output', call_id: fn.call_id, output: 'Sunny, 21 degrees' },
      });
      client.responseCreate();
      assert.match(await answer, /Sunny/);
    } finally {
      client.close();
    }
  });
});

describe('barge-in truncates at the audio the caller was sent', () => {
  const long: BrainPart[] = [
    { type: 'text', text: 'This is a long answer that will be cut off by the caller.' },
    { type: 'audio', pcm: sine(440, 24000, 4000, 0.3), sampleRate: 24000 },
  ];

  test('client.interrupt(): cancel, truncate at the played count, and silence', async () => {
    const events: OpenAIClientEvent[] = [];
    const emu = await startOpenAIRealtimeEmulator({
      brain: scriptedBrain([long]),
      audioSpeed: 8,
      onClientEvent: (_id, e) => events.push(e),
    });
    const client = await createRealtimeAPIClient({
      apiKey: 'sk-test',
      baseUrl: baseUrl(emu.port),
      audioFormat: 'pcmu',
    });
    const caller = new FakeCaller(ULAW_8K);
    try {
      client.sendMediaTo(caller);
      const started = waitFor<unknown>(
        (resolve) => client.addEventListener(Events.WebSocketMediaStarted, resolve),
        'media started',
      );
      const truncated = waitFor<ConnectorEvent<RealtimeAPIClient>>(
        (resolve) => client.addEventListener(RealtimeAPIEvents.ConversationItemTruncated, resolve),
        'truncated',
      );
      client.conversationItemCreate({
        item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Talk.' }] },
      });
      client.responseCreate({});
      await started;
      await new Promise((r) => setTimeout(r, 300));
      client.interrupt();
      const sentMs = caller.frames.length * 20;
      await truncated;
      const truncate = events.find((e) => e.type === 'conversation.item.truncate') as {
        audio_end_ms: number;
      };
      assert.ok(
        Math.abs(truncate.audio_end_ms - sentMs) <= 20,
        `truncated at ${truncate.audio_end_ms} ms, the caller was sent ${sentMs} ms`,
      );
      assert.ok(truncate.audio_end_ms < 2000, 'well before the 4 s the model produced');
      assert.ok(events.some((e) => e.type === 'response.cancel'));
      assert.ok(caller.cleared >= 1, 'the units fed by the client were asked to drop what they hold');
      await new Promise((r) => setTimeout(r, 200));
      assert.ok(caller.frames.length * 20 <= sentMs + 20, 'nothing more plays after the interrupt');
    } finally {
      client.close();
      await emu.close();
    }
  });

  test('bargeIn: speech start clears, truncates at the played count (the server VAD cancels)', async () => {
    const events: OpenAIClientEvent[] = [];
    const emu = await startOpenAIRealtimeEmulator({
      brain: scriptedBrain([long]),
      audioSpeed: 8,
      onClientEvent: (_id, e) => events.push(e),
    });
    const client = await createRealtimeAPIClient({
      apiKey: 'sk-test',
      baseUrl: baseUrl(emu.port),
      bargeIn: true,
    });
    const caller = new FakeCaller(ULAW_8K);
    try {
      sendMediaBetween(caller, client);
      await nextTick();
      const started = waitFor<unknown>(
        (resolve) => client.addEventListener(Events.WebSocketMediaStarted, resolve),
        'media started',
      );
      let sentAtSpeech = -1;
      const speech = waitFor<unknown>(
        (resolve) =>
          client.addEventListener(RealtimeAPIEvents.InputAudioBufferSpeechStarted, (e) => {
            sentAtSpeech = caller.frames.length * 20;
            resolve(e);
          }),
        'speech started',
      );
      const truncated = waitFor<unknown>(
        (resolve) => client.addEventListener(RealtimeAPIEvents.ConversationItemTruncated, resolve),
        'truncated',
      );
      client.responseCreate({});
      await started;
      await new Promise((r) => setTimeout(r, 200));
      caller.speak(userTurn(8000));
      await speech;
      await truncated;
      const truncate = events.find((e) => e.type === 'conversation.item.truncate') as {
        audio_end_ms: number;
      };
      assert.ok(
        Math.abs(truncate.audio_end_ms - sentAtSpeech) <= 20,
        `truncated at ${truncate.audio_end_ms}, sent ${sentAtSpeech}`,
      );
      assert.ok(
        !events.some((e) => e.type === 'response.cancel'),
        'interrupt_response: the server cancels, not the client',
      );
    } finally {
      client.close();
      await emu.close();
    }
  });
});
