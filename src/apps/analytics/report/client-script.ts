/**
 * The script of report.html, run in the browser after Chart.js: it draws every chart from the
 * embedded `REPORT` object. Animations are off so that a screenshot taken once
 * `document.body.dataset.rendered` is set shows the final picture.
 */
export const CLIENT_SCRIPT = String.raw`
(function () {
  var R = JSON.parse(document.getElementById('report-data').textContent);
  var C = { blue: '#2563eb', amber: '#f59e0b', green: '#10b981', red: '#dc2626', slate: '#64748b',
    purple: '#7c3aed', teal: '#0d9488', pink: '#db2777' };
  var TYPE_COLOURS = { flat: C.blue, progressive: C.amber, tiered: C.green };
  var SEGMENT_COLOURS = [C.green, C.blue, C.teal, C.amber, C.slate, C.purple];
  var fmt = new Intl.NumberFormat('en-US');
  Chart.defaults.animation = false;
  Chart.defaults.responsive = true;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
  Chart.defaults.font.size = 13;
  Chart.defaults.color = '#334155';
  Chart.defaults.plugins.legend.labels.boxWidth = 14;
  function axis(title, extra) {
    var a = { beginAtZero: true, title: { display: !!title, text: title }, ticks: { callback: function (v) { return fmt.format(v); } } };
    for (var k in extra || {}) a[k] = extra[k];
    return a;
  }
  function draw(id, config) {
    var el = document.getElementById(id);
    if (el) new Chart(el, config);
  }
  var t = R.results.temporal;
  draw('canvas-daily-volume', {
    type: 'line',
    data: { labels: t.daily.map(function (d) { return d.day; }), datasets: [
      { label: 'transactions', data: t.daily.map(function (d) { return d.count; }), borderColor: C.blue,
        backgroundColor: 'rgba(37,99,235,0.12)', fill: true, tension: 0.15, yAxisID: 'y' },
      { label: 'value (Rial)', data: t.daily.map(function (d) { return d.amount; }), borderColor: C.amber,
        backgroundColor: C.amber, borderDash: [6, 4], tension: 0.15, yAxisID: 'y1' } ] },
    options: { scales: { y: axis('transactions per day'),
      y1: axis('value (Rial)', { position: 'right', grid: { drawOnChartArea: false } }) } }
  });
  draw('canvas-hourly', {
    type: 'bar',
    data: { labels: t.by_hour.map(function (_, h) { return String(h).padStart(2, '0') + ':00'; }),
      datasets: [{ label: 'transactions', data: t.by_hour.map(function (b) { return b.count; }),
        backgroundColor: t.by_hour.map(function (_, h) {
          return R.peakHours.indexOf(h) >= 0 ? C.red : C.blue; }) }] },
    options: { plugins: { legend: { display: false } }, scales: { y: axis('transactions'), x: { title: { display: true, text: 'hour of day (UTC); peak hours in red' } } } }
  });
  var m = R.results.merchants;
  function merchantBar(id, list, key, colour, title) {
    draw(id, {
      type: 'bar',
      data: { labels: list.map(function (x) { return x.merchant_id + ' (' + x.category + ')'; }),
        datasets: [{ label: title, data: list.map(function (x) { return x[key]; }), backgroundColor: colour }] },
      options: { indexAxis: 'y', plugins: { legend: { display: false } }, scales: { x: axis(title) } }
    });
  }
  merchantBar('canvas-top-merchants-count', m.top_by_count, 'count', C.blue, 'transactions');
  merchantBar('canvas-top-merchants-commission', m.top_by_commission, 'commission', C.green, 'commission (Rial)');
  var cells = R.results.commission.cells;
  var categories = [];
  cells.forEach(function (c) { if (categories.indexOf(c.category) < 0) categories.push(c.category); });
  draw('canvas-commission', {
    type: 'bar',
    data: { labels: categories.map(function (c) { return c.replace('_', ' '); }), datasets: ['flat', 'progressive', 'tiered'].map(function (type) {
      return { label: type, backgroundColor: TYPE_COLOURS[type], data: categories.map(function (cat) {
        var c = cells.filter(function (x) { return x.category === cat && x.commission_type === type; })[0];
        return c ? c.total_commission : 0; }) }; }) },
    options: { scales: { y: axis('total commission (Rial)') } }
  });
  var segs = R.results.segments.segments;
  draw('canvas-segments', {
    type: 'bar',
    data: { labels: segs.map(function (s) { return s.segment.replace('_', ' '); }), datasets: [
      { label: 'customers', data: segs.map(function (s) { return s.customers; }), backgroundColor: SEGMENT_COLOURS, yAxisID: 'y', order: 1 },
      { type: 'line', label: 'mean spend (Rial)', data: segs.map(function (s) { return s.mean_spend; }),
        borderColor: C.red, backgroundColor: C.red, borderWidth: 3, pointRadius: 5, yAxisID: 'y1', order: 0 } ] },
    options: { scales: { y: axis('customers'), y1: axis('mean spend per customer (Rial)', { position: 'right', grid: { drawOnChartArea: false } }) } }
  });
  var u = R.results.users;
  draw('canvas-users', {
    type: 'bar',
    data: { labels: u.histogram.map(function (b) { return b.label; }),
      datasets: [{ label: 'users', data: u.histogram.map(function (b) { return b.users; }), backgroundColor: C.purple }] },
    options: { plugins: { legend: { display: false } }, scales: { y: axis('users'), x: { title: { display: true, text: 'transactions per user' } } } }
  });
  var f = R.results.fraud;
  if (f) draw('canvas-fraud-rate', {
    type: 'line',
    data: { labels: f.daily.map(function (d) { return d.day; }), datasets: [
      { label: 'fraud rate (%)', data: f.daily.map(function (d) { return +(d.rate * 100).toFixed(3); }),
        borderColor: C.red, backgroundColor: 'rgba(220,38,38,0.12)', fill: true, tension: 0 } ] },
    options: { plugins: { legend: { display: false } }, scales: { y: axis('fraud rate (% of decided)') } }
  });
  document.body.dataset.rendered = 'true';
})();
`
