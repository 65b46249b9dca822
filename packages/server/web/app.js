// Legim's upload page: plain browser JavaScript, no build step.
// Every URL is relative to the page, so the gateway also works behind a proxy
// that mounts it under a path. The page never requests /d/:id: that would
// take one of the file's downloads.

const form = document.getElementById('upload-form');
const fileInput = document.getElementById('file');
const dropZone = document.getElementById('drop-zone');
const chosenLine = document.getElementById('chosen');
const downloadsInput = document.getElementById('downloads');
const ttlSelect = document.getElementById('ttl');
const ttlCustomField = document.getElementById('ttl-custom-field');
const ttlCustomInput = document.getElementById('ttl-custom');
const titleInput = document.getElementById('title');
const uploadButton = document.getElementById('upload');
const cancelButton = document.getElementById('cancel');
const progressRow = document.getElementById('progress-row');
const progressBar = document.getElementById('progress');
const progressText = document.getElementById('progress-text');
const statusLine = document.getElementById('status');
const errorLine = document.getElementById('error');
const uploadsSection = document.getElementById('uploads-section');
const uploadsList = document.getElementById('uploads');
const cardTemplate = document.getElementById('upload-template');

/** The gateway's upload limit, written into the page when the gateway started. */
const maxUploadBytes = Number(form.dataset.maxUploadBytes) || Infinity;
/** The server checks TTLs too; this only catches typos before sending. */
const TTL_PATTERN = /^\d+\s*[smhd]?$/i;
/** A thumbnail still missing after this long is not worth waiting for in the page. */
const THUMB_PATIENCE_MS = 10 * 60 * 1000;

let chosenFile = null;
let activeRequest = null;
let cardCount = 0;

const apiUrl = (path) => new URL(path, document.baseURI).href;

// ---- choosing a file -------------------------------------------------------

function choose(file, note = '') {
  hideError();
  statusLine.textContent = note;
  const problem = file ? problemWith(file) : 'Choose an image first.';
  if (problem) {
    chosenFile = null;
    showError(problem);
  } else {
    chosenFile = file;
  }
  renderChosen();
}

function problemWith(file) {
  const name = file.name || 'This file';
  if (!file.type.startsWith('image/')) {
    return `${name} is not an image (its type is ${file.type || 'unknown'}). Choose a JPEG, PNG, GIF, WebP, AVIF or TIFF file.`;
  }
  if (file.size > maxUploadBytes) {
    return `${name} is ${formatBytes(file.size)}; this server takes images up to ${formatBytes(maxUploadBytes)}.`;
  }
  return '';
}

function renderChosen() {
  chosenLine.hidden = !chosenFile;
  chosenLine.textContent = chosenFile
    ? `Selected: ${chosenFile.name || 'pasted image'} (${formatBytes(chosenFile.size)})`
    : '';
  dropZone.classList.toggle('has-file', Boolean(chosenFile));
  uploadButton.disabled = !chosenFile || activeRequest !== null;
}

fileInput.addEventListener('change', () => {
  if (fileInput.files.length > 0) choose(fileInput.files[0]);
  // Cleared so that choosing the same file again still fires 'change'.
  fileInput.value = '';
});

// The whole window accepts a drop, so a near miss does not navigate away to the image.
let dragDepth = 0;
document.addEventListener('dragenter', (event) => {
  if (!carriesFiles(event)) return;
  dragDepth += 1;
  dropZone.classList.add('dragging');
});
document.addEventListener('dragleave', () => {
  dragDepth = Math.max(0, dragDepth - 1);
  if (dragDepth === 0) dropZone.classList.remove('dragging');
});
document.addEventListener('dragover', (event) => {
  if (!carriesFiles(event)) return;
  event.preventDefault();
  event.dataTransfer.dropEffect = 'copy';
});
document.addEventListener('drop', (event) => {
  if (!carriesFiles(event)) return;
  event.preventDefault();
  dragDepth = 0;
  dropZone.classList.remove('dragging');
  const files = event.dataTransfer.files;
  choose(files[0], files.length > 1 ? 'One image at a time: the first one was taken.' : '');
});

function carriesFiles(event) {
  return Boolean(event.dataTransfer) && Array.from(event.dataTransfer.types).includes('Files');
}

document.addEventListener('paste', (event) => {
  const image = Array.from(event.clipboardData?.files ?? []).find((file) => file.type.startsWith('image/'));
  if (!image) return;
  event.preventDefault();
  choose(image);
});

ttlSelect.addEventListener('change', () => {
  ttlCustomField.hidden = ttlSelect.value !== 'custom';
  if (!ttlCustomField.hidden) ttlCustomInput.focus();
});

// ---- uploading -------------------------------------------------------------

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  if (activeRequest) return;
  hideError();
  if (!chosenFile) {
    showError('Choose an image first: drop one here, click the box or paste one.');
    return;
  }
  const query = uploadQuery();
  if (!query) return;
  const file = chosenFile;
  const reply = await send(file, query);
  if (reply.ok) {
    chosenFile = null;
    renderChosen();
    statusLine.textContent = `Uploaded ${reply.body.title || file.name}.`;
    addCard(reply.body);
  } else if (reply.aborted) {
    statusLine.textContent = 'Upload cancelled.';
  } else {
    statusLine.textContent = '';
    showError(reply.message);
  }
});

cancelButton.addEventListener('click', () => activeRequest?.abort());

/** The options as query parameters, or null (with the reason shown) if one is wrong. */
function uploadQuery() {
  const downloads = downloadsInput.value.trim();
  if (!/^\d+$/.test(downloads) || Number(downloads) < 1) {
    showError('Downloads must be a whole number, 1 or more.');
    downloadsInput.focus();
    return null;
  }
  const ttl = ttlSelect.value === 'custom' ? ttlCustomInput.value.trim().replace(/\s+/g, '') : ttlSelect.value;
  if (!TTL_PATTERN.test(ttl)) {
    showError('Write the duration as a number followed by s, m, h or d, for example 90s or 7d.');
    ttlCustomInput.focus();
    return null;
  }
  const params = new URLSearchParams({ downloads, ttl });
  const title = titleInput.value.trim();
  if (title) params.set('title', title);
  else if (chosenFile.name) params.set('title', chosenFile.name.slice(0, 200));
  return params;
}

/** POSTs the raw file; resolves (never rejects) with {ok, body} or {ok: false, message | aborted}. */
function send(file, query) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    activeRequest = xhr;
    setBusy(true);
    xhr.open('POST', apiUrl(`v1/files?${query}`));
    xhr.setRequestHeader('Content-Type', file.type || 'application/octet-stream');
    xhr.upload.addEventListener('progress', (event) =>
      showProgress(event.loaded, event.lengthComputable ? event.total : file.size),
    );
    xhr.upload.addEventListener('load', () => {
      progressText.textContent = 'Storing copies…';
    });
    const finish = (reply) => {
      activeRequest = null;
      setBusy(false);
      resolve(reply);
    };
    xhr.addEventListener('load', () => {
      const body = parseJson(xhr.responseText);
      if (xhr.status === 201 && body?.id) finish({ ok: true, body });
      else finish({ ok: false, message: errorMessage(xhr.status, body) });
    });
    xhr.addEventListener('error', () =>
      finish({ ok: false, message: 'The upload did not reach the server. Check the connection and try again.' }),
    );
    xhr.addEventListener('abort', () => finish({ ok: false, aborted: true }));
    xhr.send(file);
  });
}

function setBusy(busy) {
  form.classList.toggle('busy', busy);
  cancelButton.hidden = !busy;
  progressRow.hidden = !busy;
  if (busy) showProgress(0, 1);
  renderChosen();
}

function showProgress(loaded, total) {
  const percent = total > 0 ? Math.min(100, Math.round((loaded / total) * 100)) : 0;
  progressBar.value = percent;
  progressText.textContent = `${formatBytes(loaded)} of ${formatBytes(total)} (${percent}%)`;
}

// ---- the session's uploads -------------------------------------------------

function addCard(file) {
  const item = cardTemplate.content.firstElementChild.cloneNode(true);
  const part = (role) => item.querySelector(`[data-role="${role}"]`);
  const card = { file, gone: false, part };
  const linkId = `link-${++cardCount}`;

  part('title').textContent = file.title || 'Untitled image';
  // The share page, not /d/: a chat app's preview bot opening it takes no download.
  part('link').value = file.shareUrl ?? file.url;
  part('link').id = linkId;
  part('link-label').htmlFor = linkId;
  part('token').textContent = file.deleteToken;
  renderDownloads(card);
  const expires = new Date(file.expiresAt);
  part('expires').dateTime = expires.toISOString();
  part('expires').textContent =
    `${expires.toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' })} (${fromNow(expires)})`;

  part('copy').addEventListener('click', () => copyLink(card));
  part('delete').addEventListener('click', () => deleteFile(card));

  uploadsList.prepend(item);
  uploadsSection.hidden = false;
  part('link').focus();
  part('link').select();
  loadThumbnail(card);
}

function renderDownloads(card) {
  const { downloadsLeft, maxDownloads } = card.file;
  card.part('downloads').textContent = `${downloadsLeft} of ${maxDownloads}`;
}

async function copyLink(card) {
  const link = card.part('link');
  let copied = false;
  try {
    await navigator.clipboard.writeText(link.value);
    copied = true;
  } catch {
    // No async clipboard outside a secure context: fall back to the selection.
    link.select();
    copied = document.execCommand('copy');
  }
  card.part('copy').textContent = copied ? 'Copied' : 'Select and copy';
}

/** Polls the thumbnail (never the original) until it exists or will not. */
async function loadThumbnail(card) {
  const deadline = Date.now() + THUMB_PATIENCE_MS;
  while (!card.gone && Date.now() < deadline) {
    const reply = await request('GET', `v1/files/${encodeURIComponent(card.file.id)}/variants/thumb`);
    if (card.gone) return;
    if (reply.ok) {
      showThumbnail(card, await reply.response.blob());
      refreshInfo(card);
      return;
    }
    if (reply.code !== 'VARIANT_NOT_READY' && reply.code !== 'NETWORK') {
      noThumbnail(card, await whyNoThumbnail(card, reply));
      return;
    }
    await delay(retryAfterMs(reply.response));
  }
  if (!card.gone) noThumbnail(card, 'The thumbnail is taking long; the link works anyway.');
}

function showThumbnail(card, blob) {
  const img = card.part('thumb');
  const url = URL.createObjectURL(blob);
  img.addEventListener('load', () => URL.revokeObjectURL(url), { once: true });
  img.alt = `Thumbnail of ${card.file.title || 'the image'}`;
  img.src = url;
  img.hidden = false;
  card.part('thumb-note').hidden = true;
}

function noThumbnail(card, reason) {
  card.part('thumb-note').textContent = 'no thumbnail';
  card.part('thumb-box').classList.add('missing');
  card.part('message').textContent = reason;
}

/** The file's status says why a thumbnail will not come (processing failed, expired...). */
async function whyNoThumbnail(card, reply) {
  const info = await request('GET', `v1/files/${encodeURIComponent(card.file.id)}`);
  if (info.ok && info.body.status === 'failed') {
    return `No thumbnail: ${info.body.statusReason || 'the image could not be processed'}. The original can still be downloaded.`;
  }
  return info.ok ? reply.message : info.message;
}

async function refreshInfo(card) {
  const info = await request('GET', `v1/files/${encodeURIComponent(card.file.id)}`);
  if (!info.ok || card.gone) return;
  card.file = { ...card.file, ...info.body };
  renderDownloads(card);
}

async function deleteFile(card) {
  const button = card.part('delete');
  button.disabled = true;
  const reply = await request('DELETE', `v1/files/${encodeURIComponent(card.file.id)}`, {
    Authorization: `Bearer ${card.file.deleteToken}`,
  });
  if (!reply.ok) {
    button.disabled = false;
    card.part('message').textContent = reply.message;
    card.part('message').classList.add('error');
    return;
  }
  card.gone = true;
  button.hidden = true;
  card.part('copy').disabled = true;
  card.part('link').disabled = true;
  card.part('downloads').textContent = 'none: deleted';
  card.part('message').classList.remove('error');
  card.part('message').textContent = 'Deleted: the link no longer works.';
  if (card.part('thumb').hidden) card.part('thumb-note').textContent = 'deleted';
  button.closest('li').classList.add('deleted');
}

// ---- talking to the gateway ------------------------------------------------

/** fetch() that resolves with {ok, response, body} or {ok: false, code, message}; never rejects. */
async function request(method, path, headers = {}) {
  let response;
  try {
    response = await fetch(apiUrl(path), { method, headers, cache: 'no-store' });
  } catch {
    return { ok: false, code: 'NETWORK', message: 'The server could not be reached.', response: undefined };
  }
  if (response.ok) {
    const isJson = response.headers.get('content-type')?.includes('application/json');
    return { ok: true, response, body: isJson ? await response.json() : undefined };
  }
  const body = parseJson(await response.text());
  return { ok: false, response, code: body?.error?.code, message: errorMessage(response.status, body) };
}

/** The gateway's own words when it sent them; never raw JSON or a stack. */
function errorMessage(status, body) {
  const message = body?.error?.message;
  if (typeof message === 'string' && message) return capitalize(message);
  return status ? `The server answered with an error (HTTP ${status}). Try again.` : 'The server could not be reached.';
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function retryAfterMs(response) {
  const seconds = Number(response?.headers.get('retry-after'));
  return (Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 30) : 2) * 1000;
}

// ---- small things ----------------------------------------------------------

function showError(message) {
  errorLine.textContent = message;
  errorLine.hidden = false;
}

function hideError() {
  errorLine.hidden = true;
  errorLine.textContent = '';
}

function capitalize(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function formatBytes(bytes) {
  if (!Number.isFinite(bytes)) return 'any size';
  const units = ['bytes', 'KiB', 'MiB', 'GiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} bytes` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** "in 1 hour", "in 7 days": the largest unit that fits, a few percent of slack for the time already gone. */
function fromNow(date) {
  const seconds = Math.round((date.getTime() - Date.now()) / 1000);
  const units = [
    ['day', 86400],
    ['hour', 3600],
    ['minute', 60],
    ['second', 1],
  ];
  const [unit, size] = units.find(([, size]) => Math.abs(seconds) >= size * 0.95) ?? units[3];
  return new Intl.RelativeTimeFormat([], { numeric: 'auto' }).format(Math.floor(seconds / size + 0.05), unit);
}

function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

renderChosen();
