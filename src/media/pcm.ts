/**
 * PCM16 helpers shared by the media code and by the tests of every layer: byte ⇄ sample views, test tones, and
 * two measurements (frequency and tone level) that tests use to check a signal survived a path.
 *
 * PCM16 on the wire is little-endian; the views below use the host's byte order, which is little-endian on every
 * platform Node ships prebuilt binaries for (x64, arm64).
 */

/**
 * The samples in `bytes`: a zero-copy view when `bytes.byteOffset` is even, else a copy (an Int16Array cannot
 * start at an odd offset, and ws hands us Buffers that do). Throws a RangeError for an odd byte count.
 */
export function pcm16View(bytes: Uint8Array): Int16Array {
  const n = bytes.byteLength;
  if ((n & 1) !== 0) throw new RangeError(`PCM16 data must be an even number of bytes, got ${n}`);
  if ((bytes.byteOffset & 1) === 0) return new Int16Array(bytes.buffer, bytes.byteOffset, n >> 1);
  const copy = allocPcm16(n >> 1);
  new Uint8Array(copy.buffer, copy.byteOffset, n).set(bytes);
  return copy;
}

/**
 * A fresh, uninitialised Int16Array for `samples` samples, carved from Node's Buffer pool. For frame-sized
 * arrays this is several times cheaper than `new Int16Array(n)` (which allocates a backing store each time:
 * about 400 ns against 60 ns here), and the pool keeps offsets 8-byte aligned. Like any small Buffer, a kept
 * array pins its 8 KB pool slab.
 */
export function allocPcm16(samples: number): Int16Array {
  const bytes = Buffer.allocUnsafe(samples * 2);
  return new Int16Array(bytes.buffer, bytes.byteOffset, samples);
}

/** The bytes of `samples` as a Buffer over the same memory (no copy). */
export function pcm16Bytes(samples: Int16Array): Buffer {
  return Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
}

/** A sine tone: `ms` of `freqHz` at `rate`, peak `amplitude` (0..1 of full scale), starting at phase 0. */
export function sine(freqHz: number, rate: number, ms: number, amplitude = 0.5): Int16Array {
  const n = Math.round((rate * ms) / 1000);
  const out = new Int16Array(n);
  const w = (2 * Math.PI * freqHz) / rate;
  const peak = amplitude * 32767;
  for (let i = 0; i < n; i++) out[i] = Math.round(peak * Math.sin(w * i));
  return out;
}

/**
 * The frequency of a single tone, from rising zero crossings with sub-sample interpolation. A crossing counts
 * only after the signal has gone below -10 % of its peak, so quantisation noise around zero (G.711 at low
 * levels) does not add crossings. Accurate to well under 1 % for a tone of 20+ periods; meaningless for
 * speech or chords. Returns 0 when fewer than two crossings are found.
 */
export function dominantFrequency(pcm: Int16Array, rate: number): number {
  let peak = 0;
  for (let i = 0; i < pcm.length; i++) {
    const a = Math.abs(pcm[i]!);
    if (a > peak) peak = a;
  }
  const hysteresis = peak * 0.1;
  let armed = false;
  let first = -1;
  let last = -1;
  let count = 0;
  for (let i = 1; i < pcm.length; i++) {
    const x = pcm[i]!;
    if (x < -hysteresis) armed = true;
    else if (armed && x >= 0) {
      const prev = pcm[i - 1]!;
      const t = i - 1 + (prev < 0 ? -prev / (x - prev) : 0);
      if (first < 0) first = t;
      last = t;
      count++;
      armed = false;
    }
  }
  if (count < 2) return 0;
  return ((count - 1) * rate) / (last - first);
}

/**
 * The level of the component at `freqHz`, in dBFS RMS (the same scale as {@link rmsDbfs}, so a pure tone gives
 * the same number from both). A Hann-windowed Goertzel at the exact frequency, so the tone need not sit on a
 * DFT bin; the window keeps other components from leaking in. Use a few dozen periods or more.
 */
export function toneLevelDb(pcm: Int16Array, freqHz: number, rate: number): number {
  const n = pcm.length;
  if (n === 0) return Number.NEGATIVE_INFINITY;
  const w = (2 * Math.PI * freqHz) / rate;
  const coeff = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  let windowSum = 0;
  for (let i = 0; i < n; i++) {
    const hann = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1 || 1));
    windowSum += hann;
    const s = pcm[i]! * hann + coeff * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  const amplitude = (2 * Math.sqrt(Math.max(0, power))) / windowSum;
  if (amplitude === 0) return Number.NEGATIVE_INFINITY;
  return 20 * Math.log10(amplitude / Math.SQRT2 / 32768);
}
