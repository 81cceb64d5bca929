/**
 * One softphone call (docs/softphone.md), with no page in it: the microphone, the audio graph, `POST /call`, the
 * call's WebSocket and Vapi's messages. The page passes a `view` and is told what to show through it.
 *
 * Wire: PCM16 little-endian at the AudioContext's rate, 20 ms per binary message, streamed once the server says
 * `in-progress`. Agent audio goes to the `pcm-player` worklet's jitter buffer, which `user-interrupted` and
 * `clear` empty at once. Hang up sends `end-call` and waits for the server to close.
 */
import { api } from './common.js';

/** The rates `POST /call` accepts; the AudioContext must run at one of them. */
const RATES = [8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000];
const JITTER_MS = 60;
/** Mic audio is not queued behind a slow socket: past this, frames are skipped (and counted). */
const MAX_SOCKET_BACKLOG = 64 * 1024;
const PING_EVERY_MS = 2000;
/** After `end-call`, how long the server gets to send its last messages and close before the page closes. */
const HANGUP_WAIT_MS = 3000;

/** An error whose message is already in plain words for the page. */
export class PlainError extends Error {}

/** Plain words for getUserMedia's errors. */
function micError(err) {
  const name = err?.name ?? '';
  if (name === 'NotAllowedError' || name === 'SecurityError') {
    return 'Microphone permission was denied. Allow the microphone for this page (the icon in the address bar) and press Call again.';
  }
  if (name === 'NotFoundError' || name === 'OverconstrainedError') {
    return 'No microphone was found. Plug one in (or enable it) and press Call again.';
  }
  if (name === 'NotReadableError' || name === 'AbortError') {
    return 'The microphone could not be opened: another application may be using it.';
  }
  return `The microphone could not be opened (${name || 'unknown error'}).`;
}

/** An AudioContext at `rate`, or at the device's rate; either way at a rate `POST /call` accepts. */
function newContext(rate) {
  const options = { latencyHint: 'interactive' };
  if (RATES.includes(rate)) options.sampleRate = rate;
  const ctx = new AudioContext(options);
  if (RATES.includes(ctx.sampleRate)) return ctx;
  void ctx.close();
  return new AudioContext({ latencyHint: 'interactive', sampleRate: 48000 });
}

const endCall = (id) =>
  void api('POST', `/call/${encodeURIComponent(id)}/control`, { type: 'end-call' }).catch(() => {});

/**
 * `view` receives: status(state, text), notice(text, kind), error(err), created(id), audio(rate), rtt(ms|null),
 * transcript(role, text, final), speaking(role, on), agentEvent(), finished().
 */
export class Call {
  constructor(view) {
    this.view = view;
    this.state = 'idle';
    this.id = '';
    this.ws = null;
    this.ctx = null;
    this.stream = null;
    this.capture = null;
    this.player = null;
    this.endedReason = '';
    this.hangingUp = false;
    this.finished = false;
    this.hangShown = false;
    this.counts = { received: 0, sent: 0, skipped: 0, interrupts: 0 };
    this.playerState = { played: 0, buffered: 0, underruns: 0, dropped: 0, flushes: 0 };
    this.level = 0;
    this.timers = [];
  }

  get rate() {
    return this.ctx?.sampleRate ?? 0;
  }

  setState(state, text) {
    this.state = state;
    this.view.status(state, text);
  }

  /** Call from the click handler: the AudioContext is made before any await, while the click still counts. */
  async start() {
    this.setState('mic', 'Asking for the microphone…');
    if (!window.isSecureContext || navigator.mediaDevices?.getUserMedia === undefined) {
      throw new PlainError(
        'This browser only allows the microphone on secure pages. Open the page at http://localhost or 127.0.0.1, or serve voxgate over https://.',
      );
    }
    this.ctx = newContext();
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      });
    } catch (err) {
      throw new PlainError(micError(err));
    }
    if (this.finished) {
      for (const track of stream.getTracks()) track.stop();
      return;
    }
    this.stream = stream;
    let source;
    try {
      source = this.ctx.createMediaStreamSource(stream);
    } catch {
      // Some browsers cannot connect a microphone running at another rate: run the page at the mic's rate.
      void this.ctx.close();
      this.ctx = newContext(stream.getAudioTracks()[0]?.getSettings().sampleRate);
      source = this.ctx.createMediaStreamSource(stream);
    }
    const ctx = this.ctx;
    await ctx.audioWorklet.addModule('/web/audio-worklet.js');
    if (ctx.state !== 'running') await ctx.resume();
    if (this.finished) return;
    this.#buildGraph(source);
    this.view.audio(this.rate);
    this.setState('creating', 'Creating the call…');
    const created = await api('POST', '/call', {
      transport: {
        provider: 'vapi.websocket',
        audioFormat: { format: 'pcm_s16le', container: 'raw', sampleRate: this.rate },
      },
      metadata: { client: 'voxgate-softphone' },
    });
    this.id = created.id;
    this.view.created(this.id);
    if (this.finished) {
      endCall(this.id);
      return;
    }
    this.setState('connecting', 'Connecting…');
    this.#open(created.transport.websocketCallUrl);
    this.#ping();
    this.timers.push(setInterval(() => this.#ping(), PING_EVERY_MS));
  }

  #buildGraph(source) {
    const ctx = this.ctx;
    // The capture node outputs silence; connecting it to the destination keeps the graph pulling it.
    this.capture = new AudioWorkletNode(ctx, 'mic-capture', { numberOfOutputs: 1, outputChannelCount: [1] });
    this.capture.port.onmessage = (event) => this.#onMicFrame(event.data);
    source.connect(this.capture).connect(ctx.destination);
    this.player = new AudioWorkletNode(ctx, 'pcm-player', {
      numberOfInputs: 0,
      numberOfOutputs: 1,
      outputChannelCount: [1],
      processorOptions: { jitterMs: JITTER_MS },
    });
    this.player.port.onmessage = (event) => {
      if (event.data?.type === 'state') this.playerState = event.data;
    };
    this.player.connect(ctx.destination);
  }

  #open(url) {
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.onopen = () => this.setState('ringing', 'Ringing… waiting for the agent to answer.');
    ws.onmessage = (event) => {
      if (typeof event.data === 'string') this.#onText(event.data);
      else this.#onAudio(event.data);
    };
    ws.onclose = (event) => this.#onClose(event);
  }

  /** 20 ms of Float32 mic audio: the level always; sent as PCM16 once the call is answered. */
  #onMicFrame(frame) {
    let sum = 0;
    for (let i = 0; i < frame.length; i++) sum += frame[i] * frame[i];
    this.level = Math.max(Math.sqrt(sum / frame.length), this.level * 0.8);
    const ws = this.ws;
    if (this.state !== 'connected' || ws === null || ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount > MAX_SOCKET_BACKLOG) {
      this.counts.skipped++;
      return;
    }
    const out = new ArrayBuffer(frame.length * 2);
    const view = new DataView(out);
    for (let i = 0; i < frame.length; i++) {
      const s = Math.max(-1, Math.min(1, frame[i]));
      view.setInt16(i * 2, s < 0 ? s * 0x8000 : s * 0x7fff, true);
    }
    ws.send(out);
    this.counts.sent += out.byteLength;
  }

  /** Agent audio, PCM16 little-endian at the call's rate (the AudioContext's): to the jitter buffer. */
  #onAudio(buffer) {
    this.counts.received += buffer.byteLength;
    if (this.player === null) return;
    const n = buffer.byteLength >> 1;
    const view = new DataView(buffer);
    const samples = new Float32Array(n);
    for (let i = 0; i < n; i++) samples[i] = view.getInt16(i * 2, true) / 0x8000;
    this.player.port.postMessage(samples, [samples.buffer]);
    if (this.hangShown) {
      this.hangShown = false;
      this.view.notice('');
    }
  }

  #onText(text) {
    let message;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    const view = this.view;
    switch (message.type) {
      case 'status-update':
        if (message.status === 'in-progress') {
          this.setState('connected', 'Connected. Speak any time.');
        } else if (message.status === 'ended') {
          this.endedReason = message.endedReason ?? '';
          this.setState('ending', `Call ending: ${this.endedReason || 'ended'}`);
        }
        break;
      case 'transcript':
      case 'transcript[transcriptType="final"]':
        view.agentEvent();
        view.transcript(
          message.role === 'assistant' ? 'assistant' : 'user',
          String(message.transcript ?? ''),
          message.transcriptType !== 'partial',
        );
        break;
      case 'speech-update':
        view.agentEvent();
        view.speaking(message.role, message.status === 'started');
        break;
      case 'user-interrupted':
      case 'clear':
        // Barge-in: what is queued in the page stops at once (the server has already stopped sending it).
        this.player?.port.postMessage({ type: 'flush' });
        this.counts.interrupts++;
        view.speaking('assistant', false);
        break;
      case 'hang':
        this.hangShown = true;
        view.notice('The agent is taking a while to answer…', 'hang');
        break;
      case 'error':
        view.notice(
          `The server refused a message from this page: ${message.message ?? message.code}`,
          'error',
        );
        break;
      case 'end-of-call-report':
        if (typeof message.durationSeconds === 'number') {
          view.notice(`The call lasted ${message.durationSeconds.toFixed(1)} s.`, 'report');
        }
        break;
      default:
        break;
    }
  }

  #onClose(event) {
    if (this.finished) return;
    const wasOpen = this.state !== 'connecting';
    const reason = this.endedReason || event.reason;
    if (reason !== '') this.setState('ended', `Call ended: ${reason}`);
    else if (this.hangingUp) this.setState('ended', 'Call ended.');
    else if (!wasOpen) {
      this.setState('failed', 'Not connected.');
      this.view.error(
        new PlainError(
          'The call’s audio connection was refused or could not be opened. The call may have expired or ended; press Call to try again.',
        ),
      );
    } else {
      this.setState('failed', 'Disconnected.');
      this.view.error(
        new PlainError(
          `The connection to the server closed unexpectedly (code ${event.code}). Press Call to try again.`,
        ),
      );
    }
    this.#finish();
  }

  /** Round trip of `GET /healthz` (the Vapi socket has no ping message). */
  #ping() {
    const t0 = performance.now();
    fetch('/healthz', { cache: 'no-store' }).then(
      () => this.view.rtt(performance.now() - t0),
      () => this.view.rtt(null),
    );
  }

  hangUp() {
    const ws = this.ws;
    this.hangingUp = true;
    if (ws !== null && ws.readyState === WebSocket.OPEN) {
      ws.send(JSON.stringify({ type: 'end-call' }));
      this.setState('ending', 'Hanging up…');
      // The server answers with its last messages and closes; if it does not, close from here.
      this.timers.push(setTimeout(() => ws.close(1000, 'end-call'), HANGUP_WAIT_MS));
      return;
    }
    // Not connected yet: cancel whatever is under way.
    if (this.id !== '') endCall(this.id);
    ws?.close();
    this.setState('ended', 'Call cancelled.');
    this.#finish();
  }

  /** Ends a call that could not start; the view shows `err`. */
  fail(err) {
    if (this.finished) return;
    this.setState('failed', 'Not connected.');
    this.view.error(err);
    this.ws?.close();
    this.#finish();
  }

  /** Releases the microphone, the audio graph, the socket and the timers; the counts stay readable. */
  #finish() {
    if (this.finished) return;
    this.finished = true;
    for (const timer of this.timers) {
      clearInterval(timer);
      clearTimeout(timer);
    }
    this.timers = [];
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    this.capture?.port.postMessage({ type: 'stop' });
    this.capture?.disconnect();
    this.level = 0;
    // Let the audio thread's last report arrive before the context goes.
    const ctx = this.ctx;
    setTimeout(() => void ctx?.close().catch(() => {}), 200);
    this.view.speaking('assistant', false);
    this.view.speaking('user', false);
    this.view.finished();
  }
}
