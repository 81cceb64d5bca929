/**
 * Shared by the softphone and the call view: the API key (kept in this tab only), JSON requests to the server,
 * and errors in plain words.
 */

const KEY_NAME = 'voxgate.apiKey';
/** Fallback when session storage is unavailable (private modes, blocked storage): memory of this page only. */
let memoryKey = '';

export function getKey() {
  try {
    return sessionStorage.getItem(KEY_NAME) ?? memoryKey;
  } catch {
    return memoryKey;
  }
}

export function setKey(key) {
  memoryKey = key;
  try {
    if (key === '') sessionStorage.removeItem(KEY_NAME);
    else sessionStorage.setItem(KEY_NAME, key);
  } catch {
    // Memory only.
  }
}

/** An error answer from the server, with its status, code and a sentence for people. */
export class ApiError extends Error {
  constructor(status, code, message, plain) {
    super(message);
    this.status = status;
    this.code = code;
    this.plain = plain;
  }
}

/** A JSON request to this server with the key (when there is one). Throws ApiError, with plain words. */
export async function api(method, path, body) {
  const headers = {};
  const key = getKey();
  if (key !== '') headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(
      0,
      'network',
      'fetch failed',
      'Could not reach the voxgate server. Is it still running?',
    );
  }
  const text = await res.text();
  let json = null;
  try {
    json = text === '' ? null : JSON.parse(text);
  } catch {
    json = null;
  }
  if (res.ok) return json;
  const code = json?.code ?? '';
  const message = typeof json?.message === 'string' ? json.message : `HTTP ${res.status}`;
  throw new ApiError(res.status, code, message, plainWords(res.status, message, key !== ''));
}

function plainWords(status, message, sentKey) {
  if (status === 401) {
    return sentKey
      ? 'The server did not accept the API key. Check it and enter it again.'
      : 'This server needs an API key. Enter it to continue.';
  }
  if (status === 429)
    return 'The server is already handling as many calls as it allows. Try again in a moment.';
  if (status === 503) return 'The server is shutting down. Try again when it is back.';
  if (status === 404) return `Not found: ${message}.`;
  if (status >= 500) return 'The server had an internal error. Its log says more.';
  return `The server refused the request: ${message}.`;
}

/**
 * Shows the key form when the server asks for a key; on submit keeps the key in this tab and calls `retry`.
 * Returns `ask(error)`, which shows the form for a 401 and returns whether it did.
 */
export function keyForm(retry) {
  const form = document.getElementById('key-form');
  const input = document.getElementById('key-input');
  const why = document.getElementById('key-why');
  const forget = document.getElementById('forget-key');
  const showForget = () => {
    if (forget !== null) forget.hidden = getKey() === '';
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (key === '') return;
    setKey(key);
    input.value = '';
    form.hidden = true;
    showForget();
    retry();
  });
  forget?.addEventListener('click', () => {
    setKey('');
    showForget();
    retry();
  });
  showForget();
  return (error) => {
    if (!(error instanceof ApiError) || error.status !== 401) return false;
    why.textContent = error.plain;
    form.hidden = false;
    input.focus();
    return true;
  };
}

export function show(element, text) {
  element.textContent = text;
  element.hidden = text === '';
}

/** `1:05`, `12:00`, `1:02:03` for a number of seconds. */
export function clock(seconds) {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

export function kilobytes(bytes) {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(bytes < 10240 ? 1 : 0)} KB`;
}

/** Creates an element with text (never HTML) and optional attributes. */
export function el(tag, text, attrs = {}) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  return node;
}
