extension Templates {
    static let filterFields = """
    <input type="hidden" name="queue" value="{{queue}}">{{#filter}}<input type="hidden" name="job" value="{{job}}">
    <input type="hidden" name="error_type" value="{{error_type}}"><input type="hidden" name="reason" value="{{reason}}">
    <input type="hidden" name="error" value="{{error}}"><input type="hidden" name="failed_before" value="{{failed_before}}">
    <input type="hidden" name="failed_after" value="{{failed_after}}"><input type="hidden" name="min_attempts" value="{{min_attempts}}">
    <input type="hidden" name="max_attempts" value="{{max_attempts}}">{{/filter}}
    """

    static let deadLetters = """
    {{> header}}<nav class="tabs">{{#queues}}<a href="{{base}}/dead-letters?queue={{name}}" class="{{#current}}current{{/current}}">{{name}} ({{count}})</a>{{/queues}}</nav>
    {{#queue}}<form method="get" action="{{base}}/dead-letters" class="filters" id="filters"><input type="hidden" name="queue" value="{{queue}}">
    {{#filter}}<label>Job <input name="job" value="{{job}}"></label><label>Error type <input name="error_type" value="{{error_type}}"></label>
    <label>Reason <input name="reason" value="{{reason}}"></label><label>Error matches <input name="error" value="{{error}}"></label>
    <label>Failed before <input name="failed_before" value="{{failed_before}}" placeholder="2h or 2024-05-01"></label>
    <label>Failed after <input name="failed_after" value="{{failed_after}}"></label>
    <label>Attempts ≥ <input name="min_attempts" value="{{min_attempts}}" size="3"></label><label>≤ <input name="max_attempts" value="{{max_attempts}}" size="3"></label>{{/filter}}
    <button>Filter</button></form>
    <table id="letters"><thead><tr><th>Id</th><th>Job</th><th>Error</th><th>Reason</th><th>Attempts</th><th>Failed at</th></tr></thead><tbody>
    {{#letters}}<tr><td><a class="letter" href="{{base}}/dead-letters/show?queue={{queue}}&amp;id={{idParam}}">{{id}}</a></td><td>{{job}}</td>
    <td class="err">{{error}}</td><td>{{reason}}</td><td>{{attempts}}</td><td>{{failedAt}}</td></tr>{{/letters}}</tbody></table>
    {{^letters}}<p id="empty">No dead letter matches.</p>{{/letters}}
    <p class="pager">Showing {{from}}–{{to}}{{#total}} of {{total}} in the queue{{/total}}.
    {{#prev}}<a id="prev" href="{{base}}/dead-letters?{{prev}}">← previous</a>{{/prev}} {{#next}}<a id="next" href="{{base}}/dead-letters?{{next}}">next →</a>{{/next}}</p>
    {{^readOnly}}<form method="post" action="{{base}}/dead-letters/confirm" class="actions" id="bulk">{{> filterFields}}
    <input type="hidden" name="csrf" value="{{csrf}}"><label>Delay <input name="delay" placeholder="e.g. 30s"></label>
    <button name="action" value="requeue" id="requeue-all">Requeue all matching…</button>
    <button name="action" value="purge" id="purge-all" class="danger">Purge all matching…</button></form>{{/readOnly}}{{/queue}}
    {{> footer}}
    """

    static let deadLetter = """
    {{> header}}{{#letter}}<p><a href="{{base}}/dead-letters?queue={{queue}}">← {{queue}}</a></p>
    <dl class="facts"><dt>Id</dt><dd id="letter-id">{{id}}</dd><dt>Job</dt><dd>{{job}}</dd><dt>Work queue</dt><dd>{{workQueue}}</dd>
    <dt>Reason</dt><dd>{{reason}}</dd><dt>Attempts</dt><dd>{{attempts}}</dd><dt>Failed at</dt><dd>{{failedAt}}</dd>
    <dt>Error</dt><dd id="letter-error">{{error}}</dd></dl>
    <h2>Error history</h2><table><thead><tr><th>Attempt</th><th>At</th><th>Host</th><th>Error</th></tr></thead><tbody>
    {{#history}}<tr><td>{{attempt}}</td><td>{{at}}</td><td>{{host}}</td><td>{{error}}</td></tr>{{/history}}</tbody></table>
    <h2>Headers</h2><table id="headers"><tbody>{{#headers}}<tr><th>{{name}}</th><td>{{value}}</td></tr>{{/headers}}</tbody></table>
    <h2>Body</h2><pre id="letter-body">{{body}}</pre>
    {{^readOnly}}<form method="post" action="{{base}}/dead-letters/confirm" class="actions" id="one"><input type="hidden" name="queue" value="{{queue}}">
    <input type="hidden" name="id" value="{{id}}"><input type="hidden" name="csrf" value="{{csrf}}"><label>Delay <input name="delay" placeholder="e.g. 30s"></label>
    <button name="action" value="requeue" id="requeue-one">Requeue…</button><button name="action" value="purge" id="purge-one" class="danger">Purge…</button></form>{{/readOnly}}
    {{/letter}}{{> footer}}
    """

    static let confirm = """
    {{> header}}<form method="post" action="{{base}}/dead-letters/act" class="box" id="confirm">{{> filterFields}}
    <input type="hidden" name="id" value="{{id}}"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="delay" value="{{delay}}">
    <input type="hidden" name="action" value="{{action}}"><input type="hidden" name="confirmed" value="yes">
    <p id="confirm-text">{{summary}}</p><button id="confirm-button" class="{{#purge}}danger{{/purge}}">Yes, {{action}} {{count}} message(s)</button>
    <a href="{{base}}/dead-letters?queue={{queue}}" id="cancel">Cancel</a></form>{{> footer}}
    """
}
