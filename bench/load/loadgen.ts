/**
 * The load generator: N callers against one system, one step at a time. Runs as its own process (forked by
 * run.ts, commands over IPC) so its CPU and memory are measured apart from the system under test; `runStep` is
 * also callable in-process (the smoke test).
 *
 * A step: start the calls evenly over `rampMs`; each caller streams 20 ms frames in real time from the moment
 * its call is ready. Callers are spread over 10 send slots 2 ms apart (real callers do not all send in the same
 * millisecond); each slot keeps its own 20 ms schedule and catches up after a stall (at most 10 frames), so every
 * call sends real-time audio in total. After `warmupMs` the measurement window opens for `holdMs`; frames sent
 * inside it are the ones measured; `graceMs` later the results are collected and every call hangs up.
 */
import { pathToFileURL } from 'node:url';
import { Caller, type CallerShared } from './callers.js';
import { burstPattern, FRAME_MS, Histogram, quantile, type StepResult, type StepSpec } from './common.js';

const SLOTS = 10;
const SLOT_SPACING_MS = FRAME_MS / SLOTS;
const MAX_CATCH_UP = 10;
const DRAIN_QUIET_MS = 300;
const DRAIN_MAX_MS = 4000;

export interface StepHooks {
  /** Calls start being set up / are all up; the measurement window opened / closed (the orchestrator samples
   * process CPU at the window's edges and keeps the spans for CPU profiles). */
  onWindow?(phase: 'ramp-start' | 'ramp-end' | 'start' | 'end'): void;
  onLog?(line: string): void;
}

class Pacer {
  readonly #slots: Caller[][] = Array.from({ length: SLOTS }, () => []);
  readonly #next = new Float64Array(SLOTS);
  readonly late = new Histogram();
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;

  constructor() {
    const now = performance.now();
    for (let s = 0; s < SLOTS; s++) this.#next[s] = now + s * SLOT_SPACING_MS;
    this.#schedule();
  }

  add(caller: Caller, index: number): void {
    this.#slots[index % SLOTS]!.push(caller);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
  }

  #schedule(): void {
    if (this.#stopped) return;
    let soonest = Number.POSITIVE_INFINITY;
    for (let s = 0; s < SLOTS; s++) soonest = Math.min(soonest, this.#next[s]!);
    this.#timer = setTimeout(this.#fire, Math.max(0, soonest - performance.now()));
  }

  readonly #fire = (): void => {
    this.#timer = null;
    const now = performance.now();
    for (let s = 0; s < SLOTS; s++) {
      let due = Math.floor((now - this.#next[s]!) / FRAME_MS) + 1;
      if (due <= 0) continue;
      this.late.add(now - this.#next[s]!);
      if (due > MAX_CATCH_UP) {
        this.#next[s] = now - FRAME_MS * (MAX_CATCH_UP - 1);
        due = MAX_CATCH_UP;
      }
      const callers = this.#slots[s]!;
      for (let d = 0; d < due; d++) {
        for (let i = 0; i < callers.length; i++) {
          const c = callers[i]!;
          if (c.streaming) c.sendFrame();
        }
      }
      this.#next[s]! += due * FRAME_MS;
    }
    this.#schedule();
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runStep(spec: StepSpec, hooks: StepHooks = {}): Promise<StepResult> {
  const target = spec.target;
  const rate = target.audio === 'pcm16-16k' ? 16000 : target.audio === 'pcm16-24k' ? 24000 : 0;
  const shared: CallerShared = {
    target,
    rtt: new Histogram(),
    series: [],
    windowStart: 0,
    pattern: rate === 0 ? null : burstPattern(rate),
    windowOpen: false,
    lastAudioAt: 0,
  };
  const pacer = new Pacer();
  const callers: Caller[] = [];
  const errors = new Map<string, number>();
  let failures = 0;
  const starts: Promise<void>[] = [];
  hooks.onWindow?.('ramp-start');
  const t0 = performance.now();
  for (let i = 0; i < spec.calls; i++) {
    const due = t0 + (spec.rampMs * i) / spec.calls;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const caller = new Caller(shared, `${spec.tagPrefix}-${i}`);
    callers.push(caller);
    starts.push(
      caller.start().then(
        () => pacer.add(caller, i),
        (err: unknown) => {
          failures++;
          const m = String((err as Error).message).slice(0, 120);
          errors.set(m, (errors.get(m) ?? 0) + 1);
        },
      ),
    );
  }
  await Promise.all(starts);
  hooks.onWindow?.('ramp-end');
  hooks.onLog?.(
    `${target.system} ${spec.calls}: ${spec.calls - failures} calls up in ${Math.round(performance.now() - t0)} ms`,
  );
  await sleep(spec.warmupMs);
  const streaming = callers.filter((c) => c.streaming).length;
  const w0 = performance.now();
  shared.windowStart = w0;
  shared.windowOpen = true;
  hooks.onWindow?.('start');
  await sleep(spec.holdMs);
  shared.windowOpen = false;
  const windowMs = performance.now() - w0;
  hooks.onWindow?.('end');
  await sleep(spec.graceMs);
  pacer.stop();
  // Let what is in flight or queued come back: a frame is lost only if it is not back once the echoes have
  // stopped for DRAIN_QUIET_MS (at most DRAIN_MAX_MS), so a standing queue counts as latency, not loss.
  const drainEnd = performance.now() + DRAIN_MAX_MS;
  while (performance.now() < drainEnd && performance.now() - shared.lastAudioAt < DRAIN_QUIET_MS)
    await sleep(50);
  const result = collect(spec, shared, callers, pacer, windowMs, streaming, failures, errors);
  await Promise.all(callers.map((c) => c.end()));
  return result;
}

function collect(
  spec: StepSpec,
  shared: CallerShared,
  callers: Caller[],
  pacer: Pacer,
  windowMs: number,
  streaming: number,
  failures: number,
  errors: Map<string, number>,
): StepResult {
  let framesSent = 0;
  let framesReceived = 0;
  let framesLost = 0;
  let burstsSent = 0;
  let burstsDetected = 0;
  let unmatched = 0;
  const onset = shared.pattern !== null;
  const frameBytes = onset ? shared.pattern!.frameSamples * 2 : 160;
  for (const c of callers) {
    const k = c.counters;
    framesSent += k.framesSentW;
    burstsSent += k.burstsSentW;
    burstsDetected += k.burstsDetectedW;
    unmatched += k.unmatched;
    if (onset) {
      // Resampled audio carries no frame identity: lost frames come from the whole call's byte balance after
      // the drain (what was sent once the path carried audio, minus all that came back; one frame of tolerance
      // for the resamplers' and framers' hold-back). A growing backlog is latency, not loss, and is not counted.
      const sent = k.bytesSentAll - Math.max(0, k.bytesSentBeforeEcho);
      const lost = Math.max(0, Math.floor((sent - k.bytesRecvAll) / frameBytes) - 1);
      framesLost += Math.min(lost, k.framesSentW);
      framesReceived += k.framesSentW - Math.min(lost, k.framesSentW);
    } else {
      framesReceived += k.framesRecvW;
      framesLost += k.framesSentW - k.framesRecvW;
    }
  }
  const setupStart: Record<string, number> = {};
  for (const c of callers) if (c.setupStartEpoch > 0) setupStart[c.tag] = c.setupStartEpoch;
  const late = pacer.late.toJSON();
  const ready = callers
    .filter((c) => c.readyEpoch > 0)
    .map((c) => c.readyEpoch - c.setupStartEpoch)
    .sort((a, b) => a - b);
  const rq = (p: number): number =>
    ready[Math.min(ready.length - 1, Math.ceil(p * ready.length) - 1)] ?? Number.NaN;
  return {
    system: spec.target.system,
    calls: spec.calls,
    streaming,
    setupFailures: failures,
    setupErrors: [...errors].map(([m, n]) => `${n}× ${m}`),
    setupStart,
    windowMs,
    rtt: shared.rtt.toJSON(),
    rttSeriesP50: shared.series.map((v) => median(v)),
    method: onset ? 'onset' : 'marker',
    framesSent,
    framesReceived,
    framesLost,
    burstsSent,
    burstsDetected,
    unmatched,
    pacerLateMs: { p50: quantile(late, 0.5), p99: quantile(late, 0.99), max: late.max },
    readyMs: { p50: rq(0.5), p95: rq(0.95), max: ready[ready.length - 1] ?? Number.NaN },
    closedEarly: callers.filter((c) => c.closedEarly).length,
  };
}

function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Child-process mode: `{cmd: 'step', spec}` in, `{type: 'window'|'log'|'result'|'error'}` out. */
function serveIpc(): void {
  const send = (m: object): void => {
    process.send?.(m);
  };
  process.on('message', (msg: { cmd: string; spec?: StepSpec }) => {
    if (msg.cmd === 'exit') process.exit(0);
    if (msg.cmd !== 'step' || msg.spec === undefined) return;
    runStep(msg.spec, {
      onWindow: (phase) => send({ type: 'window', phase }),
      onLog: (line) => send({ type: 'log', line }),
    }).then(
      (result) => send({ type: 'result', result }),
      (err: unknown) => send({ type: 'error', message: String((err as Error).stack ?? err) }),
    );
  });
  send({ type: 'ready' });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) serveIpc();
