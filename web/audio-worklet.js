/**
 * The softphone's two audio processors, run on the browser's audio thread (AudioWorkletGlobalScope, where
 * `sampleRate` is the AudioContext's rate).
 *
 * - `mic-capture`: gathers the microphone's 128-sample blocks into 20 ms Float32 frames (mono: channels are
 *   averaged) and posts each one to the page, which converts it to PCM16 and sends it.
 * - `pcm-player`: plays the agent's audio through a small jitter buffer. Playback starts once `jitterMs` of
 *   audio is queued, and again after a gap; `flush` empties the queue at once (barge-in). It reports what it has
 *   played and what it holds every ~50 ms.
 */

class MicCapture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.size = Math.round(sampleRate / 50);
    this.frame = new Float32Array(this.size);
    this.filled = 0;
    this.running = true;
    this.port.onmessage = (event) => {
      if (event.data?.type === 'stop') this.running = false;
    };
  }

  process(inputs) {
    if (!this.running) return false;
    const channels = inputs[0];
    if (channels === undefined || channels.length === 0) return true;
    const first = channels[0];
    const n = first.length;
    const count = channels.length;
    for (let i = 0; i < n; i++) {
      let sum = first[i];
      for (let c = 1; c < count; c++) sum += channels[c][i];
      this.frame[this.filled++] = count === 1 ? sum : sum / count;
      if (this.filled === this.size) {
        this.port.postMessage(this.frame, [this.frame.buffer]);
        this.frame = new Float32Array(this.size);
        this.filled = 0;
      }
    }
    return true;
  }
}

/** Reports per second: often enough for live numbers, cheap for the audio thread. */
const REPORT_EVERY = 20;
/** Audio that resumes within this time after the queue ran dry counts as an underrun. */
const GAP_SECONDS = 0.2;

class PcmPlayer extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const opts = options.processorOptions ?? {};
    this.capacity = Math.round(sampleRate * (opts.maxBufferSeconds ?? 10));
    this.ring = new Float32Array(this.capacity);
    this.read = 0;
    this.write = 0;
    this.size = 0;
    this.prebuffer = Math.round((sampleRate * (opts.jitterMs ?? 60)) / 1000);
    this.playing = false;
    this.played = 0;
    this.underruns = 0;
    /** `currentFrame` when the queue last ran dry mid-block, or -1. */
    this.dryAt = -1;
    this.dropped = 0;
    this.flushes = 0;
    this.blocks = 0;
    this.interval = Math.max(1, Math.round(sampleRate / 128 / REPORT_EVERY));
    this.port.onmessage = (event) => {
      const data = event.data;
      if (data instanceof Float32Array) this.push(data);
      else if (data?.type === 'flush') this.flush();
    };
  }

  push(samples) {
    // Audio arriving soon after the queue ran dry means the listener heard a gap in one stream (an underrun);
    // later audio is simply the next utterance.
    if (this.dryAt >= 0) {
      if (currentFrame - this.dryAt < sampleRate * GAP_SECONDS) this.underruns++;
      this.dryAt = -1;
    }
    let n = samples.length;
    // A full queue (the page stalled for seconds) drops the newest audio and counts it.
    if (n > this.capacity - this.size) {
      this.dropped += n - (this.capacity - this.size);
      n = this.capacity - this.size;
    }
    for (let i = 0; i < n; i++) {
      this.ring[this.write] = samples[i];
      this.write = this.write + 1 === this.capacity ? 0 : this.write + 1;
    }
    this.size += n;
  }

  flush() {
    this.read = 0;
    this.write = 0;
    this.size = 0;
    this.playing = false;
    this.dryAt = -1;
    this.flushes++;
    this.report();
  }

  report() {
    this.port.postMessage({
      type: 'state',
      played: this.played,
      buffered: this.size,
      underruns: this.underruns,
      dropped: this.dropped,
      flushes: this.flushes,
    });
  }

  process(_inputs, outputs) {
    const out = outputs[0][0];
    const n = out.length;
    if (!this.playing && this.size >= this.prebuffer && this.size > 0) this.playing = true;
    let i = 0;
    if (this.playing) {
      const take = Math.min(n, this.size);
      for (; i < take; i++) {
        out[i] = this.ring[this.read];
        this.read = this.read + 1 === this.capacity ? 0 : this.read + 1;
      }
      this.size -= take;
      this.played += take;
      if (this.size === 0) {
        this.playing = false;
        this.dryAt = currentFrame;
      }
    }
    for (; i < n; i++) out[i] = 0;
    for (let c = 1; c < outputs[0].length; c++) outputs[0][c].set(out);
    if (++this.blocks % this.interval === 0) this.report();
    return true;
  }
}

registerProcessor('mic-capture', MicCapture);
registerProcessor('pcm-player', PcmPlayer);
