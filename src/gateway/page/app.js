// The carousel page: say hello as a user, subscribe to a carousel, send clicks as feedback, and redraw
// whenever the gateway pushes a re-dealt carousel. Plain browser JavaScript, no build step.
const $ = (id) => document.getElementById(id);
let socket = null;

/**
 * A request id no other page picks: 128 random bits (crypto.getRandomValues works on plain http too, where
 * crypto.randomUUID does not). A clock and a counter (`page-<ms>-<n>`) made the same id on two pages opened in
 * the same millisecond.
 */
function newRequestId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `page-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

function log(text) {
  const li = document.createElement('li');
  li.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  $('log').prepend(li);
  while ($('log').children.length > 100) $('log').lastChild.remove();
}

function setStatus(text) {
  $('status').textContent = text;
}

function render(message) {
  $('meta').textContent =
    `request ${message.requestId} · policy ${message.policy} · model ${message.modelVersion}` +
    (message.experiment ? ` · ${message.experiment}/${message.variant}` : '') +
    ` · ${message.serverTimeUs} µs server time${message.pushed ? ' · pushed' : ''}`;
  const list = $('carousel');
  list.replaceChildren();
  for (const item of message.items) {
    const li = document.createElement('li');
    li.className = 'card';
    li.dataset.itemId = item.itemId;
    li.dataset.requestId = message.requestId;
    li.tabIndex = 0;
    const slot = document.createElement('div');
    slot.className = 'slot';
    slot.textContent = `slot ${item.slot} · ${item.itemId}`;
    const title = document.createElement('div');
    title.className = 'title';
    title.textContent = item.title;
    const dl = document.createElement('dl');
    for (const [name, value] of [
      ['score', item.score],
      ['sample', item.sample],
      ['propensity', item.propensity],
    ]) {
      const dt = document.createElement('dt');
      dt.textContent = name;
      const dd = document.createElement('dd');
      dd.textContent = Number(value).toFixed(4);
      dl.append(dt, dd);
    }
    li.append(slot, title, dl);
    li.addEventListener('click', () => click(message.requestId, item.itemId, li));
    list.append(li);
  }
}

function click(requestId, itemId, element) {
  if (!socket || socket.readyState !== WebSocket.OPEN) return;
  socket.send(JSON.stringify({ type: 'feedback', requestId, itemId, kind: 'click' }));
  element.classList.add('clicked');
  log(`click ${itemId} (request ${requestId})`);
}

function connect(userId, device, slots, token) {
  if (socket) socket.close();
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
  const ws = new WebSocket(url);
  socket = ws;
  setStatus('connecting…');
  ws.addEventListener('open', () => {
    const hello = { type: 'hello', userId, context: { page: 'demo' }, propensities: true };
    if (device) hello.context.device = device;
    if (token) hello.token = token;
    ws.send(JSON.stringify(hello));
  });
  ws.addEventListener('message', (event) => {
    const message = JSON.parse(event.data);
    switch (message.type) {
      case 'welcome':
        setStatus(`connected as ${message.userId} (session ${message.sessionId.slice(0, 8)})`);
        ws.send(JSON.stringify({ type: 'subscribe', requestId: newRequestId(), slots }));
        break;
      case 'carousel':
        render(message);
        log(
          `${message.pushed ? 'pushed' : 'dealt'} ${message.items.length} items (${message.serverTimeUs} µs)`,
        );
        break;
      case 'feedback-ack':
        log(`ack ${message.itemId}`);
        document.body.dataset.lastAck = message.itemId;
        break;
      case 'error':
        log(`error ${message.code}: ${message.message}`);
        setStatus(`error: ${message.message}`);
        break;
      default:
        break;
    }
  });
  ws.addEventListener('close', (event) => {
    if (socket === ws) setStatus(`disconnected (${event.code})`);
  });
}

$('who').addEventListener('submit', (event) => {
  event.preventDefault();
  const userId = $('user').value.trim();
  if (!userId) return;
  const slots = Math.max(1, Math.min(24, Number($('slots').value) || 8));
  connect(userId, $('device').value, slots, $('token').value.trim());
});

async function init() {
  try {
    const config = await (await fetch('/api/config')).json();
    $('token-label').hidden = !config.authRequired;
    const { users } = await (await fetch('/api/users?limit=100')).json();
    for (const id of users) {
      const option = document.createElement('option');
      option.value = id;
      $('users').append(option);
    }
    if (!$('user').value && users.length > 0) $('user').placeholder = `e.g. ${users[0]}`;
  } catch (error) {
    log(`could not load users: ${error}`);
  }
  const fromQuery = new URLSearchParams(location.search).get('user');
  if (fromQuery) {
    $('user').value = fromQuery;
    $('who').requestSubmit();
  }
}

init();
