/**
 * The softphone page (docs/softphone.md): the Call and Hang up buttons, status, transcript, what the server runs
 * (`GET /info`) and live numbers. The call itself is call.js. Every number shown is also in a `data-*`
 * attribute, which the end-to-end test reads.
 */
import { Call, PlainError } from './call.js';
import { ApiError, api, el, keyForm, kilobytes, show } from './common.js';

const $ = (id) => document.getElementById(id);
const ui = {
  call: $('call'),
  hangup: $('hangup'),
  status: $('status'),
  dot: $('status-dot'),
  notice: $('notice'),
  error: $('error'),
  transcript: $('transcript'),
  transcriptEmpty: $('transcript-empty'),
  agent: $('speaking-agent'),
  user: $('speaking-user'),
  level: $('mic-level'),
  infoAgent: $('info-agent'),
  infoRecognition: $('info-recognition'),
  infoAudio: $('info-audio'),
  rtt: $('num-rtt'),
  buffered: $('num-buffered'),
  played: $('num-played'),
  received: $('num-received'),
  sent: $('num-sent'),
  underruns: $('num-underruns'),
  interrupts: $('num-interrupts'),
  callLink: $('num-call'),
};

const ROLE_NAMES = { assistant: 'Agent', user: 'You' };
const ACTIVE = ['mic', 'creating', 'connecting', 'ringing', 'connected', 'ending'];

let current = null;
let numbersTimer = null;
/** The partial transcript line of each side, replaced by its final line. */
let partials = { assistant: null, user: null };

function setSpeaking(role, on) {
  const pill = role === 'assistant' ? ui.agent : ui.user;
  if (pill === undefined) return;
  pill.classList.toggle('on', on);
  pill.dataset.speaking = String(on);
}

function setNotice(text, kind = '') {
  ui.notice.textContent = text;
  ui.notice.dataset.kind = kind;
}

function addTranscript(role, text, final) {
  let line = partials[role];
  if (line === null) {
    line = el('li', null, { class: `line ${role}`, 'data-role': role });
    line.append(el('span', ROLE_NAMES[role], { class: 'who' }), el('span', '', { class: 'text' }));
    ui.transcript.append(line);
    ui.transcriptEmpty.hidden = true;
  }
  line.querySelector('.text').textContent = text;
  line.dataset.final = String(final);
  line.classList.toggle('partial', !final);
  partials[role] = final ? null : line;
  line.scrollIntoView({ block: 'nearest' });
}

/** What a Call shows on this page. */
const view = {
  status(state, text) {
    ui.status.dataset.state = state;
    ui.status.textContent = text;
    ui.dot.dataset.state = state;
    const active = ACTIVE.includes(state);
    ui.call.disabled = active;
    ui.hangup.disabled = !active || state === 'ending';
    ui.call.textContent = state === 'ended' || state === 'failed' ? 'Call again' : 'Call';
  },
  notice: setNotice,
  error(err) {
    if (err instanceof ApiError && askKey(err)) show(ui.error, '');
    else if (err instanceof ApiError) show(ui.error, err.plain);
    else if (err instanceof PlainError) show(ui.error, err.message);
    else show(ui.error, `The call could not start: ${err?.message ?? err}`);
  },
  created(id) {
    ui.callLink.replaceChildren(
      el('a', id.slice(0, 8), { href: `/calls/${encodeURIComponent(id)}`, title: id }),
    );
    ui.callLink.dataset.id = id;
  },
  audio(rate) {
    ui.infoAudio.textContent = `PCM16 (pcm_s16le), ${rate} Hz, mono, 20 ms frames`;
    ui.infoAudio.dataset.rate = String(rate);
  },
  rtt(ms) {
    ui.rtt.dataset.ms = ms === null ? '' : ms.toFixed(1);
    ui.rtt.textContent = ms === null ? 'no answer' : `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
  },
  transcript: addTranscript,
  speaking: setSpeaking,
  /** Transcripts and speech updates seen (an echo scenario sends none). */
  agentEvent() {
    ui.transcript.dataset.events = String(Number(ui.transcript.dataset.events ?? 0) + 1);
  },
  finished() {
    renderNumbers();
    clearInterval(numbersTimer);
    numbersTimer = null;
    // Once more when the audio thread's last report is in.
    setTimeout(() => {
      renderNumbers();
      ui.level.value = 0;
    }, 150);
  },
};

function renderNumbers() {
  const call = current;
  if (call === null) return;
  const rate = call.rate || 1;
  const p = call.playerState;
  const bufferedMs = (p.buffered / rate) * 1000;
  ui.buffered.dataset.ms = bufferedMs.toFixed(0);
  ui.buffered.textContent = `${Math.round(bufferedMs)} ms`;
  const playedBytes = p.played * 2;
  ui.played.dataset.bytes = String(playedBytes);
  ui.played.textContent = `${kilobytes(playedBytes)} (${(p.played / rate).toFixed(1)} s)`;
  ui.received.dataset.bytes = String(call.counts.received);
  ui.received.textContent = kilobytes(call.counts.received);
  ui.sent.dataset.bytes = String(call.counts.sent);
  ui.sent.textContent =
    kilobytes(call.counts.sent) + (call.counts.skipped > 0 ? `, ${call.counts.skipped} frames skipped` : '');
  ui.underruns.dataset.count = String(p.underruns);
  ui.underruns.textContent = String(p.underruns);
  ui.interrupts.dataset.count = String(call.counts.interrupts);
  ui.interrupts.textContent = String(call.counts.interrupts);
  ui.level.value = Math.min(1, Math.sqrt(call.level) * 1.5);
}

function startCall() {
  show(ui.error, '');
  setNotice('');
  partials = { assistant: null, user: null };
  ui.transcript.replaceChildren();
  ui.transcript.dataset.events = '0';
  ui.transcriptEmpty.hidden = false;
  ui.callLink.textContent = '–';
  delete ui.callLink.dataset.id;
  const call = new Call(view);
  current = call;
  numbersTimer ??= setInterval(renderNumbers, 100);
  call.start().catch((err) => call.fail(err));
}

async function loadInfo() {
  try {
    const info = await api('GET', '/info');
    ui.infoAgent.textContent = info?.agent ?? info?.scenario ?? 'not reported';
    const rec = info?.recognition;
    ui.infoRecognition.textContent =
      rec === undefined
        ? 'not reported'
        : rec.available
          ? 'pocketsphinx is installed: the local agent can understand callers'
          : `not available, so the local agent repeats what callers say (echo mode): ${rec.reason}`;
    ui.infoRecognition.dataset.available = String(rec?.available === true);
  } catch (err) {
    if (askKey(err)) return;
    const text = err instanceof ApiError && err.status === 404 ? 'not reported by this server' : 'unknown';
    ui.infoAgent.textContent = text;
    ui.infoRecognition.textContent = text;
  }
}

const askKey = keyForm(() => {
  show(ui.error, '');
  void loadInfo();
});

ui.call.addEventListener('click', startCall);
ui.hangup.addEventListener('click', () => current?.hangUp());
window.addEventListener('pagehide', () => {
  if (current !== null && !current.finished) current.hangUp();
});
void loadInfo();
