// The Darooghe dashboard: loads the overview once, then follows /api/live/stream (a compact
// overview every second and each alert as it is read); window aggregates and the topic browser
// are fetched on a slow timer, only while they are on screen.
import {
  commissionChart,
  fraudChart,
  latencyChart,
  merchantsChart,
  setEmpty,
  throughputChart,
  volumeChart
} from './charts.js'
import { AlertsFeed, fmtInt, renderMessages, renderPartitions, renderTopics, showTrace } from './views.js'

const $ = sel => document.querySelector(sel)

const state = {
  throughput: new Map(),
  latency: new Map(),
  fraud: new Map(),
  overview: null,
  streamUp: false,
  /** Services /health reports down (serve with Kafka, Redis, MongoDB; none in the demo). */
  down: [],
  topics: [],
  topic: null,
  view: 'overview'
}

const charts = {
  throughput: throughputChart($('#chart-throughput')),
  latency: latencyChart($('#chart-latency')),
  fraud: fraudChart($('#chart-fraud')),
  commission: commissionChart($('#chart-commission')),
  merchants: merchantsChart($('#chart-merchants')),
  volume: volumeChart($('#chart-volume'))
}
for (const c of [charts.commission, charts.merchants, charts.volume]) setEmpty(c, true)
// For the browser test and for anyone curious in the console.
window.darooghe = { state, charts }

async function getJson(url) {
  const res = await fetch(url, { headers: { accept: 'application/json' } })
  if (!res.ok) {
    const body = await res.json().catch(() => ({}))
    throw Object.assign(new Error(body.message ?? `${url}: ${res.status}`), { status: res.status })
  }
  return res.json()
}

// ---------- overview ----------

/** Merges a (full or compact) overview into the series kept by time, then redraws. */
function applyOverview(o) {
  state.overview = o
  for (const p of o.series.throughput) state.throughput.set(p.t, p)
  for (const p of o.series.latency) state.latency.set(p.t, p)
  for (const p of o.series.fraud_rate) state.fraud.set(p.t, p)
  const horizon = Date.parse(o.now) - 600_000
  for (const m of [state.throughput, state.latency, state.fraud])
    for (const t of m.keys()) if (t < horizon) m.delete(t)
  renderKpis(o)
  renderSeries()
  renderHealth()
}

const SLOT_MS = 10_000
const sorted = m => [...m.values()].sort((a, b) => a.t - b.t)

/** The time axes run from the start of this view (or 10 minutes ago) to now: no empty past. */
function setTimeRange(chart, o) {
  const now = Date.parse(o.now)
  const min = Math.max(now - 600_000, Math.floor(Date.parse(o.started_at) / 1000) * 1000)
  chart.options.scales.x.min = min
  chart.options.scales.x.max = now
}

function renderSeries() {
  for (const c of [charts.throughput, charts.latency, charts.fraud]) setTimeRange(c, state.overview)
  // The current second is still filling: drawing it would show a dip at the end of every line.
  const complete = Math.floor(Date.parse(state.overview.now) / 1000) * 1000
  const tp = sorted(state.throughput).filter(p => p.t < complete)
  const [events, fraud, alerts] = charts.throughput.data.datasets
  events.data = tp.map(p => ({ x: p.t, y: p.events }))
  fraud.data = tp.map(p => ({ x: p.t, y: p.fraud }))
  alerts.data = tp.map(p => ({ x: p.t, y: p.alerts }))
  charts.throughput.update('none')

  // A 10 s slot is drawn at its end (at now while it fills): the lines reach the present.
  const now = Date.parse(state.overview.now)
  const at = t => Math.min(t + SLOT_MS, now)
  const lat = sorted(state.latency)
  const keys = ['p50', 'p90', 'p99', 'max']
  charts.latency.data.datasets.forEach((ds, i) => (ds.data = lat.map(p => ({ x: at(p.t), y: p[keys[i]] }))))
  charts.latency.update('none')

  charts.fraud.data.datasets[0].data = sorted(state.fraud).map(p => ({ x: at(p.t), y: p.rate }))
  charts.fraud.update('none')
}

function renderKpis(o) {
  const e2e = o.latency_60s.end_to_end
  const proc = o.latency_60s.processing
  $('#kpi-eps').textContent = fmtInt(Math.round(o.rates.events_per_s))
  $('#kpi-events').textContent = `${fmtInt(o.totals.events)} decisions since start`
  $('#kpi-fraud').textContent = `${(o.fraud_rate_60s * 100).toFixed(2)}%`
  $('#kpi-fraud-total').textContent =
    `${fmtInt(o.totals.fraud)} fraud · ${fmtInt(o.totals.approved)} approved`
  $('#kpi-alerts').textContent = fmtInt(o.totals.alerts)
  $('#kpi-aps').textContent = `${o.rates.alerts_per_s.toFixed(1)} per second now`
  $('#kpi-p50').textContent = e2e.count ? fmtInt(e2e.p50) : '–'
  $('#kpi-p99').textContent = e2e.count ? fmtInt(e2e.p99) : '–'
  $('#kpi-proc').textContent = proc.count
    ? `processing p50 ${proc.p50} ms · p99 ${proc.p99} ms`
    : 'no decisions in the last minute'
  $('#kpi-max').textContent = e2e.count ? `max ${fmtInt(e2e.max)} ms · p90 ${fmtInt(e2e.p90)} ms` : '–'
}

function renderHealth() {
  const pill = $('#health-pill')
  const o = state.overview
  let cls = 'pill-wait'
  let text = 'connecting'
  if (!state.streamUp) {
    cls = o ? 'pill-down' : 'pill-wait'
    text = o ? 'disconnected' : 'connecting'
  } else if (state.down.length > 0) {
    cls = 'pill-warn'
    text = `degraded: ${state.down.join(', ')} down`
  } else if (o && o.idle_s !== null && o.idle_s <= 5) {
    cls = 'pill-ok'
    text = 'live'
  } else {
    cls = 'pill-warn'
    text = o && o.idle_s !== null ? `idle ${o.idle_s}s` : 'waiting for data'
  }
  pill.className = `pill ${cls}`
  $('#health-text').textContent = text
  if (o) {
    const up = Math.round((Date.parse(o.now) - Date.parse(o.started_at)) / 1000)
    $('#health-detail').textContent =
      `up ${up < 120 ? `${up}s` : `${Math.round(up / 60)}m`} · ${fmtInt(o.totals.events)} events`
  }
}

// ---------- alerts ----------

const dialog = $('#trace')
const feed = new AlertsFeed($('#alerts'), $('#alerts-empty'), async a => {
  showTrace(dialog, a)
  // The feed holds what the stream sent; the server's copy is the reference.
  try {
    showTrace(dialog, await getJson(`/api/alerts/${encodeURIComponent(a.alert_id)}`))
  } catch {
    // evicted from the server's recent alerts: the feed's copy stays on screen
  }
})
dialog.addEventListener('click', e => {
  if (e.target === dialog) dialog.close()
})

// ---------- analytics (window aggregates) ----------

const label = iso =>
  new Date(iso).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit' })

async function refreshAnalytics() {
  const a = await getJson('/api/analytics')
  const minutes = a.sliding_1m
  setEmpty(charts.commission, minutes.length === 0)
  setEmpty(charts.volume, minutes.length === 0)
  const labels = minutes.map(w => label(w.window_end))
  charts.commission.data.labels = labels
  const [flat, progressive, tiered] = charts.commission.data.datasets
  flat.data = minutes.map(w => w.commission?.flat ?? 0)
  progressive.data = minutes.map(w => w.commission?.progressive ?? 0)
  tiered.data = minutes.map(w => w.commission?.tiered ?? 0)
  charts.commission.update('none')
  charts.volume.data.labels = labels
  charts.volume.data.datasets[0].data = minutes.map(w => w.volume ?? 0)
  charts.volume.data.datasets[1].data = minutes.map(w => w.transactions ?? 0)
  charts.volume.update('none')

  // Top merchants of the latest 5-minute window, or of the latest minute until one closes.
  const latest = a.tumbling_5m.at(-1) ?? minutes.at(-1)
  const top = latest?.top_merchants ?? []
  setEmpty(charts.merchants, top.length === 0)
  $('#top-hint').textContent = latest
    ? `by commission · ${latest.kind === 'tumbling_5m' ? '5 min' : '1 min'} to ${label(latest.window_end)}`
    : 'by commission · latest window'
  charts.merchants.$merchants = top
  charts.merchants.data.labels = top.map(m => m.merchant_id)
  charts.merchants.data.datasets[0].data = top.map(m => m.commission)
  charts.merchants.update('none')
}

// ---------- topics ----------

async function refreshTopics() {
  const { topics } = await getJson('/api/topics')
  state.topics = topics
  $('#topics-hint').textContent = `${topics.length} topics`
  renderTopics($('#topics-table tbody'), topics, state.topic, selectTopic)
  renderPartitions(
    $('#partitions-table'),
    topics.find(t => t.name === state.topic)
  )
}

async function refreshMessages() {
  if (!state.topic) return
  const limit = $('#messages-limit').value
  const { messages } = await getJson(`/api/topics/${encodeURIComponent(state.topic)}/messages?limit=${limit}`)
  renderMessages($('#messages'), messages)
}

function selectTopic(name) {
  state.topic = name
  $('#topic-title').textContent = name
  renderTopics($('#topics-table tbody'), state.topics, name, selectTopic)
  renderPartitions(
    $('#partitions-table'),
    state.topics.find(t => t.name === name)
  )
  void refreshMessages().catch(showError)
}

$('#messages-refresh').addEventListener('click', () => void refreshMessages().catch(showError))
$('#messages-limit').addEventListener('change', () => void refreshMessages().catch(showError))

// ---------- navigation, timers, stream ----------

function show(view) {
  state.view = view
  for (const b of document.querySelectorAll('.tab')) b.classList.toggle('active', b.dataset.view === view)
  $('#view-overview').hidden = view !== 'overview'
  $('#view-topics').hidden = view !== 'topics'
  if (view === 'topics') void refreshTopics().catch(showError)
  if (view === 'overview') for (const c of Object.values(charts)) c.resize()
}
for (const b of document.querySelectorAll('.tab')) b.addEventListener('click', () => show(b.dataset.view))

// The batch report over the history stored so far, in a new tab (opened first: no popup blocker).
$('#report-button').addEventListener('click', async () => {
  const tab = window.open('about:blank', '_blank')
  const button = $('#report-button')
  button.disabled = true
  try {
    const res = await fetch('/api/reports', { method: 'POST' })
    if (!res.ok && res.status !== 404 && res.status !== 409) throw new Error(`report: HTTP ${res.status}`)
    if (tab) tab.location.href = '/reports/latest'
  } catch (err) {
    tab?.close()
    showError(err)
  } finally {
    button.disabled = false
  }
})

function showError(err) {
  console.warn('dashboard:', err.message ?? err)
}

function connect() {
  const es = new EventSource('/api/live/stream')
  es.addEventListener('open', () => {
    state.streamUp = true
    renderHealth()
  })
  es.addEventListener('stats', e => applyOverview(JSON.parse(e.data)))
  es.addEventListener('alert', e => feed.add(JSON.parse(e.data)))
  es.addEventListener('error', () => {
    // EventSource reconnects by itself (retry: 3000 from the server).
    state.streamUp = false
    renderHealth()
  })
}

async function refreshHealth() {
  // 503 carries the same body: which dependency is down.
  const res = await fetch('/health')
  const body = await res.json()
  state.down = Array.isArray(body.down) ? body.down : []
  renderHealth()
}

async function start() {
  const [overview, alerts] = await Promise.all([getJson('/api/overview'), getJson('/api/alerts?limit=60')])
  applyOverview(overview)
  feed.reset(alerts.alerts)
  connect()
  await refreshAnalytics().catch(showError)
  setInterval(() => void refreshAnalytics().catch(showError), 5000)
  await refreshHealth().catch(showError)
  setInterval(() => void refreshHealth().catch(showError), 10_000)
  setInterval(() => {
    if (state.view === 'topics') void refreshTopics().catch(showError)
  }, 3000)
}

document.title = 'Darooghe · live'
void start().catch(err => {
  showError(err)
  // 503: this server has no log to show (e.g. `darooghe serve` without --brokers).
  $('#health-text').textContent = err.status === 503 ? 'no live data' : 'API unreachable'
  $('#health-pill').className = `pill ${err.status === 503 ? 'pill-warn' : 'pill-down'}`
  $('#health-detail').textContent = err.status === 503 ? err.message : ''
})
