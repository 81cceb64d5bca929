/**
 * Shared by the load benchmark's processes: the in-band frame marker (mu-law paths), the tone-burst pattern and
 * its onset detector (resampled PCM16 paths), a fixed-bucket latency histogram, and the cross-process clock.
 *
 * Marker: the first 7 bytes of every 160-byte mu-law frame are `0x5A 0xA5 seq(uint32 BE) check`. Any byte is a
 * valid mu-law code and every system under test passes mu-law bytes unchanged (voxgate's `audio/pcmu` path, the
 * relay, the Twilio peer), so the echo carries the sequence number back.
 *
 * Bursts: every PERIOD_FRAMES frames a BURST_FRAMES-long tone starts at a frame boundary (cosine phase, so its
 * first sample is already at full amplitude); its frequency cycles through BURST_FREQS, which names the burst
 * modulo 4 and makes the match unambiguous for latencies up to 4 periods. Resampling keeps both the onset and the
 * frequency, so the detector finds them on the way back.
 */

export const FRAME_MS = 20;
export const ULAW_FRAME_BYTES = 160;
export const MARKER_BYTES = 7;
const MAGIC0 = 0x5a;
const MAGIC1 = 0xa5;

/** Epoch milliseconds with sub-millisecond resolution, comparable between processes on one machine. */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

/** Low-level mu-law filler after the marker: a quiet 400 Hz tone, so the frame is plausible audio. */
const ULAW_FILLER = (() => {
  const out = new Uint8Array(ULAW_FRAME_BYTES);
  for (let i = 0; i < out.length; i++)
    out[i] = linearToUlaw(Math.round(600 * Math.sin((2 * Math.PI * 400 * i) / 8000)));
  return out;
})();

function linearToUlaw(sample: number): number {
  const BIAS = 0x84;
  let s = Math.max(-32635, Math.min(32635, sample));
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  s += BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

/** A fresh 160-byte mu-law frame carrying `seq`. */
export function markedUlawFrame(seq: number): Buffer {
  const frame = Buffer.allocUnsafe(ULAW_FRAME_BYTES);
  frame.set(ULAW_FILLER);
  frame[0] = MAGIC0;
  frame[1] = MAGIC1;
  frame.writeUInt32BE(seq >>> 0, 2);
  frame[6] = checkByte(seq);
  return frame;
}

function checkByte(seq: number): number {
  return (
    (MAGIC0 ^ (seq & 0xff) ^ ((seq >>> 8) & 0xff) ^ ((seq >>> 16) & 0xff) ^ ((seq >>> 24) & 0xff)) & 0xff
  );
}

/** The sequence number in the first bytes of `bytes`, or -1 when there is no valid marker. */
export function readMarker(bytes: Uint8Array): number {
  if (bytes.length < MARKER_BYTES || bytes[0] !== MAGIC0 || bytes[1] !== MAGIC1) return -1;
  const seq = ((bytes[2]! << 24) | (bytes[3]! << 16) | (bytes[4]! << 8) | bytes[5]!) >>> 0;
  return bytes[6] === checkByte(seq) ? seq : -1;
}

/** Decodes only the marker from a base64 payload (12 characters = 9 bytes). */
export function readMarkerBase64(b64: string): number {
  return readMarker(Buffer.from(b64.slice(0, 12), 'base64'));
}

// ---------------------------------------------------------------------------------------------------------------
// Tone bursts for resampled PCM16 paths.

export const PERIOD_FRAMES = 10;
export const BURST_FRAMES = 2;
export const BURST_FREQS = [500, 1000, 1500, 2000] as const;
const BURST_AMPLITUDE = 0.5 * 32767;
/** Onset: a sample at or above HI after at least MIN_QUIET_MS below LO. */
const HI = 0.2 * 32767;
const LO = 0.03 * 32767;
const MIN_QUIET_MS = 60;
/** Frequency is read from zero crossings over this long after the onset. */
const FREQ_WINDOW_MS = 20;

export interface BurstPattern {
  readonly rate: number;
  readonly frameSamples: number;
  /** Tone frames per frequency: [freqIndex][frameInBurst], PCM16 LE bytes. */
  readonly tone: Buffer[][];
  readonly silence: Buffer;
}

export function burstPattern(rate: number): BurstPattern {
  const frameSamples = (rate * FRAME_MS) / 1000;
  const tone = BURST_FREQS.map((freq) => {
    const frames: Buffer[] = [];
    for (let f = 0; f < BURST_FRAMES; f++) {
      const buf = Buffer.alloc(frameSamples * 2);
      for (let i = 0; i < frameSamples; i++) {
        const n = f * frameSamples + i;
        buf.writeInt16LE(Math.round(BURST_AMPLITUDE * Math.cos((2 * Math.PI * freq * n) / rate)), i * 2);
      }
      frames.push(buf);
    }
    return frames;
  });
  return { rate, frameSamples, tone, silence: Buffer.alloc(frameSamples * 2) };
}

/** The frame to send as the call's frame number `index` (never mutated after creation: safe to share). */
export function burstFrame(p: BurstPattern, index: number): Buffer {
  const inPeriod = index % PERIOD_FRAMES;
  if (inPeriod >= BURST_FRAMES) return p.silence;
  const burst = Math.floor(index / PERIOD_FRAMES);
  return p.tone[burst % BURST_FREQS.length]![inPeriod]!;
}

/** Finds burst onsets in a stream of PCM16 samples; calls `onOnset(timeMs, freqIndex)` for each. */
export class OnsetDetector {
  readonly #rate: number;
  readonly #minQuiet: number;
  readonly #window: number;
  #quiet = 0;
  #collecting = false;
  #collected = 0;
  #crossings = 0;
  #lastSign = 0;
  #onsetTime = 0;
  readonly #onOnset: (timeMs: number, freqIndex: number) => void;

  constructor(rate: number, onOnset: (timeMs: number, freqIndex: number) => void) {
    this.#rate = rate;
    this.#minQuiet = (rate * MIN_QUIET_MS) / 1000;
    this.#window = (rate * FREQ_WINDOW_MS) / 1000;
    this.#onOnset = onOnset;
  }

  /** `arrivalMs`: when the chunk arrived; sample i of it plays at arrivalMs + i / rate. */
  push(chunk: Uint8Array, arrivalMs: number): void {
    const n = chunk.length >> 1;
    const view = (chunk.byteOffset & 1) === 0 ? new Int16Array(chunk.buffer, chunk.byteOffset, n) : null;
    for (let i = 0; i < n; i++) {
      const v = view !== null ? view[i]! : ((chunk[2 * i]! | (chunk[2 * i + 1]! << 8)) << 16) >> 16;
      if (this.#collecting) {
        const sign = v > 0 ? 1 : v < 0 ? -1 : 0;
        if (sign !== 0 && this.#lastSign !== 0 && sign !== this.#lastSign) this.#crossings++;
        if (sign !== 0) this.#lastSign = sign;
        if (++this.#collected >= this.#window) this.#finish();
        continue;
      }
      const a = v < 0 ? -v : v;
      if (a >= HI && this.#quiet >= this.#minQuiet) {
        this.#collecting = true;
        this.#collected = 0;
        this.#crossings = 0;
        this.#lastSign = v > 0 ? 1 : -1;
        this.#onsetTime = arrivalMs + (i * 1000) / this.#rate;
        this.#quiet = 0;
      } else if (a < LO) this.#quiet++;
      else this.#quiet = 0;
    }
  }

  #finish(): void {
    this.#collecting = false;
    this.#quiet = 0;
    const freq = (this.#crossings * this.#rate) / (2 * this.#window);
    let best = 0;
    for (let k = 1; k < BURST_FREQS.length; k++) {
      if (Math.abs(BURST_FREQS[k]! - freq) < Math.abs(BURST_FREQS[best]! - freq)) best = k;
    }
    if (Math.abs(BURST_FREQS[best]! - freq) <= 250) this.#onOnset(this.#onsetTime, best);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Latency histogram, log-linear so a whole run's JSON stays small: 0.05 ms buckets below 20 ms, 0.5 ms below
// 200 ms, 5 ms below 2 s, 50 ms below 20 s; exact values above.

const TIERS = [
  { upTo: 20, width: 0.05 },
  { upTo: 200, width: 0.5 },
  { upTo: 2000, width: 5 },
  { upTo: 20_000, width: 50 },
] as const;
const TIER_START: number[] = [];
{
  let index = 0;
  let from = 0;
  for (const t of TIERS) {
    TIER_START.push(index);
    index += Math.round((t.upTo - from) / t.width);
    from = t.upTo;
  }
  TIER_START.push(index);
}
const BUCKETS = TIER_START[TIERS.length]!;

function bucketOf(ms: number): number {
  let from = 0;
  for (let k = 0; k < TIERS.length; k++) {
    const t = TIERS[k]!;
    if (ms < t.upTo) return TIER_START[k]! + Math.floor((Math.max(0, ms) - from) / t.width);
    from = t.upTo;
  }
  return -1;
}

/** The middle of bucket `index`, ms. */
export function bucketValue(index: number): number {
  let from = 0;
  for (let k = 0; k < TIERS.length; k++) {
    const t = TIERS[k]!;
    if (index < TIER_START[k + 1]!) return from + (index - TIER_START[k]! + 0.5) * t.width;
    from = t.upTo;
  }
  return Number.NaN;
}

export interface HistogramJson {
  /** Bucket layout (see TIERS in common.ts). */
  layout: 'loglin-1';
  /** [bucket index, count] pairs for non-empty buckets. */
  counts: [number, number][];
  over: number[];
  n: number;
  min: number;
  max: number;
}

export class Histogram {
  readonly #counts = new Uint32Array(BUCKETS);
  readonly #over: number[] = [];
  n = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;

  add(ms: number): void {
    this.n++;
    if (ms < this.min) this.min = ms;
    if (ms > this.max) this.max = ms;
    const b = bucketOf(ms);
    if (b >= 0) this.#counts[b]!++;
    else this.#over.push(ms);
  }

  toJSON(): HistogramJson {
    const counts: [number, number][] = [];
    for (let i = 0; i < BUCKETS; i++) if (this.#counts[i]! > 0) counts.push([i, this.#counts[i]!]);
    return { layout: 'loglin-1', counts, over: this.#over, n: this.n, min: this.min, max: this.max };
  }
}

/** The q-quantile (0..1) of a histogram, at bucket resolution; NaN when empty. */
export function quantile(h: HistogramJson, q: number): number {
  if (h.n === 0) return Number.NaN;
  if (q >= 1) return h.max;
  const rank = Math.ceil(q * h.n);
  let seen = 0;
  for (const [i, c] of h.counts) {
    seen += c;
    if (seen >= rank) return Math.min(bucketValue(i), h.max);
  }
  const over = [...h.over].sort((a, b) => a - b);
  return over[Math.min(over.length - 1, rank - seen - 1)] ?? h.max;
}

/** How many samples are above `ms`. */
export function countAbove(h: HistogramJson, ms: number): number {
  let n = 0;
  for (const [i, c] of h.counts) if (bucketValue(i) > ms) n += c;
  for (const v of h.over) if (v > ms) n++;
  return n;
}

/** Re-bins a histogram saved with uniform 0.05 ms buckets (the first runs) into the current layout. */
export function upgradeHistogram(
  h: HistogramJson | (Omit<HistogramJson, 'layout'> & { bucketMs: number }),
): HistogramJson {
  if ('layout' in h) return h;
  const out = new Map<number, number>();
  const over: number[] = [...h.over];
  for (const [i, c] of h.counts) {
    const b = bucketOf((i + 0.5) * h.bucketMs);
    if (b >= 0) out.set(b, (out.get(b) ?? 0) + c);
    else for (let k = 0; k < c; k++) over.push((i + 0.5) * h.bucketMs);
  }
  const regrouped = over.filter((v) => bucketOf(v) < 0);
  for (const v of over) {
    const b = bucketOf(v);
    if (b >= 0) out.set(b, (out.get(b) ?? 0) + 1);
  }
  return {
    layout: 'loglin-1',
    counts: [...out].sort((a, b) => a[0] - b[0]),
    over: regrouped,
    n: h.n,
    min: h.min,
    max: h.max,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// What the orchestrator asks the load generator to do.

export type CallerProtocol = 'openai' | 'vapi' | 'twilio';
export type CallerAudio = 'ulaw' | 'pcm16-16k' | 'pcm16-24k';

export interface TargetSpec {
  /** Row name in the results, e.g. `voxgate-ulaw`. */
  system: string;
  protocol: CallerProtocol;
  audio: CallerAudio;
  /** openai: `ws://host:port/v1/realtime`; vapi: `http://host:port`; twilio: `ws://host:port/media`. */
  url: string;
}

export interface StepSpec {
  target: TargetSpec;
  calls: number;
  /** Calls are started evenly over this long. */
  rampMs: number;
  warmupMs: number;
  holdMs: number;
  graceMs: number;
  /** Prefix of the per-call tags (`<tagPrefix>-<i>`): the echo server reports first-frame times by tag. */
  tagPrefix: string;
}

export interface StepResult {
  system: string;
  calls: number;
  /** Calls that were streaming when the window opened. */
  streaming: number;
  setupFailures: number;
  setupErrors: string[];
  /** Epoch ms at which each call's setup began (POST, or the WebSocket connect), by tag. */
  setupStart: Record<string, number>;
  windowMs: number;
  /** Round trip per frame (marker) or per burst (onset), sent inside the window. */
  rtt: HistogramJson;
  /** Median round trip in each second of the window (drift: a growing backlog shows as a rising series). */
  rttSeriesP50: number[];
  method: 'marker' | 'onset';
  /** Frames sent inside the window, and those whose echo came back by the end of the grace period. */
  framesSent: number;
  framesReceived: number;
  framesLost: number;
  /** Bursts sent in the window / detected back (onset method). */
  burstsSent: number;
  burstsDetected: number;
  /** Received frames without a valid marker, or onsets that matched no burst. */
  unmatched: number;
  /** How late the generator's send loop ran behind its 20 ms schedule. */
  pacerLateMs: { p50: number; p99: number; max: number };
  /** Setup start to the caller being told to stream (vapi: `in-progress`; others: socket open). */
  readyMs: { p50: number; p95: number; max: number };
  closedEarly: number;
}
