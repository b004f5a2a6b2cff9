extension Templates {
    /// Shown instead of a store-backed page when no job store is configured.
    static let noStore = """
    {{#noStore}}<p class="notice" id="no-store">No job store is configured, so jobs and workflows cannot be looked up. {{noStore}}</p>{{/noStore}}
    """

    static let jobs = """
    {{> header}}{{> noStore}}{{^noStore}}<form method="get" action="{{base}}/jobs/show" class="box" id="lookup">
    <label>Job id <input name="id" id="lookup-id"></label><button>Look up</button></form>
    <form method="get" action="{{base}}/jobs" class="filters" id="job-filters"><label>State <select name="state" id="state">
    <option value="">any</option>{{#states}}<option value="{{name}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/states}}</select></label>
    <label>Queue <input name="queue" value="{{queue}}"></label><label>Job name <input name="name" value="{{name}}"></label><button>Filter</button></form>
    <table id="jobs"><thead><tr><th>Id</th><th>Job</th><th>Queue</th><th>State</th><th>Attempt</th><th>Progress</th><th>Changed</th></tr></thead><tbody>
    {{#jobs}}<tr><td><a class="job" href="{{base}}/jobs/show?id={{idParam}}">{{id}}</a></td><td>{{name}}</td><td>{{queue}}</td>
    <td><span class="badge {{state}}">{{state}}</span></td><td>{{attempt}}</td><td>{{progress}}</td><td>{{updated}}</td></tr>{{/jobs}}</tbody></table>
    {{^jobs}}<p id="empty">No job matches.</p>{{/jobs}}
    <p class="pager">{{#first}}<a id="first" href="{{base}}/jobs?{{first}}">← newest</a>{{/first}} {{#next}}<a id="next" href="{{base}}/jobs?{{next}}">older →</a>{{/next}}</p>
    {{/noStore}}{{> footer}}
    """

    static let job = """
    {{> header}}{{> noStore}}{{#job}}<dl class="facts" id="job"><dt>Id</dt><dd id="job-id">{{id}}</dd>
    <dt>State</dt><dd><span class="badge {{state}}" id="job-state">{{state}}</span></dd><dt>Job</dt><dd>{{name}}</dd>
    <dt>Queue</dt><dd>{{queue}}</dd><dt>Attempt</dt><dd id="job-attempt">{{attempt}}</dd><dt>Worker</dt><dd>{{worker}}</dd>
    <dt>Progress</dt><dd id="job-progress">{{#hasProgress}}<progress max="100" value="{{percent}}"></progress> {{percent}} %{{/hasProgress}}{{^hasProgress}}-{{/hasProgress}}
    {{#progressMessage}} · <span id="job-progress-message">{{progressMessage}}</span>{{/progressMessage}}</dd>
    {{#workflow}}<dt>Workflow</dt><dd><a id="job-workflow" href="{{base}}/workflows?id={{workflowParam}}">{{workflow}}</a></dd>{{/workflow}}
    <dt>Unique key</dt><dd>{{uniqueKey}}</dd><dt>Enqueued</dt><dd>{{enqueuedAt}}</dd><dt>Due</dt><dd>{{runAt}}</dd>
    <dt>Started</dt><dd>{{startedAt}}</dd><dt>Finished</dt><dd>{{finishedAt}}</dd><dt>Changed</dt><dd>{{updatedAt}}</dd></dl>
    <h2>Result</h2>{{#result}}<pre id="job-result">{{result}}</pre>{{/result}}{{^result}}<p>None recorded.</p>{{/result}}
    {{#lastError}}<h2>Last error</h2><pre id="job-error">{{lastError}}</pre>{{/lastError}}
    {{#deadReason}}<h2>Dead-letter reason</h2><p id="job-dead-reason">{{deadReason}}</p>{{/deadReason}}{{/job}}{{> footer}}
    """

    static let workflow = """
    {{> header}}{{> noStore}}{{^noStore}}<form method="get" action="{{base}}/workflows" class="box" id="workflow-lookup">
    <label>Workflow id <input name="id" value="{{id}}" id="workflow-id"></label><button>Show</button></form>
    <p>Steps appear once they are reached (the rest of a workflow travels in its messages); each links to its job.</p>{{/noStore}}
    {{#diagram}}<h2>{{kind}} {{id}}</h2><svg class="workflow" id="diagram" viewBox="0 0 {{width}} {{height}}" width="{{width}}" height="{{height}}" role="img" aria-label="workflow steps coloured by state">
    <defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z"/></marker></defs>
    {{#lines}}<line x1="{{x1}}" y1="{{y1}}" x2="{{x2}}" y2="{{y2}}" class="{{#dashed}}dashed{{/dashed}}" marker-end="url(#arrow)"/>{{/lines}}
    {{#boxes}}<a href="{{href}}"><g class="step {{state}}{{#dashed}} compensation{{/dashed}}" data-job="{{fullID}}" data-state="{{state}}"><title>{{fullID}}: {{state}}</title>
    <rect x="{{x}}" y="{{y}}" width="{{w}}" height="{{h}}" rx="6"/><text x="{{tx}}" y="{{ty1}}" class="label">{{label}}</text>
    <text x="{{tx}}" y="{{ty2}}" class="id">{{detail}}</text></g></a>{{/boxes}}</svg>
    <p class="legend">{{#legend}}<span class="badge {{.}}">{{.}}</span> {{/legend}}</p>{{/diagram}}
    {{#steps}}<table id="workflow-jobs"><thead><tr><th>Job id</th><th>Job</th><th>State</th><th>Attempt</th><th>Last error</th></tr></thead><tbody>
    {{#jobs}}<tr><td><a href="{{base}}/jobs/show?id={{idParam}}">{{id}}</a></td><td>{{name}}</td><td><span class="badge {{state}}">{{state}}</span></td>
    <td>{{attempt}}</td><td class="err">{{lastError}}</td></tr>{{/jobs}}</tbody></table>{{/steps}}{{> footer}}
    """

    static let limits = """
    {{> header}}{{^limits}}<p class="notice" id="no-limits">No limit to show: start the dashboard with <code>--global-limit JOB=N</code>
    and <code>--rate-limit JOB=N/s</code> as given to the workers.</p>{{/limits}}
    {{#hasLimits}}<table id="limits"><thead><tr><th>Job</th><th>Kind</th><th>Limit</th><th>Holders</th><th>Free tokens</th><th>Waiting</th><th>Queue</th></tr></thead>
    <tbody>{{#limits}}<tr><td>{{job}}</td><td>{{kind}}</td><td>{{limit}}</td><td>{{holders}}</td><td>{{available}}</td><td>{{waiters}}</td><td>{{queue}}</td></tr>{{/limits}}</tbody></table>
    <p>Counts are read from each limit's token queue (n/a: no worker has made it yet); per-key limits are not listed.</p>{{/hasLimits}}{{> footer}}
    """
}
