import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApiKeyAuth, bearerToken, hashSecret, newToken, TOKEN_BYTES } from './auth.js';
import { type CallRecord, MemoryCallRegistry } from './registry.js';

function record(id: string, token: string, ttlMs = 60_000): CallRecord {
  const now = new Date();
  return {
    id,
    type: 'vapi.websocketCall',
    status: 'queued',
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    scenario: 'echo',
    transport: {
      provider: 'vapi.websocket',
      audioFormat: { format: 'pcm_s16le', container: 'raw', sampleRate: 16000 },
    },
    messages: [],
    tokenHash: hashSecret(token),
    tokenExpiresAt: now.getTime() + ttlMs,
    tokenUsed: false,
  };
}

describe('MemoryCallRegistry', () => {
  test('a token opens its call once; wrong, reused, expired and ended tokens are told apart', async () => {
    const registry = new MemoryCallRegistry();
    const token = newToken();
    await registry.create(record('a', token));
    const now = Date.now();
    assert.equal(await registry.claimToken('a', 'wrong', now), 'bad');
    assert.equal(await registry.claimToken('nope', token, now), 'bad');
    assert.equal(await registry.claimToken('a', token, now), 'ok');
    assert.equal(await registry.claimToken('a', token, now), 'used');
    const late = newToken();
    await registry.create(record('b', late, 10));
    assert.equal(await registry.claimToken('b', late, now + 1000), 'expired');
    const ended = newToken();
    await registry.create(record('c', ended));
    await registry.update('c', { status: 'ended', endedReason: 'api-ended-call' });
    assert.equal(await registry.claimToken('c', ended, now), 'ended');
  });

  test('keeps at most `history` ended calls, newest first in list()', async () => {
    const registry = new MemoryCallRegistry(2);
    for (const id of ['1', '2', '3']) {
      await registry.create(record(id, newToken()));
      await registry.update(id, { status: 'ended' });
    }
    await registry.create(record('4', newToken()));
    assert.deepEqual(
      (await registry.list(10)).map((r) => r.id),
      ['4', '3', '2'],
    );
    assert.equal(await registry.get('1'), undefined);
    assert.deepEqual(
      (await registry.list(1)).map((r) => r.id),
      ['4'],
    );
  });
});

describe('auth', () => {
  test('tokens carry at least 128 bits and differ', () => {
    assert.ok(TOKEN_BYTES >= 16);
    assert.equal(Buffer.from(newToken(), 'base64url').length, TOKEN_BYTES);
    assert.notEqual(newToken(), newToken());
  });

  test('ApiKeyAuth: ok without a key; missing, wrong, ok with one', () => {
    assert.equal(new ApiKeyAuth(undefined).check({}), 'ok');
    const auth = new ApiKeyAuth('s3cret-key-1');
    assert.equal(auth.check({}), 'missing');
    assert.equal(auth.check({ authorization: 'Basic s3cret-key-1' }), 'missing');
    assert.equal(auth.check({ authorization: 'Bearer s3cret-key-2' }), 'wrong');
    assert.equal(auth.check({ authorization: 'bearer  s3cret-key-1 ' }), 'ok');
    assert.equal(bearerToken({ authorization: 'Bearer a b' }), undefined);
  });
});
