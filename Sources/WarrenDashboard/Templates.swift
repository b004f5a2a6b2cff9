import Mustache

/// The pages' Mustache templates, compiled into the binary (nothing is read from disk or the network).
/// Every value goes through `{{name}}`, which HTML-escapes it; triple mustaches (raw output) are never used,
/// and a test checks that (`DashboardTemplateTests`).
enum Templates {
    static let header = """
    <!doctype html>
    <html lang="en"><head><meta charset="utf-8"><title>Warren · {{title}}</title>
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <link rel="stylesheet" href="{{base}}/assets/app.css"><script src="{{base}}/assets/app.js" defer></script></head>
    <body data-base="{{base}}" data-page="{{page}}" data-refresh="{{refresh}}">
    <header><strong>Warren</strong>
    <nav><a href="{{base}}/">Overview</a><a href="{{base}}/queues">Queues</a><a href="{{base}}/workers">Workers</a>
    <a href="{{base}}/dead-letters">Dead letters</a><a href="{{base}}/schedules">Schedules</a><a href="{{base}}/jobs">Jobs</a>
    <a href="{{base}}/workflows">Workflows</a><a href="{{base}}/batches">Batches</a><a href="{{base}}/limits">Limits</a></nav>
    <span class="state" id="live-state">{{#readOnly}}read-only · {{/readOnly}}<span data-field="connection">{{connection}}</span></span>
    {{#csrf}}<form method="post" action="{{base}}/logout" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><button>Log out</button></form>{{/csrf}}
    </header><main><h1>{{title}}</h1>
    {{#pageError}}<p class="error" id="error">{{pageError}}</p>{{/pageError}}{{#pageNotice}}<p class="notice" id="notice">{{pageNotice}}</p>{{/pageNotice}}
    """
    static let footer = "</main></body></html>\n"

    static let login = """
    {{> header}}<form method="post" action="{{base}}/login" class="box" id="login">
    <label>Token <input type="password" name="token" id="token" autofocus autocomplete="current-password"></label>
    <button id="login-button">Log in</button></form>{{> footer}}
    """

    static let overview = """
    {{> header}}<section class="cards">
    <div class="card"><span>Broker</span><b data-field="broker">{{broker}}</b><small data-field="managementError">{{managementError}}</small></div>
    <div class="card"><span>Messages</span><b data-field="messages">{{messages}}</b></div>
    <div class="card"><span>Unacked</span><b data-field="unacked">{{unacked}}</b></div>
    <div class="card"><span>Workers</span><b data-field="workers">{{workers}}</b></div></section>
    <h2>Jobs per second, last {{historyMinutes}} minutes</h2>
    <svg id="chart" viewBox="0 0 600 120" preserveAspectRatio="none" role="img" aria-label="processed and failed jobs per second">
    <polyline id="chart-processed" points="{{processedPoints}}"/><polyline id="chart-failed" points="{{failedPoints}}"/></svg>
    <p class="legend"><span class="processed">processed</span> <span class="failed">failed</span> · peak <span data-field="peak">{{peak}}</span>/s</p>
    <h2>Per queue (average over {{rateWindow}} s)</h2>
    <table id="rates"><thead><tr><th>Queue</th><th>Processed/s</th><th>Failed/s</th><th>Retried/s</th><th>Dead-lettered/s</th></tr></thead>
    <tbody>{{#rates}}<tr><td>{{queue}}</td><td>{{processed}}</td><td>{{failed}}</td><td>{{retried}}</td><td>{{deadLettered}}</td></tr>{{/rates}}</tbody></table>
    {{> footer}}
    """

    static let queues = """
    {{> header}}<table id="queues"><thead><tr><th>Queue</th><th>Ready</th><th>Unacked</th><th>Consumers</th><th>Dead</th>
    <th>Publish/s</th><th>Deliver/s</th><th>Ack/s</th></tr></thead><tbody>
    {{#rows}}<tr data-queue="{{queue}}"><td>{{queue}}</td><td data-col="ready">{{ready}}</td><td data-col="unacked">{{unacked}}</td>
    <td data-col="consumers">{{consumers}}</td><td data-col="dead">{{dead}}</td><td data-col="publishRate">{{publishRate}}</td>
    <td data-col="deliverRate">{{deliverRate}}</td><td data-col="ackRate">{{ackRate}}</td></tr>{{/rows}}</tbody></table>
    <p>Unacked and rates from: <span data-field="unackedSource">{{unackedSource}}</span></p>
    <h2>Delay levels</h2>{{^levels}}<p>All empty.</p>{{/levels}}<ul>{{#levels}}<li>L{{level}} ({{millis}} ms): {{messages}}</li>{{/levels}}</ul>
    {{#migrations}}<p class="error">Unfinished migration: {{holdingQueue}} holds {{messages}} job(s); run <code>warren topology migrate</code>.</p>{{/migrations}}
    {{> footer}}
    """

    static let workers = """
    {{> header}}<p>Workers announce themselves every few seconds; one not heard from for {{expiry}} s is dropped.</p>
    <table id="workers"><thead><tr><th>Host</th><th>PID</th><th>Queues</th><th>Concurrency</th><th>Busy</th><th>Jobs done</th>
    <th>Started</th><th>Last seen</th></tr></thead><tbody>
    {{#workers}}<tr><td>{{host}}</td><td>{{pid}}</td><td>{{queues}}</td><td>{{concurrency}}</td><td>{{busy}}</td><td>{{done}}</td>
    <td>{{started}}</td><td>{{seen}}</td></tr>{{/workers}}</tbody></table>{{^workers}}<p>No worker is announcing.</p>{{/workers}}
    <h2>Consumers (broker view)</h2>{{#consumerError}}<p class="notice">{{consumerError}}</p>{{/consumerError}}
    <table><thead><tr><th>Queue</th><th>Client</th><th>Connection</th><th>Prefetch</th></tr></thead><tbody>
    {{#consumers}}<tr><td>{{queue}}</td><td>{{peer}}</td><td>{{connection}}</td><td>{{prefetch}}</td></tr>{{/consumers}}</tbody></table>
    {{> footer}}
    """

    static let schedules = """
    {{> header}}<table id="schedules"><thead><tr><th>Schedule</th><th>Expression</th><th>Job → queue</th><th>Next fires</th>
    <th>Last fire</th><th>Leader</th><th>Replicas</th></tr></thead><tbody>
    {{#schedules}}<tr><td>{{name}}</td><td>{{expression}}</td><td>{{job}} → {{queue}}</td><td>{{next}}</td><td>{{last}}</td>
    <td>{{leader}}</td><td>{{replicas}}</td></tr>{{/schedules}}</tbody></table>{{^schedules}}<p>No scheduler replica is announcing.</p>{{/schedules}}
    {{> footer}}
    """
}
