// Chart.js set-up for the dashboard: one factory per chart, updated in place without animation
// (a live page that re-animates every second is unreadable).
/* global Chart */

export const COLORS = {
  accent: '#2dd4bf',
  blue: '#60a5fa',
  violet: '#a78bfa',
  red: '#f43f5e',
  orange: '#fb923c',
  amber: '#fbbf24',
  green: '#34d399',
  grid: 'rgba(138, 149, 173, 0.12)',
  tick: '#8a95ad'
}

const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 })
export const fmtCompact = n => compact.format(n)
export const fmtClock = t =>
  new Date(t).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit' })
const fmtHm = t => new Date(t).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' })

Chart.defaults.color = COLORS.tick
Chart.defaults.font.family = window.getComputedStyle(document.body).fontFamily
Chart.defaults.font.size = 11
Chart.defaults.animation = false
Chart.defaults.maintainAspectRatio = false
Chart.defaults.plugins.legend.labels.boxWidth = 10
Chart.defaults.plugins.legend.labels.boxHeight = 10
Chart.defaults.plugins.legend.position = 'top'
Chart.defaults.plugins.legend.align = 'end'
Chart.defaults.plugins.tooltip.backgroundColor = '#0b1222'
Chart.defaults.plugins.tooltip.borderColor = '#2a3754'
Chart.defaults.plugins.tooltip.borderWidth = 1
Chart.defaults.plugins.tooltip.padding = 10

const timeAxis = {
  type: 'linear',
  grid: { color: COLORS.grid },
  ticks: {
    maxTicksLimit: 7,
    maxRotation: 0,
    // Seconds while the range is short, minutes once it spans a few.
    callback(v) {
      return this.max - this.min < 180_000 ? fmtClock(v) : fmtHm(v)
    }
  }
}

const valueAxis = (extra = {}) => ({
  beginAtZero: true,
  grid: { color: COLORS.grid },
  ticks: { maxTicksLimit: 5, callback: v => fmtCompact(v) },
  ...extra
})

const STRAIGHT = { tension: 0, cubicInterpolationMode: 'default' }

function line(label, color, extra = {}) {
  return {
    label,
    data: [],
    borderColor: color,
    backgroundColor: color + '22',
    borderWidth: 1.6,
    pointRadius: 0,
    tension: 0.3,
    cubicInterpolationMode: 'monotone',
    spanGaps: false,
    ...extra
  }
}

const timeTooltip = { callbacks: { title: items => (items[0] ? fmtClock(items[0].parsed.x) : '') } }

export function throughputChart(canvas) {
  return new Chart(canvas, {
    type: 'line',
    data: {
      datasets: [
        line('events/s', COLORS.accent, { fill: true }),
        line('fraud/s', COLORS.red),
        line('alerts/s', COLORS.amber, { borderDash: [4, 3] })
      ]
    },
    options: {
      interaction: { mode: 'index', intersect: false },
      scales: { x: timeAxis, y: valueAxis() },
      plugins: { tooltip: timeTooltip }
    }
  })
}

export function latencyChart(canvas) {
  return new Chart(canvas, {
    type: 'line',
    data: {
      datasets: [
        // Straight segments: a 10 s percentile is a measurement, not a curve to interpolate.
        line('p50', COLORS.accent, { ...STRAIGHT, fill: true }),
        line('p90', COLORS.blue, STRAIGHT),
        line('p99', COLORS.violet, STRAIGHT),
        line('max', COLORS.red, { ...STRAIGHT, borderDash: [4, 3], borderWidth: 1 })
      ]
    },
    options: {
      interaction: { mode: 'index', intersect: false },
      scales: { x: timeAxis, y: valueAxis({ ticks: { maxTicksLimit: 5, callback: v => `${v} ms` } }) },
      plugins: { tooltip: timeTooltip }
    }
  })
}

export function fraudChart(canvas) {
  return new Chart(canvas, {
    type: 'line',
    data: { datasets: [line('fraud rate', COLORS.red, { ...STRAIGHT, fill: true })] },
    options: {
      interaction: { mode: 'index', intersect: false },
      scales: {
        x: timeAxis,
        y: valueAxis({ ticks: { maxTicksLimit: 5, callback: v => `${(v * 100).toFixed(1)}%` } })
      },
      plugins: {
        legend: { display: false },
        tooltip: {
          callbacks: { ...timeTooltip.callbacks, label: c => ` ${(c.parsed.y * 100).toFixed(2)}% fraud` }
        }
      }
    }
  })
}

function bar(label, color) {
  return {
    label,
    data: [],
    backgroundColor: color + 'cc',
    borderColor: color,
    borderWidth: 0,
    borderRadius: 3,
    maxBarThickness: 44
  }
}

export function commissionChart(canvas) {
  return new Chart(canvas, {
    type: 'bar',
    data: {
      labels: [],
      datasets: [bar('flat', COLORS.blue), bar('progressive', COLORS.violet), bar('tiered', COLORS.accent)]
    },
    options: {
      scales: {
        x: { stacked: true, grid: { display: false }, ticks: { maxTicksLimit: 8, maxRotation: 0 } },
        y: { ...valueAxis(), stacked: true }
      },
      plugins: { tooltip: { mode: 'index', intersect: false } }
    }
  })
}

export function merchantsChart(canvas) {
  return new Chart(canvas, {
    type: 'bar',
    data: { labels: [], datasets: [bar('commission', COLORS.accent)] },
    options: {
      indexAxis: 'y',
      scales: {
        x: valueAxis(),
        y: { grid: { display: false }, ticks: { font: { family: 'ui-monospace, monospace' } } }
      },
      plugins: {
        legend: { display: false },
        tooltip: {
          callbacks: {
            afterLabel: c => {
              const m = c.chart.$merchants?.[c.dataIndex]
              return m ? `${m.transactions} transactions · volume ${fmtCompact(m.volume)} IRR` : ''
            }
          }
        }
      }
    }
  })
}

export function volumeChart(canvas) {
  return new Chart(canvas, {
    type: 'bar',
    data: {
      labels: [],
      datasets: [
        { ...bar('volume (IRR)', COLORS.blue), yAxisID: 'y', order: 1 },
        {
          ...line('transactions', COLORS.amber),
          type: 'line',
          yAxisID: 'y1',
          // Drawn over the bars.
          order: 0,
          pointRadius: 3
        }
      ]
    },
    options: {
      scales: {
        x: { grid: { display: false }, ticks: { maxTicksLimit: 8, maxRotation: 0 } },
        y: valueAxis(),
        y1: valueAxis({ position: 'right', grid: { display: false } })
      },
      plugins: { tooltip: { mode: 'index', intersect: false } }
    }
  })
}

/** Marks a chart's box empty (a placeholder message instead of blank axes). */
export function setEmpty(chart, empty) {
  chart.canvas.parentElement.classList.toggle('is-empty', empty)
}
