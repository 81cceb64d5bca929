import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { FrameClock } from './clock.js';

describe('FrameClock', () => {
  it('ticks its members and stops its timer when the last one leaves', async () => {
    const clock = new FrameClock(5);
    let ticks = 0;
    const member = { onTick: () => ticks++ };
    clock.add(member);
    assert.equal(clock.running, true);
    await sleep(60);
    clock.delete(member);
    assert.equal(clock.running, false);
    assert.ok(ticks >= 5, `expected several ticks, got ${ticks}`);
    const after = ticks;
    await sleep(20);
    assert.equal(ticks, after, 'no tick after the last member left');
  });

  it('catches up after a stall so the total stays near real time, bounded by maxCatchUp', async () => {
    const clock = new FrameClock(5, 4);
    let ticks = 0;
    const member = { onTick: () => ticks++ };
    clock.add(member);
    await sleep(12);
    const before = ticks;
    const until = performance.now() + 50; // block the loop: 10 periods
    while (performance.now() < until) {}
    await sleep(1);
    clock.delete(member);
    const burst = ticks - before;
    assert.ok(burst >= 2 && burst <= 4 + 1, `a stall is caught up by at most maxCatchUp ticks, got ${burst}`);
  });

  it('a member may leave and others join during a tick', async () => {
    const clock = new FrameClock(5);
    const seen: string[] = [];
    const late = { onTick: () => seen.push('late') };
    const once = {
      onTick: () => {
        seen.push('once');
        clock.delete(once);
        clock.add(late);
      },
    };
    clock.add(once);
    await sleep(30);
    clock.delete(late);
    assert.equal(seen[0], 'once');
    assert.equal(seen.filter((s) => s === 'once').length, 1);
    assert.ok(seen.includes('late'));
    assert.equal(clock.running, false);
  });
});
