import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PCM16_8K, ULAW_8K } from '../media/format.js';
import { TestSink, TestSource } from './testUnits.js';
import { sendMediaBetween, stopMediaBetween } from './unit.js';

describe('MediaUnit routing', () => {
  it('passes a frame through with no copy when formats match', () => {
    const source = new TestSource(ULAW_8K);
    const sink = new TestSink(ULAW_8K);
    source.sendMediaTo(sink);
    const frame = new Uint8Array(160).fill(0x7f);
    source.emit(frame);
    assert.equal(sink.frames.length, 1);
    assert.equal(sink.frames[0], frame, 'the very same buffer reaches the sink');
    assert.equal(sink.input?.passthrough, true);
    assert.equal(sink.input?.converter, null);
  });

  it('a new inbound link replaces the old one (one stream in), and a source may feed many', () => {
    const a = new TestSource(ULAW_8K);
    const b = new TestSource(ULAW_8K);
    const sink = new TestSink(ULAW_8K);
    const other = new TestSink(ULAW_8K);
    a.sendMediaTo(sink);
    a.sendMediaTo(other);
    b.sendMediaTo(sink);
    assert.deepEqual(sink.events, [`attached:${a.unitId}`, `detached:${a.unitId}`, `attached:${b.unitId}`]);
    assert.equal(a.outputs.length, 1, 'a keeps only its link to the other sink');
    a.emit(new Uint8Array(160));
    b.emit(new Uint8Array(160));
    assert.equal(sink.frames.length, 1, 'sink hears only b');
    assert.equal(other.frames.length, 1, 'other still hears a');
  });

  it('stopMediaTo removes the link, closes it, and is a no-op when there is none', () => {
    const source = new TestSource(ULAW_8K);
    const sink = new TestSink(ULAW_8K);
    source.sendMediaTo(sink);
    const link = sink.input!;
    source.stopMediaTo(sink);
    source.stopMediaTo(sink);
    assert.equal(link.closed, true);
    assert.equal(sink.input, null);
    source.emit(new Uint8Array(160));
    assert.equal(sink.frames.length, 0);
  });

  it('tagged streams reach only the links that asked for their tag', () => {
    const source = new TestSource(ULAW_8K);
    const left = new TestSink(ULAW_8K);
    const right = new TestSink(ULAW_8K);
    source.sendMediaTo(left, { tag: 'left' });
    source.sendMediaTo(right, { tag: 'right' });
    source.emit(new Uint8Array([1]), 'left');
    source.emit(new Uint8Array([2]), 'right');
    source.emit(new Uint8Array([3]), 'right');
    assert.deepEqual(
      left.frames.map((f) => f[0]),
      [1],
    );
    assert.deepEqual(
      right.frames.map((f) => f[0]),
      [2, 3],
    );
  });

  it('clearOutputs tells each fed target (or only one tag) to drop what it holds', () => {
    const source = new TestSource(ULAW_8K);
    const left = new TestSink(ULAW_8K);
    const right = new TestSink(ULAW_8K);
    source.sendMediaTo(left, { tag: 'left' });
    source.sendMediaTo(right, { tag: 'right' });
    source.clear('right');
    assert.deepEqual(
      left.events.filter((e) => e.startsWith('cleared')),
      [],
    );
    assert.deepEqual(
      right.events.filter((e) => e.startsWith('cleared')),
      [`cleared:${source.unitId}`],
    );
  });

  it('sendMediaBetween binds both directions and stopMediaBetween unbinds them', () => {
    const a = new TestSink(PCM16_8K);
    const b = new TestSink(PCM16_8K);
    sendMediaBetween(a, b);
    assert.equal(a.input?.source, b);
    assert.equal(b.input?.source, a);
    stopMediaBetween(a, b);
    assert.equal(a.input, null);
    assert.equal(b.input, null);
  });

  it('detachAll removes every link in and out and can run twice', () => {
    const source = new TestSource(ULAW_8K);
    const sink = new TestSink(ULAW_8K);
    const sink2 = new TestSink(ULAW_8K);
    source.sendMediaTo(sink);
    source.sendMediaTo(sink2);
    source.close();
    source.close();
    assert.equal(source.outputs.length, 0);
    assert.equal(sink.input, null);
    assert.equal(sink2.input, null);
  });
});
