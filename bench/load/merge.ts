/** Merges the rounds of one system at one step: histograms and counters add up, windows too. */
import type { HistogramJson, StepResult } from './common.js';

export function mergeHistograms(list: readonly HistogramJson[]): HistogramJson {
  const counts = new Map<number, number>();
  const over: number[] = [];
  let n = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const h of list) {
    for (const [i, c] of h.counts) counts.set(i, (counts.get(i) ?? 0) + c);
    over.push(...h.over);
    n += h.n;
    if (h.n > 0) {
      min = Math.min(min, h.min);
      max = Math.max(max, h.max);
    }
  }
  return {
    layout: 'loglin-1',
    counts: [...counts].sort((a, b) => a[0] - b[0]),
    over,
    n,
    min,
    max,
  };
}

export function mergeResults(list: readonly StepResult[]): StepResult {
  const first = list[0]!;
  if (list.length === 1) return { ...first, setupStart: {} };
  const sum = (f: (r: StepResult) => number): number => list.reduce((a, r) => a + f(r), 0);
  return {
    system: first.system,
    calls: first.calls,
    streaming: Math.min(...list.map((r) => r.streaming)),
    setupFailures: sum((r) => r.setupFailures),
    setupErrors: list.flatMap((r) => r.setupErrors),
    setupStart: {},
    windowMs: sum((r) => r.windowMs),
    rtt: mergeHistograms(list.map((r) => r.rtt)),
    rttSeriesP50: list.flatMap((r) => r.rttSeriesP50),
    method: first.method,
    framesSent: sum((r) => r.framesSent),
    framesReceived: sum((r) => r.framesReceived),
    framesLost: sum((r) => r.framesLost),
    burstsSent: sum((r) => r.burstsSent),
    burstsDetected: sum((r) => r.burstsDetected),
    unmatched: sum((r) => r.unmatched),
    pacerLateMs: {
      p50: sum((r) => r.pacerLateMs.p50) / list.length,
      p99: Math.max(...list.map((r) => r.pacerLateMs.p99)),
      max: Math.max(...list.map((r) => r.pacerLateMs.max)),
    },
    readyMs: {
      p50: sum((r) => r.readyMs.p50) / list.length,
      p95: Math.max(...list.map((r) => r.readyMs.p95)),
      max: Math.max(...list.map((r) => r.readyMs.max)),
    },
    closedEarly: sum((r) => r.closedEarly),
  };
}
