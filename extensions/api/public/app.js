// Tapio dashboard: plain JS, no build step, nothing loaded from the internet.
// Routes: /  (incidents, live) · /incidents/:id (incident page) · /events (live stream) · /map (service map)
'use strict';

const LAYERS = ['application', 'network', 'kubernetes', 'kernel'];
const LAYER_LABEL = { application: 'Application', network: 'Network', kubernetes: 'Kubernetes', kernel: 'Kernel' };
const SEVERITY_WORD = { fatal: 'CRITICAL', error: 'HIGH', warn: 'MEDIUM', info: 'LOW', debug: 'LOW' };
const MAX_LIVE_ROWS = 300;

const view = document.getElementById('view');
let closeCurrent = () => {};
// Bumped on every navigation, so a view whose data arrives after the user moved on draws nothing.
let navSeq = 0;

// --- token: ?token=… once, then kept in this browser's localStorage -------------------------
(function takeTokenFromUrl() {
  const u = new URL(location.href);
  const t = u.searchParams.get('token');
  if (t) {
    localStorage.setItem('tapio.token', t);
    u.searchParams.delete('token');
    history.replaceState(null, '', u.pathname + u.search + u.hash);
  }
})();
const token = () => localStorage.getItem('tapio.token') || '';

async function api(path) {
  const headers = token() ? { authorization: 'Bearer ' + token() } : {};
  const res = await fetch(path, { headers });
  const body = await res.json().catch(() => ({ error: 'HTTP ' + res.status }));
  if (res.status === 401) askForToken();
  if (!res.ok) throw new Error(body.error || 'HTTP ' + res.status);
  return body;
}

function stream(path, event, onData) {
  const sep = path.includes('?') ? '&' : '?';
  const es = new EventSource(path + (token() ? sep + 'access_token=' + encodeURIComponent(token()) : ''));
  const conn = document.getElementById('conn');
  es.onopen = () => conn.classList.add('live');
  es.onerror = () => conn.classList.remove('live');
  es.addEventListener(event, (m) => onData(JSON.parse(m.data)));
  return () => { es.close(); conn.classList.remove('live'); };
}

function askForToken() {
  const box = document.getElementById('auth');
  box.hidden = false;
  document.getElementById('auth-form').onsubmit = (e) => {
    e.preventDefault();
    localStorage.setItem('tapio.token', document.getElementById('auth-token').value.trim());
    box.hidden = true;
    route();
  };
}

// --- helpers -----------------------------------------------------------------------------------
function el(tag, attrs, ...children) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') n.className = v;
    else if (k.startsWith('on')) n.addEventListener(k.slice(2), v);
    else n.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== undefined && c !== null) n.append(c instanceof Node ? c : String(c));
  return n;
}
const iso = (ns) => new Date(Number(ns) / 1e6).toISOString().replace('T', ' ').slice(0, 23);
const pct = (x) => Math.round(x * 100) + '%';
function money(n) { return n >= 1e6 ? '$' + (n / 1e6).toFixed(1) + 'M' : n >= 1e3 ? '$' + Math.round(n / 1e3) + 'K' : '$' + Math.round(n); }
function duration(ms) { return ms < 1000 ? Math.round(ms) + ' ms' : ms < 120000 ? (ms / 1000).toFixed(1) + ' s' : (ms / 60000).toFixed(1) + ' min'; }
function layerOf(e) { return e.kind === 'kernel' ? 'kernel' : e.kind === 'network' ? 'network' : e.kind === 'k8s' ? 'kubernetes' : 'application'; }
function summary(e) {
  return (e.semantic && e.semantic.narrative) || (e.span && e.span.name) || (e.log && (typeof e.log.body === 'string' ? e.log.body : JSON.stringify(e.log.body)))
    || (e.k8s && e.k8s.reason) || (e.kernel && e.kernel.event) || (e.network && e.network.event) || (e.metric && e.metric.name) || (e.incident && e.incident.title) || e.kind;
}
function errorBox(err) { return el('p', { class: 'error', role: 'alert' }, String(err.message || err)); }

async function showRaw(id) {
  const panel = document.getElementById('raw');
  document.getElementById('raw-title').textContent = 'Raw event ' + id;
  const body = document.getElementById('raw-body');
  body.textContent = 'loading…';
  panel.hidden = false;
  try { body.textContent = JSON.stringify(await api('/api/v1/events/' + encodeURIComponent(id)), null, 2); } catch (err) { body.textContent = String(err.message); }
}
document.getElementById('raw-close').onclick = () => { document.getElementById('raw').hidden = true; };
function rawLink(id, label, cls, extra) {
  return el('a', Object.assign({ href: '/api/v1/events/' + encodeURIComponent(id), class: cls, 'data-event-id': id, onclick: (ev) => { ev.preventDefault(); showRaw(id); } }, extra || {}), label);
}

// --- incidents list (live) ---------------------------------------------------------------------
async function incidentsView() {
  view.replaceChildren(el('h1', {}, 'Incidents'), el('p', { class: 'muted' }, 'loading…'));
  const tbody = el('tbody', { id: 'incident-rows' });
  const rows = new Map();
  const upsert = (inc, isNew) => {
    const tr = el('tr', { class: isNew ? 'new' : undefined, 'data-incident-id': inc.id },
      el('td', {}, el('a', { href: '/incidents/' + encodeURIComponent(inc.id), 'data-link': true }, inc.title)),
      el('td', {}, el('span', { class: 'badge ' + inc.status }, inc.status)),
      el('td', {}, inc.rootCause && inc.rootCause.entity ? (inc.rootCause.entity.service || inc.rootCause.entity.pod || '') : ''),
      el('td', { class: inc.impact ? SEVERITY_WORD[inc.impact.severity] : '' }, inc.impact ? SEVERITY_WORD[inc.impact.severity] + (inc.impact.revenueAtRisk !== undefined ? ' · ' + money(inc.impact.revenueAtRisk) : '') : '–'),
      el('td', {}, pct(inc.confidence)),
      el('td', { class: 'mono' }, iso(inc.detectedTimeUnixNano)));
    const old = rows.get(inc.id);
    if (old) old.replaceWith(tr); else tbody.prepend(tr);
    rows.set(inc.id, tr);
  };
  try {
    const page = await api('/api/v1/incidents?limit=100');
    for (const inc of page.incidents.slice().reverse()) upsert(inc, false);
    view.replaceChildren(el('h1', {}, 'Incidents'),
      el('table', {}, el('thead', {}, el('tr', {}, ['Incident', 'Status', 'Root cause', 'Impact', 'Confidence', 'Detected (UTC)'].map((h) => el('th', {}, h)))), tbody),
      page.incidents.length ? null : el('p', { class: 'muted', id: 'no-incidents' }, 'No incidents yet — new ones appear here live.'));
    closeCurrent = stream('/api/v1/incidents/stream', 'incident', (inc) => { const none = document.getElementById('no-incidents'); if (none) none.remove(); upsert(inc, true); });
  } catch (err) { view.replaceChildren(el('h1', {}, 'Incidents'), errorBox(err)); }
}

// --- incident page -----------------------------------------------------------------------------
async function incidentView(id) {
  const nav = navSeq;
  if (!view.querySelector('#timeline')) view.replaceChildren(el('p', { class: 'muted' }, 'loading…'));
  let inc, events, actions;
  try {
    [inc, { events }, { actions }] = await Promise.all([
      api('/api/v1/incidents/' + encodeURIComponent(id)), api('/api/v1/incidents/' + encodeURIComponent(id) + '/events'), api('/api/v1/incidents/' + encodeURIComponent(id) + '/actions'),
    ]);
  } catch (err) { if (nav === navSeq) view.replaceChildren(el('p', {}, el('a', { href: '/', 'data-link': true }, '← Incidents')), errorBox(err)); return; }
  if (nav !== navSeq) return;
  const byId = new Map(events.map((e) => [e.id, e]));
  const rootIds = new Set(inc.rootCause.eventIds);
  const ent = inc.rootCause.entity || {};
  const imp = inc.impact;
  view.replaceChildren(
    el('p', {}, el('a', { href: '/', 'data-link': true }, '← Incidents')),
    el('h1', {}, inc.title, ' ', el('span', { class: 'badge ' + inc.status }, inc.status)),
    el('div', { class: 'grid' },
      el('div', { class: 'card', id: 'root-cause', style: 'grid-column: span 2' }, el('div', { class: 'label' }, 'Root cause'),
        el('div', { class: 'value rootcause' }, inc.rootCause.narrative), el('div', { class: 'muted' }, [ent.service, ent.pod, ent.namespace, ent.node].filter(Boolean).join(' · '))),
      el('div', { class: 'card', id: 'confidence' }, el('div', { class: 'label' }, 'Confidence'), el('div', { class: 'value' }, pct(inc.confidence))),
      el('div', { class: 'card', id: 'impact' }, el('div', { class: 'label' }, 'Impact'),
        el('div', { class: 'value ' + (imp ? SEVERITY_WORD[imp.severity] : '') }, imp ? SEVERITY_WORD[imp.severity] + ' · score ' + imp.score.toFixed(2) : 'unknown'),
        imp ? el('div', { class: 'muted' }, [imp.revenueAtRisk !== undefined ? money(imp.revenueAtRisk) + ' revenue at risk' : null, imp.affectedUsers !== undefined ? imp.affectedUsers + ' users' : null, imp.customerFacing ? 'customer-facing' : null, imp.sloViolation ? 'SLO violated' : null, imp.services ? 'services: ' + imp.services.join(', ') : null].filter(Boolean).join(' · ')) : null),
      el('div', { class: 'card', id: 'ttd' }, el('div', { class: 'label' }, 'Time to detection'), el('div', { class: 'value' }, duration(inc.timeToDetectMs)))),
    el('h2', {}, 'Cross-layer timeline'),
    timeline(inc, byId, rootIds),
    el('h2', {}, 'Event chain'),
    el('ol', { class: 'chain' }, inc.chain.map((l) => el('li', {},
      el('span', { class: 'layer-tag layer-' + l.layer }, l.layer.toUpperCase()), ' ',
      rawLink(l.eventId, l.summary), el('span', { class: 'muted mono' }, '  ' + iso(l.time))))),
    el('h2', {}, 'Recommendations'),
    el('ol', { class: 'recs', id: 'recommendations' }, actions.map((a) => el('li', {}, a.recommendation,
      a.action ? el('span', { class: 'dry', title: 'The dashboard never changes the cluster' }, 'dry run: would ' + a.description + ' — apply with ', el('code', {}, 'tapio-cli incidents apply ' + inc.id + ' ' + a.index)) : null))),
    inc.rankedCauses && inc.rankedCauses.length ? el('h2', {}, 'Ranked causes') : null,
    inc.rankedCauses && inc.rankedCauses.length ? el('table', {}, el('tbody', {}, inc.rankedCauses.map((c) => el('tr', {}, el('td', {}, [c.entity.service, c.entity.pod].filter(Boolean).join('/')), el('td', {}, c.score.toFixed(2)))))) : null,
  );
  // The correlation processor re-emits an incident as it grows or resolves: redraw when this one changes.
  closeCurrent = stream('/api/v1/incidents/stream', 'incident', (changed) => {
    if (changed.id === id) { closeCurrent(); incidentView(id); }
  });
}

function timeline(inc, byId, rootIds) {
  // One point per chain link; the stored event (if still within retention) gives its layer and time.
  const points = inc.chain.map((l) => { const e = byId.get(l.eventId); return { id: l.eventId, layer: e ? layerOf(e) : l.layer, time: e ? e.time : l.time, text: e ? summary(e) : l.summary }; });
  const t0 = Math.min(...points.map((p) => p.time));
  const t1 = Math.max(...points.map((p) => p.time));
  const span = Math.max(t1 - t0, 1);
  const box = el('div', { class: 'timeline', id: 'timeline' });
  for (const layer of LAYERS) {
    const track = el('div', { class: 'lane-track' });
    for (const p of points.filter((x) => x.layer === layer)) {
      const left = (5 + ((p.time - t0) / span) * 90).toFixed(2) + '%';
      track.append(rawLink(p.id, '', 'tl-event' + (rootIds.has(p.id) ? ' root' : ''), { style: 'left:' + left, title: iso(p.time) + ' — ' + p.text, 'aria-label': p.text }));
    }
    box.append(el('div', { class: 'lane', 'data-layer': layer }, el('div', { class: 'lane-name' }, LAYER_LABEL[layer]), track));
  }
  box.append(el('div', { class: 'axis' }, el('span', {}, iso(t0)), el('span', {}, '+' + duration(span / 1e6)), el('span', {}, iso(t1))));
  return box;
}

// --- live events -------------------------------------------------------------------------------
function eventsView() {
  const params = new URL(location.href).searchParams;
  const input = el('input', { id: 'filter', value: params.get('filter') || '', placeholder: 'filter, e.g. kind=kernel|network,service=payment,severity=warn', 'aria-label': 'filter' });
  const err = el('div');
  const tbody = el('tbody', { id: 'event-rows' });
  const apply = async () => {
    closeCurrent();
    err.replaceChildren();
    const f = input.value.trim();
    history.replaceState(null, '', '/events' + (f ? '?filter=' + encodeURIComponent(f) : ''));
    const q = f ? '?filter=' + encodeURIComponent(f) : '';
    try {
      // A history page first: it shows recent events and checks the filter (EventSource cannot read a 400).
      const page = await api('/api/v1/events' + (q ? q + '&' : '?') + 'limit=50');
      tbody.replaceChildren(...page.events.map((e) => row(e, false)));
    } catch (e) { err.replaceChildren(errorBox(e)); return; }
    closeCurrent = stream('/api/v1/events/stream' + q, 'event', (e) => {
      tbody.prepend(row(e, true));
      while (tbody.childElementCount > MAX_LIVE_ROWS) tbody.lastElementChild.remove();
    });
  };
  const row = (e, isNew) => el('tr', { class: isNew ? 'new' : undefined },
    el('td', { class: 'mono' }, iso(e.time)), el('td', { class: 'sev-' + e.severity }, e.severity),
    el('td', {}, el('span', { class: 'layer-tag layer-' + layerOf(e) }, e.kind)),
    el('td', {}, (e.resource && e.resource['service.name']) || (e.entity && e.entity.name) || e.source),
    el('td', {}, rawLink(e.id, summary(e))), el('td', { class: 'mono' }, e.trace ? e.trace.traceId : ''));
  view.replaceChildren(el('h1', {}, 'Live events'),
    el('form', { class: 'filters', onsubmit: (ev) => { ev.preventDefault(); apply(); } }, input, el('button', { type: 'submit' }, 'Apply')), err,
    el('table', {}, el('thead', {}, el('tr', {}, ['Time (UTC)', 'Severity', 'Kind', 'Service / entity', 'What', 'Trace'].map((h) => el('th', {}, h)))), tbody));
  apply();
}

// --- service map -------------------------------------------------------------------------------
async function mapView() {
  view.replaceChildren(el('h1', {}, 'Service map'), el('p', { class: 'muted' }, 'loading…'));
  let map;
  try { map = await api('/api/v1/servicemap'); } catch (err) { view.replaceChildren(el('h1', {}, 'Service map'), errorBox(err)); return; }
  if (!map.nodes.length) { view.replaceChildren(el('h1', {}, 'Service map'), el('p', { class: 'muted' }, 'No spans stored yet: the map is learned from the call graph in traces.')); return; }
  // Columns by call depth (callers left, callees right).
  const depth = new Map(map.nodes.map((n) => [n.name, 0]));
  for (let i = 0; i < map.nodes.length; i++) for (const e of map.edges) depth.set(e.to, Math.max(depth.get(e.to), depth.get(e.from) + 1));
  const cols = new Map();
  for (const n of map.nodes) { const d = Math.min(depth.get(n.name), map.nodes.length); if (!cols.has(d)) cols.set(d, []); cols.get(d).push(n); }
  const W = 170, H = 44, GX = 90, GY = 30;
  const pos = new Map();
  for (const [d, ns] of cols) ns.forEach((n, i) => pos.set(n.name, { x: 20 + d * (W + GX), y: 20 + i * (H + GY) }));
  const width = 40 + (Math.max(...cols.keys()) + 1) * (W + GX);
  const height = 40 + Math.max(...[...cols.values()].map((c) => c.length)) * (H + GY);
  const NS = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('width', width); svg.setAttribute('height', height); svg.setAttribute('id', 'service-map');
  const s = (tag, attrs, text) => { const n = document.createElementNS(NS, tag); for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v); if (text !== undefined) n.textContent = text; return n; };
  for (const e of map.edges) {
    const a = pos.get(e.from), b = pos.get(e.to);
    const path = s('path', { class: 'edge' + (e.errors ? ' failing' : ''), d: `M${a.x + W},${a.y + H / 2} C${a.x + W + GX / 2},${a.y + H / 2} ${b.x - GX / 2},${b.y + H / 2} ${b.x},${b.y + H / 2}` });
    path.append(s('title', {}, `${e.from} → ${e.to}: ${e.calls} calls, ${e.errors} failed`));
    svg.append(path);
  }
  for (const n of map.nodes) {
    const p = pos.get(n.name);
    const g = s('g', { class: 'node' + (n.healthy ? '' : ' unhealthy'), 'data-service': n.name, transform: `translate(${p.x},${p.y})` });
    g.append(s('rect', { width: W, height: H, rx: 6 }), s('text', { x: 10, y: 18 }, n.name), s('text', { x: 10, y: 35, 'font-size': 11, fill: '#8a99a8' }, `${pct(n.errorRate)} errors${n.openIncidents ? ` · ${n.openIncidents} incident(s)` : ''}`));
    g.append(s('title', {}, `${n.name}: ${n.spans} spans, ${n.errors} failed${n.healthy ? '' : ' — unhealthy'}`));
    svg.append(g);
  }
  view.replaceChildren(el('h1', {}, 'Service map'), el('p', { class: 'muted' }, 'Learned from spans (parent → child across services). Red: an open incident names the service, or more than 5% of its spans failed.'), svg);
}

// --- router ------------------------------------------------------------------------------------
function route() {
  navSeq++;
  closeCurrent();
  closeCurrent = () => {};
  document.getElementById('raw').hidden = true;
  const p = location.pathname;
  const m = /^\/incidents\/(.+)$/.exec(p);
  const section = m || p === '/' ? 'incidents' : p === '/events' ? 'events' : p === '/map' ? 'map' : 'incidents';
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('active', a.dataset.nav === section);
  if (m) return incidentView(decodeURIComponent(m[1]));
  if (p === '/events') return eventsView();
  if (p === '/map') return mapView();
  return incidentsView();
}
document.addEventListener('click', (ev) => {
  const a = ev.target.closest && ev.target.closest('a[href^="/"]');
  if (!a || a.href.includes('/api/') || ev.metaKey || ev.ctrlKey) return;
  ev.preventDefault();
  history.pushState(null, '', a.getAttribute('href'));
  route();
});
window.addEventListener('popstate', route);
route();
