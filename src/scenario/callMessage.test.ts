/** `call.sendMessage(text)`: VoxEngine's way for a scenario to send its caller a message. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { defineScenario, startSession } from './runtime.js';
import { MemoryTransport } from './testing.js';
import type { Call } from './voxengine.js';
import { AppEvents, CallEvents, VoxEngine } from './voxengine.js';

function scenarioThatSends(texts: string[], before: string[] = []) {
  return defineScenario('messages', () => {
    VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }: { call: Call }) => {
      for (const text of before) call.sendMessage(text);
      call.addEventListener(CallEvents.Connected, () => {
        for (const text of texts) call.sendMessage(text);
        call.hangup();
      });
      call.answer();
    });
  });
}

test('JSON object text goes as that object; other text as {type: "message", text}; nothing before Connected', async () => {
  const transport = new MemoryTransport();
  const session = startSession(
    scenarioThatSends(
      [
        '{"type":"transcript","role":"assistant","transcriptType":"final","transcript":"Hi"}',
        ' {"custom":true}',
        'plain words',
        '["not", "an object"]',
        '{broken json',
      ],
      ['{"type":"too-early"}'],
    ),
    { transport },
  );
  await once(session, 'terminated');
  assert.deepEqual(transport.messages, [
    { type: 'transcript', role: 'assistant', transcriptType: 'final', transcript: 'Hi' },
    { custom: true },
    { type: 'message', text: 'plain words' },
    { type: 'message', text: '["not", "an object"]' },
    { type: 'message', text: '{broken json' },
  ]);
});

test('the owner can route the messages (the server shapes Vapi messages there)', async () => {
  const transport = new MemoryTransport();
  const routed: Record<string, unknown>[] = [];
  const session = startSession(scenarioThatSends(['{"type":"user-interrupted"}']), {
    transport,
    sendMessage: (m) => routed.push(m),
  });
  await once(session, 'terminated');
  await sleep(0);
  assert.deepEqual(routed, [{ type: 'user-interrupted' }]);
  assert.deepEqual(transport.messages, []);
});
