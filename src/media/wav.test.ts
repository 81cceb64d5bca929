import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ALAW_8K, PCM16_16K, ULAW_8K } from './format.js';
import { pcm16Bytes } from './pcm.js';
import { parseWav, wavFile } from './wav.js';

/** A WAV with an arbitrary fmt chunk, for the cases wavFile() never writes. */
function rawWav(
  fmt: { tag: number; channels: number; rate: number; bits: number },
  data: Uint8Array,
): Buffer {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8, 'latin1');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(fmt.tag, 20);
  header.writeUInt16LE(fmt.channels, 22);
  header.writeUInt32LE(fmt.rate, 24);
  header.writeUInt32LE((fmt.rate * fmt.channels * fmt.bits) / 8, 28);
  header.writeUInt16LE((fmt.channels * fmt.bits) / 8, 32);
  header.writeUInt16LE(fmt.bits, 34);
  header.write('data', 36, 'latin1');
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

describe('WAV', () => {
  it('writes a 44-byte header and reads it back, for each encoding', () => {
    const pcm = pcm16Bytes(new Int16Array([0, 1000, -1000, 32767]));
    for (const [format, data] of [
      [PCM16_16K, pcm],
      [ULAW_8K, new Uint8Array([0xff, 0x00, 0x80])],
      [ALAW_8K, new Uint8Array([0xd5, 0x55])],
    ] as const) {
      const file = wavFile(format, data);
      assert.equal(file.length, 44 + data.length + (data.length & 1));
      const parsed = parseWav(file);
      assert.equal(parsed.format, format);
      assert.deepEqual(new Uint8Array(parsed.data), new Uint8Array(data));
    }
  });

  it('skips unknown chunks and reads a streamed data size', () => {
    const file = wavFile(ULAW_8K, new Uint8Array(10).fill(7));
    const list = Buffer.from('LIST\x03\x00\x00\x00abc\x00', 'latin1');
    const withList = Buffer.concat([file.subarray(0, 36), list, file.subarray(36)]);
    withList.writeUInt32LE(0xffffffff, 36 + list.length + 4);
    const parsed = parseWav(withList);
    assert.deepEqual([...parsed.data], new Array(10).fill(7));
  });

  it('downmixes stereo PCM16 by averaging', () => {
    const stereo = pcm16Bytes(new Int16Array([100, 300, -32768, -32768, 1, 2]));
    const parsed = parseWav(rawWav({ tag: 1, channels: 2, rate: 16000, bits: 16 }, stereo));
    assert.equal(parsed.format, PCM16_16K);
    assert.deepEqual([...new Int16Array(new Uint8Array(parsed.data).buffer)], [200, -32768, 2]);
  });

  it('refuses what it cannot play, saying why', () => {
    const data = new Uint8Array(8);
    assert.throws(() => parseWav(Buffer.from('not a wav file at all')), /not a RIFF\/WAVE/);
    assert.throws(() => parseWav(rawWav({ tag: 1, channels: 1, rate: 16000, bits: 24 }, data)), /24 bits/);
    assert.throws(
      () => parseWav(rawWav({ tag: 3, channels: 1, rate: 16000, bits: 32 }, data)),
      /format tag 3/,
    );
    assert.throws(() => parseWav(rawWav({ tag: 1, channels: 1, rate: 12345, bits: 16 }, data)), /12345 Hz/);
    assert.throws(
      () => parseWav(rawWav({ tag: 7, channels: 2, rate: 8000, bits: 8 }, data)),
      /2-channel ulaw/,
    );
    assert.throws(() => parseWav(wavFile(ULAW_8K, data).subarray(0, 36)), /no data chunk/);
    assert.throws(() => wavFile(PCM16_16K, new Uint8Array(3)), RangeError);
  });
});
