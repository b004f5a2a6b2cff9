/// The stylesheet and script, served by the binary from `/assets/` (no build step, nothing fetched).
enum Assets {
    static let css = """
    body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d232a;background:#f6f7f9}
    header{display:flex;gap:1.5em;align-items:center;padding:.6em 1.2em;background:#243447;color:#fff}
    header a{color:#cfe3ff;margin-right:1em;text-decoration:none}header a:hover{text-decoration:underline}
    header .state{margin-left:auto;font-size:12px;opacity:.85}form.inline{display:inline}
    main{padding:1em 1.5em;max-width:1200px}h1{font-size:20px}h2{font-size:16px;margin-top:1.6em}
    table{border-collapse:collapse;background:#fff;min-width:60%}th,td{padding:.3em .7em;border-bottom:1px solid #e3e6ea;text-align:left;vertical-align:top}
    td.err{max-width:420px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
    .cards{display:flex;gap:1em}.card{background:#fff;padding:.8em 1.2em;border-radius:6px;min-width:140px;box-shadow:0 1px 2px #0002}
    .card span{display:block;color:#66707a;font-size:12px}.card b{font-size:20px}.card small{display:block;color:#a33;max-width:260px}
    svg#chart{width:600px;height:120px;background:#fff;border:1px solid #e3e6ea}
    polyline{fill:none;stroke-width:2}#chart-processed{stroke:#2b7bd6}#chart-failed{stroke:#d64541}
    .legend .processed{color:#2b7bd6}.legend .failed{color:#d64541}
    .error{color:#a31515;background:#fde8e8;padding:.5em}.notice{background:#eef5ff;padding:.5em}
    .box,.filters,.actions{background:#fff;padding:.8em;margin:.8em 0;display:flex;flex-wrap:wrap;gap:.6em;align-items:end}
    label{display:flex;flex-direction:column;font-size:12px;color:#555}button{padding:.35em .9em;cursor:pointer}
    button.danger{background:#d64541;color:#fff;border:1px solid #b33}pre{background:#fff;padding:.8em;overflow:auto;max-height:420px}
    .tabs a{margin-right:1em}.tabs a.current{font-weight:bold}dl.facts{display:grid;grid-template-columns:9em 1fr;background:#fff;padding:.8em}
    dl.facts dd{margin:0;word-break:break-all}progress{width:220px;vertical-align:middle}
    .badge{display:inline-block;padding:0 .5em;border-radius:3px;font-size:12px;background:#eee;border:1px solid #ccc}
    .badge.succeeded{background:#c8e6c9;border-color:#7cb87f}.badge.dead,.badge.lost{background:#ffcdd2;border-color:#d88}
    .badge.running{background:#bbdefb;border-color:#79b}.badge.retrying{background:#fff9c4;border-color:#cb5}
    .badge.complete,.badge.enqueued{background:#c8e6c9;border-color:#7cb87f}.badge.due{background:#fff9c4;border-color:#cb5}
    .badge.never{color:#888;text-decoration:line-through}.quiet{color:#66707a!important}.card span.badge{display:inline-block;font-size:14px}p.progress progress{width:420px}
    svg.workflow{background:#fff;border:1px solid #e3e6ea;max-width:100%;height:auto}
    svg.workflow rect{fill:#eeeeee;stroke:#888;stroke-width:1.2}svg.workflow .compensation rect{stroke-dasharray:5 3}
    svg.workflow .succeeded rect{fill:#c8e6c9;stroke:#4c8c50}svg.workflow .dead rect{fill:#ffcdd2;stroke:#c0392b}
    svg.workflow .running rect{fill:#bbdefb;stroke:#2b7bd6}svg.workflow .retrying rect{fill:#fff9c4;stroke:#b8a200}
    svg.workflow text{font-size:13px;fill:#1d232a}svg.workflow text.id{font-size:11px;fill:#555}
    svg.workflow line{stroke:#777;stroke-width:1.5}svg.workflow line.dashed{stroke-dasharray:6 4}svg.workflow marker path{fill:#777}
    svg.workflow a:hover rect{stroke-width:2.5}
    """

    static let js = """
    'use strict';
    (function () {
      const body = document.body, base = body.dataset.base || '', page = body.dataset.page;
      const set = (name, value) => document.querySelectorAll('[data-field="' + name + '"]').forEach(e => {
        e.textContent = value === null || value === undefined ? '' : String(value); });
      const num = v => v === null || v === undefined ? 'n/a' : (Number.isInteger(v) ? String(v) : v.toFixed(2));
      function points(history, key, peak) {
        const n = history.length; if (!n) return '';
        return history.map((p, i) => (i * 600 / Math.max(1, n - 1)).toFixed(1) + ',' + (118 - 110 * p[key] / peak).toFixed(1)).join(' ');
      }
      function overview(o) {
        set('broker', o.broker || 'AMQP only'); set('managementError', o.managementError || '');
        set('messages', num(o.messages)); set('unacked', num(o.unacked)); set('workers', o.workers);
        const h = o.activity.history, peak = Math.max(1, ...h.map(p => p.processed));
        set('peak', peak.toFixed(1));
        const p = document.getElementById('chart-processed'), f = document.getElementById('chart-failed');
        if (p) { p.setAttribute('points', points(h, 'processed', peak)); f.setAttribute('points', points(h, 'failed', peak)); }
        const tb = document.querySelector('#rates tbody');
        if (tb) {
          tb.replaceChildren(...o.activity.queues.map(q => {
            const tr = document.createElement('tr');
            [q.queue, num(q.processed), num(q.failed), num(q.retried), num(q.deadLettered)].forEach(v => {
              const td = document.createElement('td'); td.textContent = v; tr.appendChild(td); });
            return tr; }));
        }
      }
      function queues(s) {
        set('unackedSource', s.unackedSource);
        s.queues.forEach(r => {
          const row = Array.from(document.querySelectorAll('#queues tr[data-queue]')).find(e => e.dataset.queue === r.queue);
          if (!row) return;
          ['ready', 'unacked', 'consumers', 'dead', 'publishRate', 'deliverRate', 'ackRate'].forEach(k => {
            const td = row.querySelector('[data-col="' + k + '"]');
            if (td) td.textContent = r.exists ? (k === 'dead' && r[k] === undefined ? '-' : num(r[k])) : 'missing';
          });
        });
      }
      if (!window.EventSource || !page) return;
      const source = new EventSource(base + '/api/events?page=' + encodeURIComponent(page));
      source.onmessage = e => {
        const d = JSON.parse(e.data);
        set('connection', d.connected ? 'broker connected · live' : 'broker connection lost');
        if (d.overview) overview(d.overview);
        if (d.queues) queues(d.queues);
      };
      source.onerror = () => set('connection', 'live updates reconnecting…');
    })();
    """
}
