// The API as the page uses it: the same keyed REST endpoints as any client. The key lives in
// sessionStorage (this tab only) and travels in the Authorization header, never in a URL.
const KEY = 'storyloom.key';

export const auth = {
  get key() { return sessionStorage.getItem(KEY); },
  set(key) { sessionStorage.setItem(KEY, key); },
  clear() { sessionStorage.removeItem(KEY); forgetMedia(); },
};

const LEADS = { 401: 'Not signed in', 404: 'Not found', 409: 'Not possible now', 413: 'Too large',
  422: 'Not accepted', 429: 'Too many runs at once' };

export class ApiError extends Error {
  constructor(status, code, message, retryAfter = null) {
    super(message);
    Object.assign(this, { status, code, retryAfter });
  }
}

export const offline = () => new ApiError(0, 'offline',
  'Cannot reach the server: check that it is running; nothing you typed is lost');

// Everyone who must react to a key that stopped working (the sign-in view) listens for this.
export const signals = new EventTarget();

export async function call(path, { method = 'GET', body, headers = {}, signal, raw = false } = {}) {
  const sent = { Authorization: `Bearer ${auth.key}`, ...headers };
  let payload = body;
  if (body !== undefined && !(body instanceof FormData)) {
    sent['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, { method, headers: sent, body: payload, signal });
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw offline();
  }
  if (!res.ok) throw await errorOf(res);
  return raw ? res : res.json();
}

export async function errorOf(res) {
  let code = 'http_error';
  let message = res.statusText || 'no details';
  try {
    const body = await res.json();
    ({ code, message } = body.error);
  } catch { /* not our error shape: keep the status text */ }
  const lead = LEADS[res.status] || `Server error ${res.status}`;
  const retry = res.headers.get('Retry-After');
  const error = new ApiError(res.status, code, `${lead}: ${message}${retry ? ` (try again in ${retry} s)` : ''}`, retry);
  if (res.status === 401) signals.dispatchEvent(new CustomEvent('unauthorized', { detail: error }));
  return error;
}

// --- media: fetched with the key, shown through blob URLs ---------------------------------------
// <img>, <audio>, <video> and <track> cannot send a header. Each asset is fetched once per tab and
// kept as a blob (and its URL) until sign-out; pages opened from here (the storybook) use the same URLs.
const media = new Map(); // asset id -> Promise<{ blob, url }>

function fetchAsset(assetId) {
  if (!media.has(assetId)) {
    const entry = call(`/v1/assets/${encodeURIComponent(assetId)}/content`, { raw: true })
      .then((res) => res.blob()).then((blob) => ({ blob, url: URL.createObjectURL(blob) }));
    entry.catch(() => media.delete(assetId)); // a failed fetch may be tried again later
    media.set(assetId, entry);
  }
  return media.get(assetId);
}

export const assetURL = (assetId) => fetchAsset(assetId).then((entry) => entry.url);
export const assetBlob = (assetId) => fetchAsset(assetId).then((entry) => entry.blob);

export function fileBlob(runId, name) {
  return call(`/v1/runs/${encodeURIComponent(runId)}/files/${name.split('/').map(encodeURIComponent).join('/')}`,
    { raw: true }).then((res) => res.blob());
}

function forgetMedia() {
  for (const entry of media.values()) entry.then((e) => URL.revokeObjectURL(e.url), () => {});
  media.clear();
}

export function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = Object.assign(document.createElement('a'), { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export const TERMINAL = new Set(['succeeded', 'failed', 'cancelled', 'declined']);
