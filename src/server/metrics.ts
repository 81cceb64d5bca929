import { mediaStats } from '../graph/stats.js';
import type { DurationRecorder, WireCounters } from '../transports/vapiWebSocket.js';

/**
 * Prometheus text exposition (format 0.0.4) with no dependency: a few counters, gauges and one histogram.
 * The frame path only increments plain fields; rendering happens on scrape.
 */

/** A fixed-bucket histogram of milliseconds, exposed in seconds (Prometheus' base unit). */
export class Histogram implements DurationRecorder {
  /** Upper bounds in milliseconds. */
  readonly bounds: readonly number[];
  readonly #counts: Float64Array;
  count = 0;
  sumMs = 0;

  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.#counts = new Float64Array(bounds.length);
  }

  observe(ms: number): void {
    this.count++;
    this.sumMs += ms;
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (ms <= bounds[i]!) {
        this.#counts[i]!++;
        return;
      }
    }
  }

  render(name: string, help: string): string[] {
    const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`];
    let cumulative = 0;
    for (let i = 0; i < this.bounds.length; i++) {
      cumulative += this.#counts[i]!;
      lines.push(`${name}_bucket{le="${this.bounds[i]! / 1000}"} ${cumulative}`);
    }
    lines.push(`${name}_bucket{le="+Inf"} ${this.count}`);
    lines.push(`${name}_sum ${this.sumMs / 1000}`);
    lines.push(`${name}_count ${this.count}`);
    return lines;
  }
}

/** Frame forwarding is synchronous and sub-millisecond when healthy: buckets from 10 µs to 50 ms. */
export const FORWARD_BUCKETS_MS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 50] as const;

export class ServerMetrics {
  /** Wire counters of calls that have ended; live calls are added on scrape. */
  readonly endedWire: WireCounters = {
    framesIn: 0,
    framesOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    framesDropped: 0,
    framesRefused: 0,
  };
  readonly forwardTime = new Histogram(FORWARD_BUCKETS_MS);
  callsCreated = 0;
  readonly callsEnded = new Map<string, number>();
  httpRequests = 0;
  httpErrors = 0;
  readonly #activeCalls: () => number;
  readonly #liveCalls: () => Iterable<{ transport: { counters: WireCounters } | null }>;

  constructor(
    activeCalls: () => number,
    liveCalls: () => Iterable<{ transport: { counters: WireCounters } | null }>,
  ) {
    this.#activeCalls = activeCalls;
    this.#liveCalls = liveCalls;
  }

  callEnded(reason: string, counters: WireCounters | undefined): void {
    this.callsEnded.set(reason, (this.callsEnded.get(reason) ?? 0) + 1);
    if (counters !== undefined) addCounters(this.endedWire, counters);
  }

  /** Totals over ended and live calls. */
  wire(): WireCounters {
    const total = { ...this.endedWire };
    for (const call of this.#liveCalls())
      if (call.transport !== null) addCounters(total, call.transport.counters);
    return total;
  }

  render(): string {
    const w = this.wire();
    const lines: string[] = [];
    const metric = (name: string, type: 'counter' | 'gauge', help: string, value: number): void => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${value}`);
    };
    metric('voxgate_calls_active', 'gauge', 'Calls queued or in progress.', this.#activeCalls());
    metric('voxgate_calls_created_total', 'counter', 'Calls created with POST /call.', this.callsCreated);
    lines.push(
      '# HELP voxgate_calls_ended_total Calls ended, by ended reason.',
      '# TYPE voxgate_calls_ended_total counter',
    );
    for (const [reason, n] of this.callsEnded)
      lines.push(`voxgate_calls_ended_total{reason="${reason}"} ${n}`);
    metric('voxgate_frames_in_total', 'counter', '20 ms audio frames received from callers.', w.framesIn);
    metric('voxgate_frames_out_total', 'counter', 'Audio frames sent to callers.', w.framesOut);
    metric(
      'voxgate_frames_dropped_total',
      'counter',
      'Frames dropped: playout buffers full, or a caller socket not reading.',
      w.framesDropped + mediaStats.framesDropped,
    );
    metric(
      'voxgate_frames_refused_total',
      'counter',
      'Caller frames refused for being too large.',
      w.framesRefused,
    );
    metric('voxgate_bytes_in_total', 'counter', 'Audio bytes received from callers.', w.bytesIn);
    metric('voxgate_bytes_out_total', 'counter', 'Audio bytes sent to callers.', w.bytesOut);
    metric(
      'voxgate_frames_forwarded_total',
      'counter',
      'Frames carried through media links.',
      mediaStats.framesForwarded,
    );
    metric(
      'voxgate_converters_created_total',
      'counter',
      'Media links that needed a converter.',
      mediaStats.convertersCreated,
    );
    metric('voxgate_http_requests_total', 'counter', 'HTTP requests served.', this.httpRequests);
    metric(
      'voxgate_http_errors_total',
      'counter',
      'HTTP requests answered with an error status.',
      this.httpErrors,
    );
    lines.push(
      ...this.forwardTime.render(
        'voxgate_frame_forward_seconds',
        'Time to carry one caller frame through the call graph (synchronous links).',
      ),
    );
    return `${lines.join('\n')}\n`;
  }
}

function addCounters(into: WireCounters, from: WireCounters): void {
  into.framesIn += from.framesIn;
  into.framesOut += from.framesOut;
  into.bytesIn += from.bytesIn;
  into.bytesOut += from.bytesOut;
  into.framesDropped += from.framesDropped;
  into.framesRefused += from.framesRefused;
}
