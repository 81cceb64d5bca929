/**
 * The call view (docs/softphone.md): `/calls` lists recent calls from `GET /call`; `/calls/<id>` (or
 * `/calls?id=<id>`) shows one call from `GET /call/:id`, its timings and transcript. Both refresh every two
 * seconds while the tab is visible (one call's page stops once the call has ended). Everything from the server
 * goes into the page as text, never as HTML.
 */
import { ApiError, api, clock, el, keyForm, kilobytes, show } from './common.js';

const REFRESH_MS = 2000;
const $ = (id) => document.getElementById(id);
const ROLE_NAMES = { bot: 'Agent', user: 'You', system: 'System' };

const pathId = /^\/calls\/([^/]+)\/?$/.exec(location.pathname)?.[1];
const callId =
  pathId === undefined ? new URLSearchParams(location.search).get('id') : decodeURIComponent(pathId);

let timer = null;
let loading = false;

function ms(iso) {
  const t = Date.parse(iso ?? '');
  return Number.isNaN(t) ? undefined : t;
}

/** Seconds from answer to end (or to now while live); undefined before the socket opened. */
function duration(call) {
  const start = ms(call.startedAt);
  if (start === undefined) return undefined;
  const end = ms(call.endedAt) ?? (call.status === 'ended' ? start : Date.now());
  return (end - start) / 1000;
}

function when(iso) {
  const t = ms(iso);
  return t === undefined ? '–' : new Date(t).toLocaleString();
}

/** Seconds of audio in `bytes` of the call's wire format. */
function audioSeconds(bytes, format) {
  const rate = format?.sampleRate ?? 16000;
  const perSample = format?.format === 'mulaw' ? 1 : 2;
  return bytes / perSample / rate;
}

function statusCell(status) {
  return el('span', status, { class: `badge status-${status}` });
}

function renderList(calls) {
  const body = $('calls-body');
  const rows = calls.map((call) => {
    const tr = el('tr', null, {
      'data-id': call.id,
      'data-status': call.status,
      'data-ended-reason': call.endedReason ?? '',
    });
    const link = el('a', call.id.slice(0, 8), {
      href: `/calls/${encodeURIComponent(call.id)}`,
      title: call.id,
    });
    const d = duration(call);
    const created = el('td', when(call.createdAt));
    const id = el('td');
    id.append(link);
    const status = el('td');
    status.append(statusCell(call.status));
    tr.append(
      created,
      id,
      status,
      el('td', d === undefined ? '–' : clock(d)),
      el('td', call.endedReason ?? (call.status === 'ended' ? 'unknown' : '–')),
      el('td', Array.isArray(call.messages) ? call.messages.length : 0),
    );
    return tr;
  });
  body.replaceChildren(...rows);
  $('calls-empty').hidden = calls.length > 0;
  $('updated').textContent = `Updated ${new Date().toLocaleTimeString()}.`;
}

function fact(list, name, value, key) {
  const dd = el('dd', value);
  if (key !== undefined) dd.dataset.fact = key;
  list.append(el('dt', name), dd);
}

function renderCall(call) {
  $('call-id').textContent = call.id;
  document.title = `voxgate call ${call.id.slice(0, 8)}`;
  const facts = $('call-facts');
  facts.replaceChildren();
  const statusDd = el('dd');
  statusDd.dataset.fact = 'status';
  statusDd.append(statusCell(call.status));
  facts.append(el('dt', 'Status'), statusDd);
  fact(facts, 'Ended reason', call.endedReason ?? '–', 'ended-reason');
  fact(facts, 'Created', when(call.createdAt), 'created');
  const created = ms(call.createdAt);
  const started = ms(call.startedAt);
  const toConnect =
    created !== undefined && started !== undefined
      ? ` (${((started - created) / 1000).toFixed(2)} s after created)`
      : '';
  fact(facts, 'Connected', `${when(call.startedAt)}${toConnect}`, 'started');
  fact(facts, 'Ended', when(call.endedAt), 'ended');
  const d = duration(call);
  fact(facts, 'Duration', d === undefined ? '–' : `${clock(d)} (${d.toFixed(1)} s)`, 'duration');
  const format = call.transport?.audioFormat;
  if (format !== undefined)
    fact(facts, 'Audio format', `${format.format}, ${format.sampleRate} Hz`, 'format');
  if (call.assistantId !== undefined) fact(facts, 'Assistant', call.assistantId, 'assistant');
  const stats = call.stats;
  if (stats !== undefined) {
    const inS = audioSeconds(stats.bytesIn, format).toFixed(1);
    const outS = audioSeconds(stats.bytesOut, format).toFixed(1);
    fact(facts, 'Audio from caller', `${kilobytes(stats.bytesIn)} (${inS} s)`, 'bytes-in');
    fact(facts, 'Audio to caller', `${kilobytes(stats.bytesOut)} (${outS} s)`, 'bytes-out');
    fact(facts, 'Frames dropped / refused', `${stats.framesDropped} / ${stats.framesRefused}`, 'dropped');
  }
  const lines = (call.messages ?? []).map((m) => {
    const li = el('li', null, {
      class: `line ${m.role === 'bot' ? 'assistant' : m.role}`,
      'data-role': m.role,
    });
    const at = typeof m.secondsFromStart === 'number' ? clock(m.secondsFromStart) : '';
    li.append(
      el('span', at, { class: 'at' }),
      el('span', ROLE_NAMES[m.role] ?? m.role, { class: 'who' }),
      el('span', m.message, { class: 'text' }),
    );
    return li;
  });
  $('call-transcript').replaceChildren(...lines);
  $('call-transcript-empty').hidden = lines.length > 0 || call.status !== 'ended';
  return call.status === 'ended';
}

async function refresh() {
  if (loading) return;
  loading = true;
  try {
    if (callId === null) {
      renderList(await api('GET', '/call?limit=100'));
    } else {
      const done = renderCall(await api('GET', `/call/${encodeURIComponent(callId)}`));
      if (done) stop();
    }
    show($('error'), '');
  } catch (err) {
    stop();
    if (askKey(err)) show($('error'), '');
    else
      show(
        $('error'),
        err instanceof ApiError ? err.plain : `Could not load the calls: ${err?.message ?? err}`,
      );
  } finally {
    loading = false;
  }
}

function start() {
  stop();
  void refresh();
  timer = setInterval(() => {
    if (document.visibilityState === 'visible') void refresh();
  }, REFRESH_MS);
}

function stop() {
  if (timer !== null) clearInterval(timer);
  timer = null;
}

const askKey = keyForm(start);
$(callId === null ? 'list-view' : 'call-view').hidden = false;
$('refresh')?.addEventListener('click', start);
start();
