extension Templates {
    static let batches = """
    {{> header}}{{> noStore}}{{^noStore}}<form method="get" action="{{base}}/batches/show" class="box" id="batch-lookup">
    <label>Batch id <input name="id" id="batch-id"></label><button>Show</button></form>
    <table id="batches"><thead><tr><th>Batch</th><th>State</th><th>Progress</th><th>Pending</th><th>Succeeded</th><th>Dead</th>
    <th>Callbacks</th><th>Created</th></tr></thead><tbody>
    {{#batches}}<tr><td><a class="batch" href="{{base}}/batches/{{idParam}}">{{id}}</a></td><td><span class="badge {{state}}">{{state}}</span></td>
    <td><progress max="{{total}}" value="{{finished}}"></progress> {{finished}}/{{total}}</td><td>{{pending}}</td><td>{{succeeded}}</td>
    <td>{{dead}}</td><td>{{#callbacks}}<span class="badge {{state}}" title="{{jobID}}: {{state}}">{{kind}}</span> {{/callbacks}}</td>
    <td>{{created}}</td></tr>{{/batches}}</tbody></table>
    {{^batches}}<p id="empty">No batch in the store.</p>{{/batches}}
    <p class="pager">{{#first}}<a id="first" href="{{base}}/batches">← newest</a>{{/first}} {{#next}}<a id="next" href="{{base}}/batches?{{next}}">older →</a>{{/next}}</p>
    {{/noStore}}{{> footer}}
    """

    static let batch = """
    {{> header}}{{> noStore}}{{#batch}}<section class="cards" id="batch-counts">
    <div class="card"><span>State</span><b><span class="badge {{state}}" id="batch-state">{{state}}</span></b><small class="quiet">{{sealedText}}</small></div>
    <div class="card"><span>Finished</span><b id="batch-finished">{{finished}}</b> of <b id="batch-total">{{total}}</b></div>
    <div class="card"><span>Pending</span><b id="batch-pending">{{pending}}</b></div>
    <div class="card"><span>Succeeded</span><b id="batch-succeeded">{{succeeded}}</b></div>
    <div class="card"><span>Dead</span><b id="batch-dead">{{dead}}</b></div></section>
    <p class="progress"><progress id="batch-progress" max="{{total}}" value="{{finished}}"></progress> {{percent}} %</p>
    <dl class="facts"><dt>Batch</dt><dd id="batch-name">{{id}}</dd><dt>Created</dt><dd>{{created}}</dd><dt>Finished</dt><dd>{{finishedAt}}</dd>
    {{#parentBatch}}<dt>Parent batch</dt><dd><a id="batch-parent" href="{{base}}/batches/{{parentParam}}">{{parentBatch}}</a> as child {{parentChild}} ({{parentTold}})</dd>{{/parentBatch}}</dl>
    <h2>Callbacks</h2><table id="batch-callbacks"><thead><tr><th>Callback</th><th>Job</th><th>Job id</th><th>State</th><th>Its job</th></tr></thead><tbody>
    {{#callbacks}}<tr><td>{{kind}}</td><td>{{job}}</td><td><a href="{{base}}/jobs/show?id={{jobParam}}">{{jobID}}</a></td>
    <td><span class="badge {{state}}" data-callback="{{kind}}">{{state}}</span></td><td>{{jobState}}</td></tr>{{/callbacks}}</tbody></table>
    <h2>Children</h2><table id="batch-children"><thead><tr><th>Child</th><th>Job</th><th>Outcome</th><th>Job state</th><th>Attempt</th>
    <th>Finished</th><th>Last error</th></tr></thead><tbody>
    {{#children}}<tr><td><a href="{{base}}/jobs/show?id={{idParam}}">{{id}}</a></td><td>{{name}}</td><td><span class="badge {{outcome}}">{{outcome}}</span></td>
    <td>{{jobState}}</td><td>{{attempt}}</td><td>{{finished}}</td><td class="err" title="{{lastError}}">{{lastError}}</td></tr>{{/children}}</tbody></table>
    <p class="pager">{{#firstChildren}}<a id="first" href="{{base}}/batches/{{idParam}}">← first children</a>{{/firstChildren}}
    {{#nextChildren}}<a id="next" href="{{base}}/batches/{{idParam}}?{{nextChildren}}">more children →</a>{{/nextChildren}}</p>{{/batch}}{{> footer}}
    """
}
