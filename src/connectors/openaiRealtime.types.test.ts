/**
 * Conformance of `OpenAIRealtimeWebSocket` with `@openai/agents-realtime` 0.20: at the type level (tsc checks the
 * assignment below; `npm run check` fails if our class stops fitting `RealtimeTransportLayer`) and by name (every
 * public member of the reference class exists on ours).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type RealtimeTransportLayer,
  OpenAIRealtimeWebSocket as Reference,
  type RealtimeSessionConfig as ReferenceSessionConfig,
} from '@openai/agents-realtime';
import { OpenAIRealtimeWebSocket } from './openaiRealtime.js';
import type { RealtimeSessionConfig } from './types.js';

// Type-level: our transport can stand wherever the reference transport layer is expected.
export const asTransport: RealtimeTransportLayer = new OpenAIRealtimeWebSocket({ model: 'gpt-realtime' });
// And a reference session config is accepted by our updateSessionConfig.
export const asConfig = (c: Partial<ReferenceSessionConfig>): Partial<RealtimeSessionConfig> => c;

/** Documented members of the reference (its seed page), plus the transport-layer ones it inherits. */
const PUBLIC = [
  'addImage',
  'buildSessionPayload',
  'close',
  'connect',
  'connectionState',
  'currentModel',
  'emit',
  'interrupt',
  'mute',
  'muted',
  'off',
  'on',
  'once',
  'requestResponse',
  'resetHistory',
  'sendAudio',
  'sendEvent',
  'sendFunctionCallOutput',
  'sendMcpResponse',
  'sendMessage',
  'status',
  'updateSessionConfig',
  '_cancelResponse',
  '_interrupt',
  '_tracingConfig',
];

function memberNames(proto: object): Set<string> {
  const names = new Set<string>();
  for (let p: object | null = proto; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const name of Object.getOwnPropertyNames(p)) names.add(name);
  }
  return names;
}

test('every documented public member of the reference class exists on ours', () => {
  const reference = memberNames(Reference.prototype);
  const ours = memberNames(OpenAIRealtimeWebSocket.prototype);
  for (const name of PUBLIC) {
    assert.ok(reference.has(name), `the reference has ${name}`);
    assert.ok(ours.has(name), `ours has ${name}`);
  }
});

test('defaults match the reference: model, status, muted', () => {
  const ours = new OpenAIRealtimeWebSocket();
  const reference = new Reference();
  assert.equal(ours.currentModel, reference.currentModel);
  assert.equal(ours.status, reference.status);
  assert.equal(ours.muted, reference.muted);
  ours.currentModel = 'gpt-realtime-mini';
  assert.equal(ours.currentModel, 'gpt-realtime-mini');
  assert.deepEqual(ours.connectionState, { status: 'disconnected', websocket: undefined });
});

test('the session payload equals the reference for the same config', () => {
  const configs: Partial<RealtimeSessionConfig>[] = [
    {},
    {
      instructions: 'Be brief.',
      voice: 'marin',
      audio: {
        input: { turnDetection: { type: 'server_vad', silenceDurationMs: 300, interruptResponse: true } },
      },
    },
    {
      inputAudioFormat: 'g711_ulaw',
      outputAudioFormat: 'g711_ulaw',
      turnDetection: { type: 'semantic_vad', eagerness: 'high' },
    },
    {
      tools: [
        {
          type: 'function',
          name: 'f',
          description: 'd',
          parameters: { type: 'object', properties: {} },
          strict: true,
        },
      ],
      toolChoice: 'auto',
      audio: {
        input: { transcription: null, noiseReduction: { type: 'near_field' } },
        output: { speed: 1.2 },
      },
    },
  ];
  const ours = new OpenAIRealtimeWebSocket({ model: 'gpt-realtime' });
  const reference = new Reference({ model: 'gpt-realtime' });
  for (const config of configs) {
    const expected = JSON.parse(
      JSON.stringify(reference.buildSessionPayload(config as Partial<ReferenceSessionConfig>)),
    );
    assert.deepEqual(JSON.parse(JSON.stringify(ours.buildSessionPayload(config))), expected);
  }
});
