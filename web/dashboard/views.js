// DOM views of the dashboard: the alerts feed, an alert's decision trace, the topic browser.
// Everything from the server is inserted as text (never as HTML).
import { fmtClock, fmtCompact } from './charts.js'

/** Creates an element: h('div', { class: 'x' }, 'text', child, ...). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null) continue
    if (k === 'class') el.className = v
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v)
    else el.setAttribute(k, v)
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c)
  return el
}

const int = new Intl.NumberFormat('en-US')
export const fmtInt = n => int.format(n)
const rial = n => (typeof n === 'number' ? `${fmtInt(n)} IRR` : '–')

// ---------- alerts feed ----------

const MAX_FEED = 150

function alertItem(a, onOpen, fresh) {
  const sev = String(a.severity || 'low').toLowerCase()
  const rules = (a.rules_fired || []).map(r => h('span', { class: 'rule-tag' }, r))
  const li = h(
    'li',
    {
      class: `alert${fresh ? ' fresh' : ''}`,
      tabindex: '0',
      'data-id': a.alert_id,
      onclick: () => onOpen(a)
    },
    h('span', { class: `sev sev-${sev}` }, sev),
    h('span', { class: 'alert-main' }, `${a.customer_id} · ${a.merchant_id ?? '–'}`),
    h('span', { class: 'alert-risk' }, `risk ${a.risk_score}`),
    h(
      'span',
      { class: 'alert-sub' },
      rules,
      ` ${typeof a.amount === 'number' ? fmtCompact(a.amount) + ' IRR' : ''}`
    ),
    h('span', { class: 'alert-time' }, fmtClock(a.event_time || a.created_at))
  )
  li.addEventListener('keydown', e => {
    if (e.key === 'Enter') onOpen(a)
  })
  return li
}

export class AlertsFeed {
  constructor(list, empty, onOpen) {
    this.list = list
    this.empty = empty
    this.onOpen = onOpen
    this.ids = new Set()
  }

  /** Alerts newest first (the initial page). */
  reset(alerts) {
    this.list.replaceChildren()
    this.ids.clear()
    for (const a of alerts.slice().reverse()) this.add(a, false)
  }

  add(a, fresh = true) {
    if (this.ids.has(a.alert_id)) return
    this.ids.add(a.alert_id)
    this.list.prepend(alertItem(a, this.onOpen, fresh))
    while (this.list.children.length > MAX_FEED) {
      this.ids.delete(this.list.lastElementChild.dataset.id)
      this.list.lastElementChild.remove()
    }
    this.empty.hidden = this.list.children.length > 0
  }
}

// ---------- decision trace ----------

/**
 * For the built-in rules: which measured number is compared with which threshold. Other
 * rules (custom rule sets) show their numbers as they are.
 */
const MEASURES = {
  velocity: [{ label: 'transactions in window', value: 'count', limit: 'max_count', cmp: '>' }],
  impossible_travel: [
    { label: 'distance (km)', value: 'km', limit: 'min_km', cmp: '>' },
    { label: 'time between (min)', value: 'minutes', limit: 'max_minutes', cmp: '<' }
  ],
  amount_anomaly: [{ label: '× customer average', value: 'ratio', limit: 'multiplier', cmp: '>' }]
}

function measureRow(m, t) {
  const value = t[m.value]
  const limit = t[m.limit]
  if (typeof value !== 'number' || typeof limit !== 'number') return null
  const over = m.cmp === '>' ? value > limit : value < limit
  const scale = Math.max(value, limit) * 1.15 || 1
  return h(
    'div',
    { class: 'measure' },
    h('span', {}, m.label),
    h(
      'div',
      { class: 'measure-bar' },
      h('span', { class: over ? 'over' : '', style: `width:${(value / scale) * 100}%` })
    ),
    h(
      'span',
      { class: 'measure-val' },
      `${fmtNum(value)} ${m.cmp === '>' ? 'vs limit' : 'vs within'} ${fmtNum(limit)}`
    )
  )
}

function fmtNum(v) {
  return typeof v === 'number'
    ? Number.isInteger(v)
      ? fmtInt(v)
      : v.toLocaleString('en-US', { maximumFractionDigits: 2 })
    : String(v)
}

function ruleCard(name, t) {
  const fired = t.fired === true
  const numbers = Object.entries(t).filter(([k]) => k !== 'fired')
  return h(
    'div',
    { class: `rule${fired ? ' fired' : ''}`, 'data-rule': name },
    h(
      'div',
      { class: 'rule-head' },
      h('span', { class: 'rule-name' }, name),
      h('span', { class: `badge ${fired ? 'badge-fired' : 'badge-quiet'}` }, fired ? 'fired' : 'not fired')
    ),
    (MEASURES[name] || []).map(m => measureRow(m, t)),
    h(
      'div',
      { class: 'numbers' },
      numbers.map(([k, v]) => h('span', {}, `${k} `, h('b', {}, fmtNum(v))))
    )
  )
}

function fact(label, value) {
  return h('div', {}, h('div', { class: 'fact-label' }, label), h('div', { class: 'fact-value' }, value))
}

export function showTrace(dialog, a) {
  const sev = String(a.severity || 'low').toLowerCase()
  dialog
    .querySelector('#trace-kicker')
    .replaceChildren(
      h('span', { class: `sev sev-${sev}` }, sev),
      h('span', { class: 'muted' }, `risk score ${a.risk_score} / 100 · ${a.decision ?? ''}`)
    )
  dialog.querySelector('#trace-title').textContent = `Alert on ${a.customer_id}`
  dialog
    .querySelector('#trace-facts')
    .replaceChildren(
      fact('Transaction', a.transaction_id),
      fact('Merchant', a.merchant_id ?? '–'),
      fact('Amount', rial(a.amount)),
      fact('Event time', a.event_time ? new Date(a.event_time).toLocaleString('en-GB') : '–'),
      fact('Rules fired', (a.rules_fired || []).join(', ') || '–'),
      fact(
        'Processing latency',
        a.processing_latency_ms === undefined ? '–' : `${a.processing_latency_ms} ms`
      )
    )
  const trace = a.trace || {}
  // Fired rules first: they are the reason for the alert.
  const names = Object.keys(trace).sort(
    (x, y) => Number(trace[y]?.fired === true) - Number(trace[x]?.fired === true)
  )
  dialog.querySelector('#trace-rules').replaceChildren(...names.map(n => ruleCard(n, trace[n] || {})))
  if (!dialog.open) dialog.showModal()
}

// ---------- topic browser ----------

export function renderTopics(tbody, topics, selected, onSelect) {
  tbody.replaceChildren(
    ...topics.map(t => {
      const maxLag = Math.max(0, ...t.groups.map(g => g.total_lag))
      return h(
        'tr',
        {
          'data-topic': t.name,
          class: t.name === selected ? 'selected' : '',
          onclick: () => onSelect(t.name)
        },
        h('td', { class: 'topic-name' }, t.name),
        h('td', { class: 'num' }, String(t.partitions)),
        h('td', { class: 'num' }, fmtInt(t.messages)),
        h(
          'td',
          { class: `num ${t.groups.length === 0 ? 'muted' : maxLag === 0 ? 'lag-ok' : 'lag-some'}` },
          t.groups.length === 0 ? '–' : fmtInt(maxLag)
        )
      )
    })
  )
}

export function renderPartitions(table, topic) {
  const groups = topic ? topic.groups : []
  table.tHead.replaceChildren(
    h(
      'tr',
      {},
      h('th', {}, 'Partition'),
      h('th', { class: 'num' }, 'End offset'),
      groups.map(g =>
        h('th', { class: 'num', title: 'committed offset / lag' }, `${g.group} · committed / lag`)
      )
    )
  )
  if (!topic) {
    table.tBodies[0].replaceChildren()
    return
  }
  table.tBodies[0].replaceChildren(
    ...topic.end_offsets.map((end, p) =>
      h(
        'tr',
        { 'data-partition': String(p) },
        h('td', {}, String(p)),
        h('td', { class: 'num' }, fmtInt(end)),
        groups.map(g =>
          h(
            'td',
            { class: `num ${g.lag[p] === 0 ? 'lag-ok' : 'lag-some'}` },
            `${g.committed[p] < 0 ? '–' : fmtInt(g.committed[p])} / ${fmtInt(g.lag[p])}`
          )
        )
      )
    )
  )
}

/** Pretty-printed JSON with colours, built as text nodes. */
export function jsonView(value, indent = '') {
  const frag = document.createDocumentFragment()
  const write = (v, pad) => {
    if (v === null || typeof v === 'boolean') frag.append(h('span', { class: 'j-lit' }, String(v)))
    else if (typeof v === 'number') frag.append(h('span', { class: 'j-num' }, String(v)))
    else if (typeof v === 'string') frag.append(h('span', { class: 'j-str' }, JSON.stringify(v)))
    else if (Array.isArray(v)) {
      if (v.length === 0) return frag.append('[]')
      frag.append('[\n')
      v.forEach((x, i) => {
        frag.append(pad + '  ')
        write(x, pad + '  ')
        frag.append(i < v.length - 1 ? ',\n' : '\n')
      })
      frag.append(pad + ']')
    } else {
      const entries = Object.entries(v)
      if (entries.length === 0) return frag.append('{}')
      frag.append('{\n')
      entries.forEach(([k, x], i) => {
        frag.append(pad + '  ', h('span', { class: 'j-key' }, JSON.stringify(k)), ': ')
        write(x, pad + '  ')
        frag.append(i < entries.length - 1 ? ',\n' : '\n')
      })
      frag.append(pad + '}')
    }
  }
  write(value, indent)
  return frag
}

export function renderMessages(box, messages) {
  if (messages.length === 0) {
    box.replaceChildren(h('p', { class: 'empty' }, 'No messages in this topic yet.'))
    return
  }
  box.replaceChildren(
    ...messages.map(m =>
      h(
        'div',
        { class: 'message' },
        h(
          'div',
          { class: 'message-meta' },
          h('span', {}, 'partition ', h('b', {}, String(m.partition))),
          h('span', {}, 'offset ', h('b', {}, String(m.offset))),
          h('span', {}, 'key ', h('b', {}, m.key ?? 'null')),
          h('span', {}, h('b', {}, new Date(m.timestamp).toLocaleString('en-GB'))),
          Object.keys(m.headers).length > 0
            ? h(
                'span',
                {},
                'headers ',
                h(
                  'b',
                  {},
                  Object.entries(m.headers)
                    .map(([k, v]) => `${k}=${v}`)
                    .join(' ')
                )
              )
            : null
        ),
        h('pre', {}, jsonView(m.value))
      )
    )
  )
}
