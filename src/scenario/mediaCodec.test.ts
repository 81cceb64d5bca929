/**
 * The VoxEngine media JSON codec (src/transports/voxengineMedia.ts): what it accepts, what it refuses with which
 * code, and the exact frames it writes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes } from '../errors.js';
import { ALAW_8K, PCM16_8K, PCM16_16K, ULAW_8K } from '../media/format.js';
import type { VoxInbound } from '../transports/voxengineMedia.js';
import { encodeMedia, encodeStart, encodeStop, parseVoxMediaMessage } from '../transports/voxengineMedia.js';

const parse = (message: unknown): VoxInbound =>
  parseVoxMediaMessage(typeof message === 'string' ? message : JSON.stringify(message));

function invalid(message: unknown): { code: string; asText: boolean } {
  const r = parse(message);
  assert.equal(r.type, 'invalid', JSON.stringify(message));
  return { code: r.type === 'invalid' ? r.error.code : '', asText: r.type === 'invalid' && r.asText };
}

describe('parseVoxMediaMessage', () => {
  it('reads start in every documented spelling; numbers may be strings', () => {
    const cases: [Record<string, unknown>, string, unknown][] = [
      [{ encoding: 'PCM8', sampleRate: 8000, channels: 1 }, 'PCM8', PCM16_8K],
      [{ encoding: 'PCM16', sampleRate: '16000', channels: '1' }, 'PCM16', PCM16_16K],
      [{ encoding: 'ULAW' }, 'ULAW', ULAW_8K],
      [{ encoding: 'audio/x-mulaw', sampleRate: 8000 }, 'ULAW', ULAW_8K],
      [{ encoding: 'alaw' }, 'ALAW', ALAW_8K],
      [{ encoding: 'audio/l16', sampleRate: 16000 }, 'PCM16', PCM16_16K],
      [{ encoding: 'PCM16_8KHZ' }, 'PCM8', PCM16_8K],
    ];
    for (const [mediaFormat, encoding, format] of cases) {
      const r = parse({ event: 'start', sequenceNumber: '0', start: { tag: 'a', mediaFormat } });
      assert.equal(r.type, 'start', JSON.stringify(mediaFormat));
      if (r.type !== 'start') continue;
      assert.equal(r.start.encoding, encoding);
      assert.equal(r.start.format, format);
      assert.equal(r.start.tag, 'a');
    }
  });

  it('accepts customParameters as an object or as a JSON string', () => {
    for (const customParameters of [{ lang: 'en', n: 1 }, '{"lang":"en","n":1}']) {
      const r = parse({ event: 'start', start: { mediaFormat: { encoding: 'PCM8' }, customParameters } });
      assert.deepEqual(r.type === 'start' && r.start.customParameters, { lang: 'en', n: '1' });
    }
  });

  it('refuses bad formats with a code', () => {
    const start = (mediaFormat: unknown) => ({ event: 'start', start: { mediaFormat } });
    assert.deepEqual(invalid(start({ encoding: 'PCM16', sampleRate: 8000 })), {
      code: ErrorCodes.BAD_MEDIA_FORMAT,
      asText: false,
    });
    assert.equal(invalid(start({ encoding: 'ULAW', sampleRate: 16000 })).code, ErrorCodes.BAD_MEDIA_FORMAT);
    assert.equal(invalid(start({ encoding: 'PCM8', channels: 2 })).code, ErrorCodes.BAD_MEDIA_FORMAT);
    assert.equal(
      invalid(start({ encoding: 'OPUS', sampleRate: 48000 })).code,
      ErrorCodes.UNSUPPORTED_ENCODING,
    );
    assert.equal(invalid(start({ encoding: 'MP3' })).code, ErrorCodes.UNSUPPORTED_ENCODING);
    assert.equal(invalid(start({ encoding: 8 })).code, ErrorCodes.BAD_MESSAGE);
    assert.equal(invalid(start('PCM8')).code, ErrorCodes.BAD_MESSAGE);
    assert.equal(invalid({ event: 'start' }).code, ErrorCodes.BAD_MESSAGE);
    assert.equal(invalid(start({ encoding: 'PCM8', sampleRate: 'fast' })).code, ErrorCodes.BAD_MESSAGE);
  });

  it('reads media: payload decoded, numeric strings accepted, empty tag = untagged', () => {
    const r = parse({ event: 'media', media: { tag: '', chunk: '7', timestamp: 1120, payload: 'AAEC' } });
    assert.equal(r.type, 'media');
    if (r.type !== 'media') return;
    assert.deepEqual([...r.media.payload], [0, 1, 2]);
    assert.equal(r.media.chunk, 7);
    assert.equal(r.media.timestamp, 1120);
    assert.equal(r.media.tag, undefined);
  });

  it('refuses bad media with a code', () => {
    const media = (m: Record<string, unknown>) => ({ event: 'media', media: m });
    assert.equal(invalid(media({ payload: 'AAE' })).code, ErrorCodes.BAD_BASE64);
    assert.equal(invalid(media({ payload: 'AA!C' })).code, ErrorCodes.BAD_BASE64);
    assert.equal(invalid(media({})).code, ErrorCodes.BAD_MESSAGE);
    assert.equal(invalid(media({ payload: 'AAEC', chunk: [1] })).code, ErrorCodes.BAD_MESSAGE);
    assert.equal(invalid(media({ payload: 'AAEC', tag: 5 })).code, ErrorCodes.BAD_MESSAGE);
  });

  it('reads stop with mediaInfo', () => {
    const r = parse({ event: 'stop', stop: { tag: 't', mediaInfo: { bytesSent: '640', duration: 40 } } });
    assert.deepEqual(r, { type: 'stop', stop: { tag: 't', bytesSent: 640, duration: 40 } });
  });

  it('tells media events from other text', () => {
    assert.equal(parse('hello').type, 'text');
    assert.equal(parse({ type: 'their own protocol' }).type, 'text');
    assert.equal(parse({ event: 'init' }).type, 'ignored');
    assert.deepEqual(invalid('{ not json'), { code: ErrorCodes.BAD_JSON, asText: true });
    assert.deepEqual(invalid({ event: 'mark' }), { code: ErrorCodes.UNKNOWN_MESSAGE, asText: true });
    assert.deepEqual(invalid({ event: 3 }), { code: ErrorCodes.BAD_MESSAGE, asText: true });
  });
});

describe('encode', () => {
  it('writes start, media and stop as numbers, and parses back', () => {
    assert.equal(
      encodeStart(0, 'call', 'PCM16', { k: 'v' }),
      '{"event":"start","sequenceNumber":0,"start":{"mediaFormat":{"encoding":"PCM16","sampleRate":16000,"channels":1},"tag":"call","customParameters":{"k":"v"}}}',
    );
    assert.equal(
      encodeStart(0, undefined, 'PCM8'),
      '{"event":"start","sequenceNumber":0,"start":{"mediaFormat":{"encoding":"PCM8","sampleRate":8000,"channels":1}}}',
    );
    const payload = new Uint8Array([9, 8, 7, 6]);
    const media = encodeMedia(5, 'call', 4, 1280, payload.subarray(1));
    assert.equal(
      media,
      '{"event":"media","sequenceNumber":5,"media":{"tag":"call","chunk":4,"timestamp":1280,"payload":"CAcG"}}',
    );
    const back = parseVoxMediaMessage(media);
    assert.deepEqual(back.type === 'media' && [...back.media.payload], [8, 7, 6]);
    assert.equal(
      encodeStop(250, 'call', 21100, 124),
      '{"event":"stop","sequenceNumber":250,"stop":{"tag":"call","mediaInfo":{"bytesSent":21100,"duration":124}}}',
    );
  });
});
