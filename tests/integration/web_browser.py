#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The console in a real browser (headless Chromium through chromedriver and
Selenium), against real wmweb and wmsyncd processes started by
it_web_browser.sh: a station and its town, syncing over loopback.

At the station an operator logs in, records an activity with a Chinese title
through the form, finds it in the ledger and in `wmctl log`, records one with
a photo (a JPEG made by libvips, with a capture date) and a PDF sign-in sheet
and sees the photo in the ledger, submits a date
the daemon refuses and sees the Chinese error beside the date field with
nothing written, and voids a record. At the town an administrator sees the
station's row and a drawn chart of the period, and downloads the xlsx, which
openpyxl reads back. Finally the station's daemon is stopped and the page
must say so. Every page is saved as a PNG in the artifacts directory.

Usage: web_browser.py CONFIG.json   (written by it_web_browser.sh)
Prints "ok: ..." / "FAIL: ..." per check; exit 0 only if every check passed.
"""
import glob
import json
import os
import re
import signal
import subprocess
import sys
import time

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

CJK = re.compile(r"[\u4e00-\u9fff]")
WAIT_S = 15

cfg = json.load(open(sys.argv[1]))
SHOTS = cfg["shots"]
os.makedirs(SHOTS, exist_ok=True)
passed = failed = 0
shot_no = 0


def ok(msg):
    global passed
    passed += 1
    print("ok: " + msg, flush=True)


def fail(msg):
    global failed
    failed += 1
    print("FAIL: " + msg, flush=True)


def check(cond, msg):
    (ok if cond else fail)(msg)
    return cond


def wmctl(conf, *args):
    p = subprocess.run([cfg["wmctl"], "-c", conf] + list(args), capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def log_records(conf):
    rc, out, err = wmctl(conf, "log", "--json")
    if rc != 0:
        fail("wmctl log: " + err.strip())
        return []
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def shot(d, name):
    """Saves the whole page (the window grown to the page's height)."""
    global shot_no
    shot_no += 1
    width = d.get_window_size()["width"]
    height = d.execute_script("return Math.max(document.body.scrollHeight, 600)")
    d.set_window_size(width, min(height + 120, 4000))
    path = os.path.join(SHOTS, "%02d-%s.png" % (shot_no, name))
    d.save_screenshot(path)
    d.set_window_size(width, 900)
    print("   screenshot " + path, flush=True)


def wait(d, cond, what, limit=WAIT_S):
    """Polls cond(d) until it is true; a page redrawn under it (an element gone
    stale or missing for a moment) counts as "not yet"."""
    def safe(d):
        try:
            return cond(d)
        except (WebDriverException, AttributeError):
            return False
    try:
        return WebDriverWait(d, limit, poll_frequency=0.1).until(safe)
    except WebDriverException:
        fail("%s: not within %ss" % (what, limit))
        return None


def by_id(d, i):
    els = d.find_elements(By.ID, i)
    return els[0] if els else None


def text_of(d, i):
    e = by_id(d, i)
    return e.text if e else ""


def login(d, url, user, password, name):
    d.get(url)
    if not wait(d, lambda d: by_id(d, "login-user"), "the login form at " + url):
        return False
    shot(d, name + "-login")
    by_id(d, "login-user").send_keys(user)
    by_id(d, "login-password").send_keys(password)
    by_id(d, "login-submit").click()
    return check(wait(d, lambda d: by_id(d, "tabs") and by_id(d, "banner").text, "the console after login")
                 is not None, "%s: %s logs in and the console shows" % (name, user))


def set_value(d, el, value):
    """What a user's date picker does: the value, then the input and change events."""
    d.execute_script("arguments[0].value = arguments[1];"
                     "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));"
                     "arguments[0].dispatchEvent(new Event('change', {bubbles: true}));", el, value)


def tab(d, name):
    by_id(d, "tab-" + name).click()
    return wait(d, lambda d: d.find_element(By.ID, "main").get_attribute("data-tab") == name, "tab " + name)


def chart_drawn(d, canvas_sel):
    """How many non-white, non-transparent pixels the canvas has (0: empty)."""
    return d.execute_script("""
        var c = document.querySelector(arguments[0]);
        if (!c || !c.width) return 0;
        var p = c.getContext('2d').getImageData(0, 0, c.width, c.height).data, n = 0;
        for (var i = 0; i < p.length; i += 16)
          if (p[i + 3] > 0 && (p[i] < 200 || p[i + 1] < 200 || p[i + 2] < 200)) n++;
        return n;""", canvas_sel)


# ---- the station -------------------------------------------------------

def station_record(d):
    st = cfg["station"]
    before = len(log_records(st["conf"]))
    tab(d, "record")
    form = wait(d, lambda d: by_id(d, "record-form"), "the record form")
    if not form:
        return None
    check(by_id(d, "f-date").get_attribute("value") == time.strftime("%Y-%m-%d"),
          "the date field starts at today")
    Select(by_id(d, "f-category")).select_by_value("volunteer_service")
    check(by_id(d, "f-service_kind").is_displayed() and by_id(d, "f-team").is_displayed(),
          "volunteer service shows the service kind and team fields")
    Select(by_id(d, "f-category")).select_by_value("theme_lecture")
    check(not by_id(d, "f-service_kind").is_displayed() and not by_id(d, "f-hours").is_displayed(),
          "a theme lecture hides the service kind and hours fields")
    title = "新河村主题宣讲：学习贯彻党的二十大精神"
    by_id(d, "f-title").send_keys(title)
    by_id(d, "f-place").send_keys("村委会会议室")
    by_id(d, "f-participants").send_keys("42")
    by_id(d, "f-grassroots").click()
    shot(d, "station-record-form")
    by_id(d, "record-submit").click()
    note = wait(d, lambda d: by_id(d, "form-note").is_displayed() and by_id(d, "form-note"), "the save notice")
    check(note is not None and "ok" in note.get_attribute("class") and "已保存" in note.text,
          "the form says the record was saved: %r" % (note.text if note else None))
    shot(d, "station-record-saved")
    recs = log_records(st["conf"])
    mine = [r for r in recs if r.get("activity", {}).get("title") == title]
    check(len(recs) == before + 1 and len(mine) == 1, "wmctl log shows the activity with its Chinese title")
    if mine:
        a = mine[0]["activity"]
        check(a.get("category") == "theme_lecture" and a.get("participants") == 42 and
              a.get("place") == "村委会会议室" and "基层宣讲" in a.get("tags", []),
              "the record carries the form's fields: %s" % json.dumps(a, ensure_ascii=False))
        who = mine[0].get("account", mine[0].get("operator"))
        if who is not None:
            check(who == st["user"], "the record names the operator's account: %r" % who)
    return mine[0] if mine else None


def station_photos(d):
    """Issue 12 item 1: photos chosen in the form are uploaded, then the record names them."""
    st = cfg["station"]
    tab(d, "record")
    if not wait(d, lambda d: by_id(d, "record-form") and by_id(d, "f-photo"), "the photo field"):
        return None
    title = "带照片的文明实践活动"
    by_id(d, "f-title").send_keys(title)
    by_id(d, "f-participants").send_keys("18")
    by_id(d, "f-photo").send_keys(cfg["photo"])
    by_id(d, "f-attach").send_keys(cfg["sheet"])
    shot(d, "station-record-photo")
    by_id(d, "record-submit").click()
    note = wait(d, lambda d: by_id(d, "form-note").is_displayed() and "已保存" in by_id(d, "form-note").text
                and by_id(d, "form-note"), "the save notice after the upload", limit=30)
    check(note is not None, "the activity with a photo and a sheet is saved: %r" % text_of(d, "form-note"))
    mine = [r for r in log_records(st["conf"]) if r.get("activity", {}).get("title") == title]
    atts = mine[0]["activity"].get("attachments", []) if mine else []
    check(len(atts) == 2 and atts[0]["media_type"] == "image/jpeg" and atts[0].get("taken_at") and
          atts[1]["media_type"] == "application/pdf",
          "wmctl log shows the photo (with its capture time) and the sheet: %s" % json.dumps(atts)[:300])
    if not mine or not atts:
        return None
    tab(d, "ledger")
    sel = "img.thumb[data-hash='%s']" % atts[0]["hash"]
    img = wait(d, lambda d: (d.find_elements(By.CSS_SELECTOR, sel) or [None])[0], "the photo in the ledger")
    loaded = img is not None and wait(d, lambda d: d.execute_script(
        "var i = document.querySelector(arguments[0]); return i && i.complete && i.naturalWidth > 0;", sel),
        "the photo to load")
    check(bool(loaded), "the ledger shows the photo, served by wmweb")
    row = by_id(d, "rec-%d-%d" % (mine[0]["epoch"], mine[0]["seq"]))
    check(row is not None and "签到表" in row.text, "and a link to the sign-in sheet")
    shot(d, "station-ledger-photo")
    return mine[0]


def station_bad_date(d):
    st = cfg["station"]
    before = len(log_records(st["conf"]))
    tab(d, "record")
    wait(d, lambda d: by_id(d, "record-form"), "the record form")
    Select(by_id(d, "f-category")).select_by_value("culture_sports")
    by_id(d, "f-title").send_keys("日期写错的活动")
    set_value(d, by_id(d, "f-date"), "2099-01-01")
    by_id(d, "record-submit").click()
    err = wait(d, lambda d: by_id(d, "err-date").text and by_id(d, "err-date"), "the date field's error")
    msg = err.text if err else ""
    check(bool(CJK.search(msg)), "a refused date shows a Chinese message beside the date field: %r" % msg)
    field = d.find_element(By.CSS_SELECTOR, ".field[data-key=date]")
    check("invalid" in field.get_attribute("class"), "the date field is marked")
    check(by_id(d, "err-title").text == "", "no other field is blamed")
    shot(d, "station-bad-date")
    check(len(log_records(st["conf"])) == before, "nothing was written for the refused date")


def station_service(d):
    """A volunteer service through the form (service kind, volunteers, hours): the record voided later."""
    tab(d, "record")
    wait(d, lambda d: by_id(d, "record-form"), "the record form")
    # the form still holds the refused entry: put today's date back, a new title
    set_value(d, by_id(d, "f-date"), time.strftime("%Y-%m-%d"))
    by_id(d, "f-title").clear()
    Select(by_id(d, "f-category")).select_by_value("volunteer_service")
    Select(by_id(d, "f-service_kind")).select_by_value("legal")
    by_id(d, "f-title").send_keys("普法宣传进村")
    by_id(d, "f-volunteers").send_keys("6")
    by_id(d, "f-hours").send_keys("2.5")
    by_id(d, "record-submit").click()
    wait(d, lambda d: by_id(d, "form-note").is_displayed(), "the save notice")
    recs = [r for r in log_records(cfg["station"]["conf"])
            if r.get("activity", {}).get("title") == "普法宣传进村"]
    check(len(recs) == 1 and recs[0]["activity"].get("service_kind") == "legal" and
          recs[0]["activity"].get("hours") == 2.5 and recs[0]["activity"].get("volunteers") == 6,
          "a volunteer service with its kind, volunteers and hours is recorded: %r" % text_of(d, "form-note"))
    return recs[0] if recs else None


# Every other kind through its form: (kind, {field id: value}, what wmctl log must show).
# Selects by value, checkboxes by True; the date fields keep today.
OTHER_KINDS = [
    ("team", {"f-team": "putong", "f-name": "普法志愿服务分队", "f-team_kind": "branch", "f-trade": "法律"},
     lambda b: b.get("name") == "普法志愿服务分队" and b.get("kind") == "branch"),
    ("publicity", {"f-channel": "wechat", "f-count": "3"}, lambda b: b.get("channel") == "wechat"),
    ("volunteers", {"f-registered": "12", "f-verified": "9"}, lambda b: b.get("registered") == 12),
    ("recruitment", {"f-count": "2"}, lambda b: b.get("count") == 2),
    ("funding", {"f-yuan": "1500.50", "f-source": "县配套资金"}, lambda b: b.get("yuan") == 1500.5),
    ("site", {"f-plaque": True, "f-rules": True, "f-model": True},
     lambda b: b.get("plaque") and b.get("rules") and b.get("model_station") and not b.get("ledger")),
    ("plan", {"f-title": "五月底前组织外出学习考察", "f-due": time.strftime("%Y-12-31")}, lambda b: b.get("title") == "五月底前组织外出学习考察"),
    ("plan_done", {"f-plan": "first"}, lambda b: b.get("plan_seq", 0) > 0),
]


def station_other_kinds(d):
    """Each kind's form shows its own fields, and what it saves is what wmctl log reads."""
    for kind, fields, want in OTHER_KINDS:
        by_id(d, "kind-" + kind).click()
        if not wait(d, lambda d: by_id(d, "record-form").get_attribute("data-kind") == kind, "the %s form" % kind):
            continue
        if kind == "plan_done":
            wait(d, lambda d: len(Select(by_id(d, "f-plan")).options) > 1, "the open plans")
        for fid, v in fields.items():
            el = by_id(d, fid)
            if v is True:
                el.click()
            elif el.tag_name == "select":
                sel = Select(el)
                if v == "first" and len(sel.options) > 1:
                    sel.select_by_index(1)
                elif v != "first":
                    sel.select_by_value(v)
            elif el.get_attribute("type") == "date":
                set_value(d, el, v)
            else:
                el.clear()
                el.send_keys(v)
        by_id(d, "record-submit").click()
        note = wait(d, lambda d: by_id(d, "form-note").is_displayed() and by_id(d, "form-note"), kind + " saved")
        text = note.text if note else ""
        recs = [r for r in log_records(cfg["station"]["conf"]) if r.get("kind") == kind]
        check("已保存" in text and recs and want(recs[-1][kind]),
              "the %s form records what it shows: %r %s" % (kind, text, json.dumps(recs[-1:], ensure_ascii=False)))
    shot(d, "station-record-plan-done")


def station_ledger(d, rec, victim):
    tab(d, "ledger")
    row_id = "rec-%d-%d" % (rec["epoch"], rec["seq"])
    row = wait(d, lambda d: by_id(d, row_id), "the new record's row in the ledger")
    check(row is not None and "主题宣讲" in row.text, "the ledger lists the activity")
    by_id(d, "ledger-q").send_keys("二十大")
    by_id(d, "ledger-filters").submit()
    wait(d, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#ledger-rows tr")) == 1, "the search to narrow")
    check(by_id(d, row_id) is not None, "searching 二十大 finds it")
    shot(d, "station-ledger")
    by_id(d, "ledger-q").clear()
    set_value(d, by_id(d, "ledger-month"), "2001-01")
    wait(d, lambda d: by_id(d, "ledger-empty").is_displayed(), "the empty month")
    check(by_id(d, "ledger-empty").is_displayed() and not d.find_elements(By.CSS_SELECTOR, "#ledger-rows tr"),
          "a month without records says so")
    set_value(d, by_id(d, "ledger-month"), time.strftime("%Y-%m"))
    Select(by_id(d, "ledger-kind")).select_by_value("activity")
    wait(d, lambda d: by_id(d, row_id) and all(
        "活动" == tr.find_elements(By.TAG_NAME, "td")[2].text
        for tr in d.find_elements(By.CSS_SELECTOR, "#ledger-rows tr")), "this month's activities")
    check(by_id(d, row_id) is not None, "this month's activities list the new one, and only activities")
    Select(by_id(d, "ledger-kind")).select_by_value("")
    if not victim:
        return
    row_id = "rec-%d-%d" % (victim["epoch"], victim["seq"])
    wait(d, lambda d: by_id(d, row_id), "the volunteer service's row")
    by_id(d, row_id).find_element(By.CSS_SELECTOR, "button.void").click()
    dlg = wait(d, lambda d: by_id(d, "void-dialog"), "the void dialog")
    if not dlg:
        return
    by_id(d, "void-reason").send_keys("重复登记")
    shot(d, "station-void-dialog")
    by_id(d, "void-confirm").click()
    wait(d, lambda d: by_id(d, row_id) and "voided" in by_id(d, row_id).get_attribute("class"),
         "the row to show as voided")
    row = by_id(d, row_id)
    check(row is not None and "已作废" in row.text, "the ledger shows the record as voided")
    voids = [r for r in log_records(cfg["station"]["conf"])
             if r.get("void", {}).get("target_seq") == victim["seq"]]
    check(len(voids) == 1 and voids[0]["void"].get("reason") == "重复登记", "wmctl log has the void and its reason")
    shot(d, "station-ledger-voided")


def station_month(d):
    tab(d, "month")
    wait(d, lambda d: by_id(d, "chart-categories"), "this month's chart")
    shot(d, "station-month")


# ---- the town ----------------------------------------------------------

def synced():
    rc, out, err = wmctl(cfg["town"]["conf"], "status", "--json")
    st = json.loads(out) if rc == 0 else {}
    head = len(log_records(cfg["station"]["conf"]))
    rows = [r for r in st.get("stations", []) if r["id"] == cfg["station"]["id"]]
    return rows and rows[0]["seq"] == head


def wait_synced():
    deadline = time.time() + 30
    while not synced() and time.time() < deadline:
        time.sleep(0.1)
    check(synced(), "the town has every record of the station")


def town(d, rec_date):
    t = cfg["town"]
    if not login(d, t["url"], t["user"], t["password"], "town"):
        return
    row = wait(d, lambda d: d.find_element(By.CSS_SELECTOR, "#children tr[data-id='%s']" % cfg["station"]["id"]),
               "the station's row")
    check(row is not None and cfg["station"]["name"] in row.text, "the town lists the station by name")
    if row:
        check(row.get_attribute("data-state") == "ok" and "正常" in row.text and
              "attention" not in (row.get_attribute("class") or ""), "the station's state is ok")
    never = d.find_elements(By.CSS_SELECTOR, "#children tr[data-id='xx/longhua/dongcun']")
    check(never and "attention" in never[0].get_attribute("class") and "从未联系" in never[0].text,
          "a station never seen is highlighted: %r" % (never[0].text if never else None))
    revoked = d.find_elements(By.CSS_SELECTOR, "#children tr[data-id='xx/longhua/xicun']")
    check(revoked and "attention" not in revoked[0].get_attribute("class") and "已注销" in revoked[0].text,
          "a revoked station is shown, not highlighted")
    check("1 个站点需要关注" in text_of(d, "attention"), "the town counts one station needing attention: %r" %
          text_of(d, "attention"))
    rows = d.find_elements(By.CSS_SELECTOR, "#children tbody tr")
    check(rows and rows[0].get_attribute("data-id") == "xx/longhua/dongcun", "the station needing attention comes first")
    shot(d, "town-stations")
    period = rec_date[:7]
    d.get(t["url"] + "#rollup/" + period)
    canvas = wait(d, lambda d: d.find_element(By.CSS_SELECTOR, "#chart-stations canvas"), "the stations chart")
    drawn = wait(d, lambda d: chart_drawn(d, "#chart-stations canvas") > 50, "the chart's bars")
    check(canvas is not None and int(canvas.get_attribute("data-points") or 0) > 0 and drawn,
          "the rollup of %s draws a non-empty chart" % period)
    table = by_id(d, "rollup-table")
    check(table is not None and cfg["station"]["name"] in table.text, "the rollup table has the station's row")
    shot(d, "town-rollup")
    download_xlsx(d)
    town_publish(d, period)
    town_users(d)
    for name in ("problems", "report"):
        tab(d, name)
        wait(d, lambda d: not d.find_elements(By.CSS_SELECTOR, "#main .muted") or
             d.find_elements(By.CSS_SELECTOR, "#%s h2, #%s p.prose-title" % (name, name)), name)
        shot(d, "town-" + name)
    order_wording(d)


def order_wording(d):
    """The console's words for the needs-and-orders problems and figures, in
    this browser, as wmctl words them (cli/render_rows.c)."""
    text = d.execute_script(
        "return [WM.town.problemText({}, {kind: 'order_step_not_counted', station: 'xx/longhua/a',"
        " order: 'xx/longhua:1:7', step: 'order_accept', reason: 'order_taken'}),"
        " WM.town.problemText({}, {kind: 'order_overdue', station: 'xx/longhua/b', name: '上门理发',"
        " order: 'xx/longhua:1:8', due: '2024-03-31'}),"
        " WM.town.problemText({}, {kind: 'need_unreviewed', station: 'xx/longhua/a', name: '理发',"
        " need: 'xx/longhua/a:1:3', days: 9})].join('|')")
    check(text == "xx/longhua/a对订单xx/longhua:1:7的接单未计入：订单已被其他站点接走|"
                  "xx/longhua/b的服务订单“上门理发”（xx/longhua:1:8）截止日期2024-03-31已过，仍未完成|"
                  "xx/longhua/a提出的群众需求“理发”（xx/longhua/a:1:3）已9天未审核",
          "the order problems are worded as wmctl words them: %r" % text)
    cards = d.execute_script(
        "return WM.figureCards({orders: {needs_received: 3, orders_dispatched: 2, orders_done: 2,"
        " loops_closed: 2, satisfaction_rate: 0.5}}).textContent")
    check("群众点单" in cards and "群众满意率" in cards and "50%" in cards,
          "the figure cards show the needs and orders: %r" % cards)


def town_publish(d, period):
    """The administrator publishes the period's rollup to the county."""
    button = by_id(d, "publish")
    if not check(button is not None, "the town's administrator has a publish button"):
        return
    button.click()
    alert = wait(d, lambda d: d.switch_to.alert, "the confirmation")
    if alert:
        check(period in alert.text, "the confirmation names the period: %r" % alert.text)
        alert.accept()
    note = wait(d, lambda d: by_id(d, "publish-note").is_displayed() and by_id(d, "publish-note"), "the publication")
    check(note is not None and "已上报" in note.text, "the page says the rollup was published: %r" %
          (note.text if note else None))
    rc, out, err = wmctl(cfg["town"]["conf"], "log", "--json")
    check('"rollup"' in out and period in out, "the town's log holds the signed rollup of %s" % period)


def county_has(period):
    rc, out, err = wmctl(cfg["county"]["conf"], "rollup", "--period", period, "--format", "json")
    try:
        return any(r["id"] == cfg["town"]["id"] for r in json.loads(out)["stations"])
    except (ValueError, KeyError):
        return False


def county(d, period):
    deadline = time.time() + 30
    while not county_has(period) and time.time() < deadline:
        time.sleep(0.1)
    if not check(county_has(period), "the county has the town's report of %s" % period):
        return
    c = cfg["county"]
    if not login(d, c["url"], c["user"], c["password"], "county"):
        return
    row = wait(d, lambda d: d.find_element(By.CSS_SELECTOR, "#children tr[data-id='%s']" % cfg["town"]["id"]),
               "the town's row")
    check(row is not None and cfg["town"]["name"] in row.text and "正常" in row.text,
          "the county lists the town, ok: %r" % (row.text if row else None))
    check(text_of(d, "tab-towns") == "各镇", "the county's first tab is its towns")
    shot(d, "county-towns")
    d.get(c["url"] + "#rollup/" + period)
    drawn = wait(d, lambda d: chart_drawn(d, "#chart-stations canvas") > 50, "the county's chart")
    table = by_id(d, "rollup-table")
    check(drawn and table is not None and cfg["town"]["name"] in table.text,
          "the county's rollup of %s draws the town's figures" % period)
    shot(d, "county-rollup")
    tab(d, "audit")
    Select(by_id(d, "audit-town")).select_by_value(cfg["town"]["id"])
    by_id(d, "audit-run").click()
    verdict = wait(d, lambda d: by_id(d, "audit-verdict") or by_id(d, "audit-error"), "the audit's answer", limit=30)
    if verdict is not None and verdict.get_attribute("data-status") == "501":
        # wmweb says it cannot audit yet (501 Not Implemented): said, not counted either way
        print("NOTE: this wmweb does not audit yet (501): the audit checks were not run", flush=True)
        shot(d, "county-audit")
        return
    check(verdict is not None and verdict.get_attribute("data-verdict") == "ok" and "核查通过" in verdict.text,
          "the audit confirms the town's figures: %r" % (verdict.text if verdict else text_of(d, "audit-result")))
    rows = d.find_elements(By.CSS_SELECTOR, "#audit-table tbody tr")
    check(len(rows) > 10, "the verdict is shown figure by figure (%d rows)" % len(rows))
    shot(d, "county-audit")


def town_users(d):
    """The administrator adds a viewer through the accounts page; a bad name is named beside its field."""
    tab(d, "users")
    wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, "#users-rows tr"), "the accounts list")
    by_id(d, "u-name").send_keys("坏 名字")
    by_id(d, "u-password").send_keys("viewer-pass-2024")
    by_id(d, "user-submit").click()
    err = wait(d, lambda d: by_id(d, "uerr-name").text and by_id(d, "uerr-name"), "the name field's error")
    check(err is not None and CJK.search(err.text), "a bad account name is refused beside its field: %r" %
          (err.text if err else None))
    by_id(d, "u-name").clear()
    by_id(d, "u-name").send_keys("chakan")
    Select(by_id(d, "u-role")).select_by_value("viewer")
    by_id(d, "user-submit").click()
    wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, "#users-rows tr[data-user=chakan]"), "the new account's row")
    rc, out, err = wmctl(cfg["town"]["conf"], "user", "list", "--json")
    try:
        users = json.loads(out)
        users = users.get("users", users) if isinstance(users, dict) else users
    except ValueError:
        users = []
    check(any(u.get("name") == "chakan" and u.get("role") == "viewer" for u in users),
          "wmctl user list shows the viewer added through the page: %s" % out.strip()[:200])
    shot(d, "town-users")


def download_xlsx(d):
    dl = cfg["downloads"]
    d.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": dl})
    by_id(d, "download-xlsx").click()
    deadline = time.time() + WAIT_S
    files = []
    while time.time() < deadline:
        files = [f for f in glob.glob(os.path.join(dl, "*")) if not f.endswith(".crdownload")]
        if files:
            break
        time.sleep(0.1)
    if not check(len(files) == 1 and files[0].endswith(".xlsx"), "the Excel download arrives: %s" % files):
        return
    import openpyxl
    wb = openpyxl.load_workbook(files[0], read_only=True)
    cells = [str(c) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row if c is not None]
    check(any(cfg["station"]["id"] in c for c in cells), "the workbook names the station (sheets %s)" % wb.sheetnames)
    check(any(CJK.search(c) for c in cells), "the workbook has Chinese labels")


# ---- phone, English, daemon down ----------------------------------------

def phone_and_english(d):
    st = cfg["station"]
    d.set_window_size(390, 900)
    d.get(st["url"] + "#record")
    wait(d, lambda d: by_id(d, "record-form"), "the record form on a phone")
    width = d.execute_script("return document.documentElement.scrollWidth")
    check(width <= 390, "the record form fits a phone's width (%s px)" % width)
    shot(d, "phone-record")
    d.get(st["url"] + "#ledger")
    wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, "#ledger-rows tr"), "the ledger on a phone")
    shot(d, "phone-ledger")
    d.set_window_size(1280, 900)
    by_id(d, "lang").click()
    wait(d, lambda d: by_id(d, "tab-ledger") and by_id(d, "tab-ledger").text == "Ledger", "the English labels")
    check(text_of(d, "tab-ledger") == "Ledger", "the English switch relabels the page")
    shot(d, "station-english")
    by_id(d, "lang").click()
    wait(d, lambda d: by_id(d, "tab-ledger") and by_id(d, "tab-ledger").text == "台账", "the Chinese labels")


def alive(pid):
    """The process runs (a zombie, exited but not yet reaped by the shell, does not)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def daemon_down(d):
    st = cfg["station"]
    d.get(st["url"] + "#ledger")
    banner = wait(d, lambda d: by_id(d, "banner") and "已全部上报" in by_id(d, "banner").text and by_id(d, "banner"),
                  "the banner to say everything reached the town")
    check(banner is not None and "最后联系" in banner.text,
          "once synced the banner says so with the last contact: %r" % (banner.text if banner else None))
    os.kill(st["pid"], signal.SIGTERM)
    deadline = time.time() + 10
    while time.time() < deadline and alive(st["pid"]):
        time.sleep(0.05)
    d.get(st["url"] + "#record")
    d.refresh()  # only the #hash changed: load the page anew, as a user pressing F5
    banner = wait(d, lambda d: by_id(d, "banner") and by_id(d, "banner").get_attribute("data-state") == "down" and
                  by_id(d, "banner"), "the banner to say the daemon is down")
    check(banner is not None and "没有运行" in banner.text, "the page says plainly the daemon is down: %r" %
          (banner.text if banner else None))
    if by_id(d, "record-form"):
        by_id(d, "f-title").send_keys("停机时登记")
        Select(by_id(d, "f-category")).select_by_value("theme_lecture")
        by_id(d, "record-submit").click()
        note = wait(d, lambda d: by_id(d, "form-note").is_displayed() and by_id(d, "form-note"), "the refusal")
        check(note is not None and "503" in note.text and "没有运行" in note.text,
              "recording with the daemon down is refused plainly: %r" % (note.text if note else None))
    shot(d, "station-daemon-down")


def main():
    o = webdriver.ChromeOptions()
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--lang=zh-CN",
              "--window-size=1280,900", "--disable-extensions", "--no-first-run"):
        o.add_argument(a)
    o.add_experimental_option("prefs", {"intl.accept_languages": "zh-CN,zh"})
    d = webdriver.Chrome(options=o)
    try:
        st = cfg["station"]
        if login(d, st["url"], st["user"], st["password"], "station"):
            banner = by_id(d, "banner").text
            check("已全部上报" in banner or "待上报" in banner, "the sync banner speaks plainly: %r" % banner)
            rec = station_record(d)
            station_photos(d)
            station_bad_date(d)
            victim = station_service(d)
            station_other_kinds(d)
            if rec:
                station_ledger(d, rec, victim)
            station_month(d)
            phone_and_english(d)
            day = rec["activity"]["date"] if rec else time.strftime("%Y-%m-%d")
            wait_synced()
            daemon_down(d)
            town(d, day)
            county(d, day[:7])
        errors = [e for e in d.get_log("browser")
                  if e["level"] == "SEVERE" and "Failed to load resource" not in e["message"]]
        check(not errors, "no script errors in the browser console: %s" % errors[:3])
    finally:
        d.quit()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or not passed else 0


sys.exit(main())
