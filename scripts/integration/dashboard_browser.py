"""Browser and security checks of `warren dashboard` (run by dashboard-browser.sh).

Arguments: BASE_URL READ_ONLY_BASE_URL QUEUE SCREENSHOT_DIR; env WARREN_DASHBOARD_TOKEN, WORKER_CMD.
Every wait has a deadline; prints one line per check and 'N passed, 0 failed' at the end.
"""
import http.cookiejar
import json
import os
import re
import shlex
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

BASE, RO_BASE, QUEUE, SHOTS = sys.argv[1:5]
TOKEN = os.environ["WARREN_DASHBOARD_TOKEN"]
XSS = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'
passed = 0


def check(cond, what):
    global passed
    if not cond:
        print("FAIL:", what)
        print(f"{passed} passed, 1 failed")
        sys.exit(1)
    passed += 1
    print("ok:", what)


def wait(cond, what, timeout=30.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if cond():
                return check(True, what)
        except Exception:  # a page between loads
            pass
        time.sleep(0.2)
    check(False, what + f" (within {timeout} s)")


def call(method, url, data=None, headers=None, opener=None):
    req = urllib.request.Request(url, data=urllib.parse.urlencode(data).encode() if data is not None else None,
                                 method=method, headers=headers or {})
    try:
        with (opener or urllib.request.build_opener()).open(req, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def login_opener(base):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    code, _ = call("POST", base + "/login", {"token": TOKEN}, opener=opener)
    check(code == 303 and any(c.name == "warren_session" for c in jar), f"login at {base} gives a session cookie")
    return opener


# ---- security, over plain HTTP ------------------------------------------------------------------------
check(call("GET", BASE + "/api/queues")[0] == 401, "no token -> 401")
check(call("GET", BASE + "/api/queues", headers={"Authorization": "Bearer " + TOKEN})[0] == 200, "right bearer token -> 200")
check(call("GET", BASE + "/")[0] in (200, 303), "a page without login redirects to the login form")
opener = login_opener(BASE)
code, _ = call("POST", BASE + "/dead-letters/act", {"queue": QUEUE, "action": "purge", "confirmed": "yes"}, opener=opener)
check(code == 403, "POST without CSRF token -> 403")
code, _ = call("POST", BASE + "/api/dead-letters/purge", {"queue": QUEUE, "csrf": "forged"}, opener=opener)
check(code == 403, "POST with a wrong CSRF token -> 403")
code, _ = call("POST", BASE + "/api/dead-letters/purge", {"queue": QUEUE},
               headers={"Authorization": "Bearer " + TOKEN})
check(code == 403, "POST with only a bearer token (no session, no CSRF) -> 403")
ro = login_opener(RO_BASE)
# The read-only instance runs without a job store: its store pages say how to configure one.
code, page = call("GET", RO_BASE + "/jobs", opener=ro)
check(code == 200 and 'id="no-store"' in page and "WARREN_STORE" in page, "without a store the jobs page names WARREN_STORE")
code, body = call("GET", RO_BASE + "/api/jobs", opener=ro)
check(code == 404 and "WARREN_STORE" in body, "without a store /api/jobs -> 404 naming WARREN_STORE")
for path in ["/dead-letters/confirm", "/dead-letters/act", "/api/dead-letters/requeue", "/api/dead-letters/purge"]:
    code, body = call("POST", RO_BASE + path, {"queue": QUEUE, "action": "purge", "confirmed": "yes"}, opener=ro)
    check(code == 403 and "read-only" in body, f"--read-only refuses POST {path}")
code, page = call("GET", RO_BASE + "/dead-letters?queue=" + QUEUE, opener=ro)
check(code == 200 and "purge-all" not in page and "requeue-all" not in page, "--read-only pages show no action buttons")
# Failed logins, against the read-only instance (its limiter is its own; the main one stays usable).
codes = [call("GET", RO_BASE + "/api/queues", headers={"Authorization": "Bearer wrong-token-123"})[0] for _ in range(6)]
check(codes[:5] == [401] * 5, "wrong token -> 401")
check(codes[5] == 429, "sixth wrong token within a minute -> 429 (rate-limited)")
check(call("GET", RO_BASE + "/api/queues", headers={"Authorization": "Bearer " + TOKEN})[0] == 429,
      "even the right token is refused while the client is limited")
check(call("POST", RO_BASE + "/login", {"token": TOKEN})[0] == 429, "the login form is limited too")
code, page = call("GET", BASE + "/", opener=opener)
check("<script>" not in page and "onerror" not in page, "overview has no inline script")
code, body = call("GET", BASE + "/api/jobs?state=bogus", opener=opener)
check(code == 400 and "unknown state" in body, "a malformed state filter -> 400")

def store_pages(driver, shot, no_alert):
    """Jobs, one job, workflows and limits, with the SQLite store the shell script filled."""
    def job_api(job_id):
        code, body = call("GET", BASE + "/api/jobs/" + urllib.parse.quote(job_id), opener=opener)
        return json.loads(body) if code == 200 else {}
    wait(lambda: job_api("job-xss").get("state") == "succeeded", "the tracked job with a payload result succeeded", timeout=60)
    wait(lambda: job_api("job-fail").get("state") == "dead", "the failing tracked job is dead", timeout=60)
    wait(lambda: 0 < (job_api("job-progress").get("progress") or 0) < 1, "the slow job reports progress", timeout=60)

    driver.get(BASE + "/jobs")
    wait(lambda: driver.find_element(By.ID, "jobs"), "jobs page lists the store's jobs")
    rows = lambda: [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#jobs a.job")]
    first = rows()
    check(len(first) == 50 and driver.find_elements(By.ID, "next"), "first page holds 50 jobs and links the next")
    shot("jobs")
    driver.find_element(By.ID, "next").click()
    wait(lambda: driver.find_elements(By.ID, "first"), "second page opened")
    second = rows()
    check(second and not set(first) & set(second), f"second page ({len(second)} jobs) repeats none of the first")
    driver.get(BASE + "/jobs?state=dead")
    wait(lambda: driver.find_element(By.ID, "jobs"), "jobs filtered by state")
    check("job-fail" in rows() and all(e.text == "dead" for e in driver.find_elements(By.CSS_SELECTOR, "#jobs .badge")),
          "state=dead lists the dead job and only dead jobs")

    driver.get(BASE + "/jobs/show?id=job-xss")
    wait(lambda: driver.find_element(By.ID, "job-state").text == "succeeded", "job page shows the state")
    result = driver.find_element(By.ID, "job-result").text
    check("<script>alert(1)</script>" in result and '\\"><img src=x onerror=alert(1)>' in result and re.search(r'\n\s+"n"\s*:\s*\[', result),
          "the result renders pretty-printed, the payload as text")
    check(not driver.find_elements(By.CSS_SELECTOR, "main img, main script"), "no element injected by the result")
    no_alert("job page")
    shot("job")
    driver.get(BASE + "/jobs/show?id=job-fail")
    wait(lambda: driver.find_element(By.ID, "job-state").text == "dead", "dead job page")
    check(XSS in driver.find_element(By.ID, "job-error").text, "its last error (a payload) renders as text")
    check(driver.find_element(By.ID, "job-dead-reason").text != "", "its dead-letter reason is shown")
    no_alert("dead job page")
    driver.get(BASE + "/jobs/show?id=job-progress")
    wait(lambda: driver.find_element(By.CSS_SELECTOR, "#job-progress progress"), "running job shows a progress bar")
    bar = driver.find_element(By.CSS_SELECTOR, "#job-progress progress")
    check(0 < float(bar.get_attribute("value")) < 100, f"progress bar part-filled ({bar.get_attribute('value')} %)")
    check("of 600" in driver.find_element(By.ID, "job-progress-message").text, "progress message shown")
    shot("job-progress")
    code, _ = call("GET", BASE + "/jobs/show?id=never-seen", opener=opener)
    check(code == 404, "an unknown job id -> 404 page")

    def states(wf):
        return {g.get_attribute("data-job"): g.get_attribute("data-state") for g in driver.find_elements(By.CSS_SELECTOR, "#diagram g.step")}
    want = {"wf-saga.1": "succeeded", "wf-saga.2": "succeeded", "wf-saga.3": "dead", "wf-saga.undo-2": "succeeded",
            "wf-saga.undo-1": "succeeded", "wf-saga.on-failure": "succeeded"}
    def saga_done():
        driver.get(BASE + "/workflows?id=wf-saga")
        return states("wf-saga") == want
    wait(saga_done, "saga diagram: steps, compensations and on-failure job coloured by state", timeout=60)
    fills = driver.execute_script(
        "return Array.from(document.querySelectorAll('#diagram g.step rect')).map(r => getComputedStyle(r).fill)")
    check(len(set(fills)) >= 2, f"succeeded and dead steps are drawn in different colours ({set(fills)})")
    check(XSS in driver.find_element(By.ID, "workflow-jobs").text, "the dead step's error (a payload) renders as text")
    no_alert("workflow page")
    shot("workflow-saga")
    def fan_running():
        driver.get(BASE + "/workflows?id=wf-fan")
        s = states("wf-fan")
        return s.get("wf-fan.1") == "succeeded" and s.get("wf-fan.2.2") == "running"
    wait(fan_running, "chain with a group: first step succeeded, slow group member running", timeout=60)
    shot("workflow-group")
    code, body = call("GET", BASE + "/api/workflows/wf-saga", opener=opener)
    check(code == 200 and {n["jobID"]: n["state"] for n in json.loads(body)["nodes"]}["wf-saga.3"] == "dead", "/api/workflows/ID gives the graph")

    def limit_row():
        driver.get(BASE + "/limits")
        cells = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#limits tbody td")]
        return cells if cells[:1] == ["span"] and cells[3:4] == ["3"] and cells[5:6] == ["2"] else None
    wait(limit_row, "limits page: span=3 with 3 holders and 2 waiting", timeout=60)
    shot("limits")

    # The JSON API pages the same way; a malformed cursor is refused.
    code, body = call("GET", BASE + "/api/jobs?limit=10", opener=opener)
    page1 = json.loads(body)
    code2, body2 = call("GET", BASE + "/api/jobs?limit=10&after=" + urllib.parse.quote(page1["next"]), opener=opener)
    ids1, ids2 = {j["id"] for j in page1["jobs"]}, {j["id"] for j in json.loads(body2)["jobs"]}
    check(code == code2 == 200 and len(ids1) == len(ids2) == 10 and not ids1 & ids2, "/api/jobs pages by its next cursor")
    check(call("GET", BASE + "/api/jobs?after=garbage", opener=opener)[0] == 400, "a malformed page cursor -> 400")

    # Fault drill: the tracked worker is SIGKILLed while it holds the 3 tokens and runs the slow job. The
    # broker returns the tokens (limits page: 0 holders, 3 free, nobody waiting), and the store keeps what it
    # last recorded of the job (running, its progress) for the pages to show.
    os.kill(int(os.environ["STORE_WORKER_PID"]), 9)
    def limit_freed():
        driver.get(BASE + "/limits")
        cells = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#limits tbody td")]
        return cells[3:6] == ["0", "3", "0"]
    wait(limit_freed, "after SIGKILL of the worker the limits page shows its tokens returned (0 holders, 3 free)", timeout=30)
    status = job_api("job-progress")
    check(status.get("state") == "running" and 0 < (status.get("progress") or 0) < 1,
          "the killed worker's job is still shown as last recorded (running, part done) until the sweeper marks it lost")


def batch_pages(driver, shot, no_alert):
    """A batch of 60 children (one dies with a payload error) drained by a tracked worker while its page is open."""
    batch = os.environ["BATCH_ID"]
    def counts():
        driver.get(BASE + "/batches/" + urllib.parse.quote(batch))
        return {k: int(driver.find_element(By.ID, "batch-" + k).text) for k in ["pending", "succeeded", "dead", "finished", "total"]}
    def finished():  # polled through the API: a few page loads only (each opens a live-update stream)
        code, body = call("GET", BASE + "/api/batches/" + urllib.parse.quote(batch) + "?limit=1", opener=opener)
        return json.loads(body)["batch"]["succeeded"] + json.loads(body)["batch"]["dead"] if code == 200 else -1
    first = counts()
    check(first["total"] == 60 and first["pending"] == 60 and first["finished"] == 0, f"batch page before the drain: {first}")
    driver.get(BASE + "/batches")
    wait(lambda: batch in driver.find_element(By.ID, "batches").text, "batches page lists the batch")
    batch_worker = subprocess.Popen(shlex.split(os.environ["BATCH_WORKER_CMD"]), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait(lambda: finished() > 0, "the worker started draining the batch", timeout=60)
        mid = counts()
        check(0 < mid["finished"] < 60 and mid["pending"] + mid["succeeded"] + mid["dead"] == 60,
              f"the batch page, reloaded mid-drain, shows the counts changed and adding up: {mid}")
        shot("batch-draining")
        wait(lambda: finished() == 60, "every child finished", timeout=90)
    finally:
        batch_worker.terminate()
        batch_worker.wait(timeout=30)
    done = counts()
    check(done["succeeded"] == 59 and done["dead"] == 1, f"59 succeeded, 1 dead: {done}")
    check(driver.find_element(By.ID, "batch-state").text == "complete", "batch state complete")
    bar = driver.find_element(By.ID, "batch-progress")
    check(bar.get_attribute("value") == "60" and bar.get_attribute("max") == "60", "progress bar full (60/60)")
    cb = {e.get_attribute("data-callback"): e.text for e in driver.find_elements(By.CSS_SELECTOR, "#batch-callbacks [data-callback]")}
    check(cb == {"death": "enqueued", "complete": "enqueued", "success": "never"}, f"callbacks: death and complete enqueued, success never ({cb})")
    rows = driver.find_elements(By.CSS_SELECTOR, "#batch-children tbody tr")
    check(len(rows) == 50 and driver.find_elements(By.ID, "next"), "children: first page of 50, a link to the next")
    check(XSS in driver.find_element(By.ID, "batch-children").text, "the dead child's error (a payload) renders as text")
    check(not driver.find_elements(By.CSS_SELECTOR, "main img, main script"), "no element injected by the child's error")
    no_alert("batch page")
    shot("batch")
    driver.find_element(By.ID, "next").click()
    wait(lambda: driver.find_elements(By.ID, "first") and len(driver.find_elements(By.CSS_SELECTOR, "#batch-children tbody tr")) == 10,
         "second page of children: the other 10")
    code, body = call("GET", BASE + "/api/batches/" + urllib.parse.quote(batch) + "?limit=7", opener=opener)
    answer = json.loads(body)
    check(code == 200 and answer["batch"]["state"] == "complete" and answer["batch"]["total"] == 60 and len(answer["children"]) == 7
          and answer["next"], "/api/batches/ID gives the batch and a page of children")
    code, body = call("GET", BASE + "/api/batches?limit=5", opener=opener)
    check(code == 200 and any(b["id"] == batch for b in json.loads(body)["batches"]), "/api/batches lists it")
    check(call("GET", BASE + "/batches/no-such-batch", opener=opener)[0] == 404, "an unknown batch id -> 404 page")


# ---- the browser ----------------------------------------------------------------------------------------
options = webdriver.ChromeOptions()
for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,900", "--disable-dev-shm-usage"]:
    options.add_argument(a)
options.binary_location = "/usr/bin/chromium"
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
driver.set_page_load_timeout(30)
worker = None
try:
    def shot(name):
        driver.save_screenshot(os.path.join(SHOTS, name + ".png"))

    def no_alert(what):
        try:
            text = driver.switch_to.alert.text
            check(False, f"{what}: an alert fired ({text!r})")
        except NoAlertPresentException:
            check(True, f"{what}: no alert fired")

    driver.get(BASE + "/")
    wait(lambda: driver.find_element(By.ID, "login"), "unauthenticated browser is sent to the login page")
    driver.find_element(By.ID, "token").send_keys(TOKEN)
    driver.find_element(By.ID, "login-button").click()
    wait(lambda: driver.find_element(By.ID, "chart"), "logged in: overview with its chart")
    wait(lambda: "live" in driver.find_element(By.CSS_SELECTOR, '[data-field="connection"]').text, "live updates connected")
    shot("overview-before")

    driver.get(BASE + "/queues")
    cell = lambda: driver.find_element(By.CSS_SELECTOR, f'#queues tr[data-queue="{QUEUE}"] [data-col="ready"]').text
    wait(lambda: int(cell()) >= 100, "queues page shows the filled work queue")
    before = int(cell())
    shot("queues-before")
    worker = subprocess.Popen(shlex.split(os.environ["WORKER_CMD"]), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    loads = driver.execute_script("return performance.getEntriesByType('navigation').length")
    wait(lambda: 0 < int(cell()) < before, "ready count falls live while the worker drains (no reload)")
    wait(lambda: int(cell()) == 0, "queue drained to 0 on the page", timeout=60)
    check(driver.execute_script("return performance.getEntriesByType('navigation').length") == loads, "page was not reloaded")
    shot("queues")

    driver.get(BASE + "/workers")
    wait(lambda: QUEUE in driver.find_element(By.ID, "workers").text, "workers page lists the running worker")
    shot("workers")
    driver.get(BASE + "/")
    def queue_rate():  # the row of QUEUE (the job-store worker's queue has a row too)
        rows = [[td.text for td in tr.find_elements(By.TAG_NAME, "td")] for tr in driver.find_elements(By.CSS_SELECTOR, "#rates tbody tr")]
        return next((float(r[1]) for r in rows if r and r[0] == QUEUE), 0.0)
    wait(lambda: queue_rate() > 0, "overview shows a processing rate for the queue", timeout=40)
    shot("overview")
    driver.get(BASE + "/schedules")
    wait(lambda: "tick" in driver.find_element(By.ID, "schedules").text, "schedules page shows the scheduler's schedule")
    wait(lambda: "none" not in driver.find_element(By.CSS_SELECTOR, "#schedules td:nth-child(6)").text, "a leader replica is shown",
         timeout=40)
    shot("schedules")

    store_pages(driver, shot, no_alert)

    driver.get(BASE + "/dead-letters?queue=" + urllib.parse.quote(QUEUE))
    wait(lambda: len(driver.find_elements(By.CSS_SELECTOR, "#letters tbody tr")) == 10, "dead letters listed (10)")
    errors = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#letters td.err")]
    check(any(XSS in e for e in errors), "the payload error shows as text in the list")
    check(not driver.find_elements(By.CSS_SELECTOR, "#letters img, #letters script"), "no element injected in the list")
    no_alert("dead-letter list")
    shot("dead-letters")
    driver.find_element(By.LINK_TEXT, "dead-00").click()
    wait(lambda: driver.find_element(By.ID, "letter-id").text == "dead-00", "dead letter opened")
    check(XSS in driver.find_element(By.ID, "letter-error").text, "error message with payload renders as text")
    body = driver.find_element(By.ID, "letter-body").text  # pretty-printed JSON: the quote is escaped as \"
    check("<script>alert(1)</script>" in body and '\\"><img src=x onerror=alert(1)>' in body, "arguments with payload render as text")
    check(not driver.find_elements(By.CSS_SELECTOR, "main img, main script"), "no <img>/<script> element in the page body")
    no_alert("dead-letter page")
    shot("dead-letter")

    def jobs_done():
        return sum(w["jobsDone"] for w in json.loads(call("GET", BASE + "/api/workers", opener=opener)[1]) if QUEUE in w["queues"])
    done_before = jobs_done()
    driver.find_element(By.ID, "requeue-one").click()
    wait(lambda: "1 message(s)" in driver.find_element(By.ID, "confirm-button").text, "requeue asks for confirmation of 1 message")
    shot("confirm-requeue")
    driver.find_element(By.ID, "confirm-button").click()
    wait(lambda: "1 message(s) requeued" in driver.find_element(By.ID, "notice").text, "requeue done")
    wait(lambda: jobs_done() > done_before, "the requeued job ran on the worker", timeout=30)
    no_alert("after requeue")

    driver.get(BASE + "/dead-letters?queue=" + urllib.parse.quote(QUEUE) + "&job=report")
    wait(lambda: len(driver.find_elements(By.CSS_SELECTOR, "#letters tbody tr")) == 4, "filter job=report selects 4")
    driver.find_element(By.ID, "purge-all").click()
    wait(lambda: "4 message(s)" in driver.find_element(By.ID, "confirm-button").text, "purge asks for confirmation of 4 messages")
    check("cannot be undone" in driver.find_element(By.ID, "confirm-text").text, "purge confirmation warns")
    shot("confirm-purge")
    driver.find_element(By.ID, "confirm-button").click()
    wait(lambda: "4 message(s) purged" in driver.find_element(By.ID, "notice").text, "purge done")
    driver.get(BASE + "/dead-letters?queue=" + urllib.parse.quote(QUEUE))
    wait(lambda: len(driver.find_elements(By.CSS_SELECTOR, "#letters tbody tr")) == 5, "5 dead letters left (10 - 1 - 4)")
    remaining = {e.text for e in driver.find_elements(By.CSS_SELECTOR, "#letters a.letter")}
    check("dead-00" not in remaining and not any(r in remaining for r in ["dead-06", "dead-07", "dead-08", "dead-09"]),
          "the requeued and purged letters are gone, the others kept")
    # Bad input: a filter that is not a valid regular expression is reported, nothing else happens.
    code, page = call("GET", BASE + "/dead-letters?queue=" + urllib.parse.quote(QUEUE) + "&error=%28", opener=opener)
    check(code == 200 and "not a valid regular expression" in page, "a malformed filter is reported on the page")
    code, _ = call("GET", BASE + "/api/dead-letters?queue=" + urllib.parse.quote(QUEUE) + "&min_attempts=many", opener=opener)
    check(code == 400, "a malformed API filter -> 400")
    # Fault drill: the worker is killed with SIGKILL; it must leave the workers list within 3 intervals (15 s).
    worker.kill()
    worker.wait(timeout=10)
    killed = time.time()
    wait(lambda: not any(QUEUE in w["queues"] for w in json.loads(call("GET", BASE + "/api/workers", opener=opener)[1])),
         "a SIGKILLed worker disappears from /api/workers", timeout=25)
    print(f"   (gone {time.time() - killed:.1f} s after the kill; stated bound 15 s + one refresh)")
    batch_pages(driver, shot, no_alert)
    driver.get(BASE + "/schedules")
    wait(lambda: driver.find_element(By.ID, "schedules"), "the browser loads another page after the batch pages")
finally:
    driver.quit()
    if worker and worker.poll() is None:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()

print(f"{passed} passed, 0 failed")
