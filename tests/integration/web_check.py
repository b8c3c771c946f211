# SPDX-License-Identifier: MIT
"""HTTP-level checks of wmweb (it_web.sh runs the daemons and calls this).

usage: web_check.py PHASE SRC_DIR URL [ARGS...]

Each phase prints "ok: ..." / "FAIL: ..." lines and a last line
"PASSED N FAILED M" that it_web.sh adds to its tally. Every JSON answer a
check reads is validated against docs/openapi.json's schema for it
(JSON Schema 2020-12, Debian's python3-jsonschema): an answer that breaks
its schema fails the check.
"""
import http.client
import json
import sys
import urllib.parse

try:
    import jsonschema
except ImportError:
    sys.exit("web_check: python3-jsonschema is missing (packaging/deps.sh installs it)")

PASSED = 0
FAILED = 0


def ok(msg):
    global PASSED
    PASSED += 1
    print("ok: " + msg)


def fail(msg):
    global FAILED
    FAILED += 1
    print("FAIL: " + msg)


def check(cond, msg):
    (ok if cond else fail)(msg)
    return cond


class Schemas:
    """docs/openapi.json's component schemas, with rollup.schema.json."""

    def __init__(self, src):
        self.api = json.load(open(src + "/docs/openapi.json", encoding="utf-8"))
        self.rollup = json.load(open(src + "/docs/rollup.schema.json", encoding="utf-8"))
        self.api.setdefault("$id", "urn:wmsync:openapi")
        try:  # jsonschema >= 4.18
            import referencing
            import referencing.jsonschema
            spec = referencing.jsonschema.DRAFT202012
            self.registry = referencing.Registry().with_resources([
                ("urn:wmsync:openapi", spec.create_resource(self.api)),
                (self.rollup["$id"], spec.create_resource(self.rollup)),
            ])
            self.resolver = None
        except ImportError:  # Debian 12's 4.10
            self.registry = None
            self.resolver = jsonschema.RefResolver.from_schema(
                self.api, store={self.rollup["$id"]: self.rollup})

    def errors(self, name, doc):
        schema = {"$schema": "https://json-schema.org/draft/2020-12/schema",
                  "$ref": "urn:wmsync:openapi#/components/schemas/" + name}
        if self.registry is not None:
            v = jsonschema.Draft202012Validator(schema, registry=self.registry)
        else:
            v = jsonschema.Draft202012Validator(schema, resolver=self.resolver)
        return ["%s: %s" % ("/".join(map(str, e.absolute_path)), e.message)
                for e in v.iter_errors(doc)]


class Client:
    """One browser: its own cookie and CSRF token."""

    def __init__(self, url, schemas, lang=None):
        u = urllib.parse.urlsplit(url)
        self.host, self.port, self.scheme = u.hostname, u.port, u.scheme
        self.cafile = None
        self.cookie = None
        self.csrf = None
        self.lang = lang
        self.schemas = schemas

    def req(self, method, path, body=None, headers=None, raw=None, csrf=True, ctype=None):
        h = {}
        if self.cookie:
            h["Cookie"] = self.cookie
        if self.lang:
            h["Accept-Language"] = self.lang
        if csrf and self.csrf and method != "GET":
            h["X-CSRF-Token"] = self.csrf
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
        if data is not None:
            h["Content-Type"] = ctype or "application/json"
        h.update(headers or {})
        if self.scheme == "https":
            import ssl
            ctx = ssl.create_default_context(cafile=self.cafile)
            c = http.client.HTTPSConnection(self.host, self.port, timeout=30, context=ctx)
        else:
            c = http.client.HTTPConnection(self.host, self.port, timeout=30)
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        r.data = r.read()
        c.close()
        sc = r.getheader("Set-Cookie")
        if sc and sc.startswith("wmweb_session="):
            v = sc.split(";")[0]
            self.cookie = v if v != "wmweb_session=" else None
        r.json = None
        if (r.getheader("Content-Type") or "").startswith("application/json"):
            try:
                r.json = json.loads(r.data)
            except ValueError:
                r.json = None
        return r

    def expect(self, r, status, schema, msg, code=None, field=None):
        """r has status, its body meets schema; for errors, code and field."""
        good = r.status == status
        if r.json is None:
            return check(False, "%s: HTTP %d, no JSON body (%r)" % (msg, r.status, r.data[:120]))
        errs = self.schemas.errors(schema, r.json)
        if code is not None and r.json.get("code") != code:
            good = False
        if field is not None and r.json.get("field") != field:
            good = False
        detail = "" if good and not errs else " [got %d %s; schema %s: %s]" % (
            r.status, json.dumps(r.json, ensure_ascii=False)[:300], schema, errs[:3])
        return check(good and not errs, msg + detail)

    def login(self, user, password, status=200):
        r = self.req("POST", "/api/v1/login", {"user": user, "password": password})
        if r.status == 200 and r.json:
            self.csrf = r.json.get("csrf")
        return r


def has_cjk(s):
    return any("\u4e00" <= ch <= "\u9fff" for ch in s or "")


def endpoints(schemas):
    """Every (method, path) of the contract, path parameters filled in."""
    fill = {"{epoch}": "1", "{seq}": "1", "{name}": "nobody", "{hash}": "0" * 64}
    for path, ops in schemas.api["paths"].items():
        for method in ops:
            p = path
            for k, v in fill.items():
                p = p.replace(k, v)
            yield method.upper(), p


def phase_station(s, url, args):
    """A station's console: sessions, CSRF, roles, records, errors, files."""
    anon = Client(url, s)
    for method, path in endpoints(s):
        if path == "/api/v1/login":
            continue
        r = anon.req(method, path, {} if method != "GET" else None)
        anon.expect(r, 401, "Error", "%s %s without a session: 401" % (method, path),
                    code="login_required")
    r = anon.req("POST", "/api/v1/login", {"user": "op1", "password": "wrong-password"})
    anon.expect(r, 401, "Error", "a wrong password: 401 bad_login", code="bad_login")
    check(has_cjk(r.json.get("error")), "the login error is in Chinese by default")

    op = Client(url, s)
    r = op.login("op1", "op-password")
    op.expect(r, 200, "Session", "login as an operator")
    sc = r.getheader("Set-Cookie") or ""
    check("HttpOnly" in sc and "SameSite=Strict" in sc and "Path=/" in sc,
          "the session cookie is HttpOnly; SameSite=Strict (%s)" % sc.split(";", 1)[-1])
    check("Secure" not in sc, "no Secure attribute over plain HTTP on loopback")
    check(len(sc.split(";")[0].split("=", 1)[1]) == 64, "the session token has 32 random bytes")
    op.expect(op.req("GET", "/api/v1/session"), 200, "Session", "GET session gives the CSRF again")
    op.expect(op.req("GET", "/api/v1/status"), 200, "Status", "status as wmctl status --json")

    act = {"kind": "activity", "date": "2024-03-05", "category": "theme_lecture",
           "title": "主题宣讲进村", "participants": 40, "hours": 2.5, "festival": ["春节", "元宵"]}
    total0 = op.req("GET", "/api/v1/records").json["total"]
    r = op.req("POST", "/api/v1/records", act, csrf=False)
    op.expect(r, 403, "Error", "a record without X-CSRF-Token: 403", code="csrf")
    r = op.req("POST", "/api/v1/records", act, headers={"X-CSRF-Token": "0" * 64})
    op.expect(r, 403, "Error", "a record with another token: 403", code="csrf")
    r = op.req("POST", "/api/v1/records", act, headers={"Origin": "http://evil.example"})
    op.expect(r, 403, "Error", "a record from another origin: 403", code="csrf")
    r = op.req("POST", "/api/v1/records", raw=b"date=2024-03-05", ctype="application/x-www-form-urlencoded")
    op.expect(r, 415, "Error", "a form-encoded body: 415", code="malformed")
    r = op.req("POST", "/api/v1/records", raw=b"{\"kind\": \"activity\", ")
    op.expect(r, 400, "Error", "malformed JSON: 400", code="malformed")
    r = op.req("POST", "/api/v1/records", raw=b"[1, 2]")
    op.expect(r, 400, "Error", "a JSON array: 400", code="malformed")
    big = dict(act, title="长" * 40000)
    r = op.req("POST", "/api/v1/records", big)
    op.expect(r, 413, "Error", "a body over 64 KiB: 413", code="too_big")
    check(op.req("GET", "/api/v1/records").json["total"] == total0,
          "nothing written by the refused requests")

    r = op.req("POST", "/api/v1/records", act)
    op.expect(r, 201, "Created", "an activity with a Chinese title: 201")
    seq = r.json.get("seq") if r.json else None
    r = op.req("GET", "/api/v1/records?kind=activity&from=2024-03-01&to=2024-03-31&q=" + urllib.parse.quote("进村"))
    op.expect(r, 200, "RecordsPage", "the ledger, filtered")
    rows = r.json["records"] if r.json else []
    check(len(rows) == 1 and rows[0]["seq"] == seq and rows[0].get("account") == "op1"
          and rows[0]["activity"]["title"] == "主题宣讲进村",
          "the record is in the ledger with the operator's account name")
    r = op.req("GET", "/api/v1/records?from=2024-04-01")
    check(r.json and all(x["day"] >= "2024-04-01" for x in r.json["records"])
          and all(x["seq"] != seq for x in r.json["records"]), "from= leaves earlier days out")

    bad = dict(act, date="2024-02-30")
    r = op.req("POST", "/api/v1/records", bad)
    op.expect(r, 400, "Error", "a bad date: 400 naming date", code="invalid", field="date")
    check(has_cjk(r.json.get("error")), "the date error is in Chinese: %s" % r.json.get("error"))
    op_en = Client(url, s, lang="en-US,en;q=0.9,zh;q=0.5")
    op_en.cookie, op_en.csrf = op.cookie, op.csrf
    r = op_en.req("POST", "/api/v1/records", bad)
    op_en.expect(r, 400, "Error", "Accept-Language en: 400 naming date", field="date")
    check(not has_cjk(r.json.get("error")), "… in English: %s" % r.json.get("error"))
    cases = [
        (dict(act, hours=1.234), "hours"),
        (dict(act, service_kind="legal"), "service_kind"),
        (dict(act, category="dancing"), "category"),
        (dict(act, participants=-3), "participants"),
        (dict(act, title=""), "title"),
        (dict(act, colour="red"), "colour"),
        ({"kind": "activity", "category": "theme_lecture", "title": "x"}, "date"),
        ({"kind": "team", "team": "t1", "name": "一队", "team_kind": "squad"}, "team_kind"),
        ({"kind": "seance", "date": "2024-03-05"}, "kind"),
        (dict(act, team="no-such-team"), "team"),
    ]
    for body, field in cases:
        r = op.req("POST", "/api/v1/records", body)
        op.expect(r, 400, "Error", "rejected naming %s" % field, code="invalid", field=field)
    r = op.req("POST", "/api/v1/session", {"lang": "en"})
    op.expect(r, 200, "Session", "the session's language set to English")
    r = op.req("POST", "/api/v1/records", dict(act, date="2024-13-01"), headers={"Accept-Language": "zh-CN"})
    check(r.status == 400 and not has_cjk(r.json.get("error")), "the session's language wins over the header")
    op.req("POST", "/api/v1/session", {"lang": "zh"})
    check(op.req("GET", "/api/v1/records").json["total"] == total0 + 1,
          "nothing written by the rejected records")

    kinds = [
        {"kind": "team", "team": "t1", "name": "一分队", "team_kind": "branch", "trade": "教育"},
        dict(act, category="volunteer_service", service_kind="legal", team="t1", volunteers=5),
        {"kind": "publicity", "date": "2024-03-06", "channel": "wechat", "count": 3},
        {"kind": "volunteers", "date": "2024-03-06", "registered": 10, "verified": "8"},
        {"kind": "site", "date": "2024-03-06", "plaque": True, "rules": True, "model": False},
        {"kind": "funding", "date": "2024-03-06", "yuan": "1200.50", "source": "县财政"},
        {"kind": "plan", "title": "考察学习", "due": "2024-05-31"},
    ]
    for body in kinds:
        op.expect(op.req("POST", "/api/v1/records", body), 201, "Created", "a %s record" % body["kind"])

    r = op.req("POST", "/api/v1/records/1/%d/void" % seq, {"reason": "重复登记"})
    op.expect(r, 201, "Created", "void the activity")
    r = op.req("POST", "/api/v1/records/1/%d/void" % seq, {"reason": "again"})
    op.expect(r, 409, "Error", "voiding it again: 409")
    r = op.req("POST", "/api/v1/records/1/99999/void", {"reason": "none"})
    op.expect(r, 404, "Error", "voiding a record that does not exist: 404")
    r = op.req("GET", "/api/v1/records?kind=activity")
    check(any(x["seq"] == seq and x.get("voided_by") for x in r.json["records"]), "the ledger shows it voided")

    view = Client(url, s)
    view.expect(view.login("view1", "view-password"), 200, "Session", "login as a viewer")
    view.expect(view.req("GET", "/api/v1/records"), 200, "RecordsPage", "a viewer reads the ledger")
    r = view.req("POST", "/api/v1/records", act)
    view.expect(r, 403, "Error", "a viewer cannot record: 403", code="forbidden")
    r = view.req("POST", "/api/v1/records/1/1/void", {"reason": "x"})
    view.expect(r, 403, "Error", "a viewer cannot void: 403", code="forbidden")
    view.expect(view.req("GET", "/api/v1/users"), 403, "Error", "a viewer cannot list accounts", code="forbidden")
    op.expect(op.req("GET", "/api/v1/users"), 403, "Error", "an operator cannot list accounts", code="forbidden")
    op.expect(op.req("GET", "/api/v1/children"), 404, "Error", "no children at a station", code="not_here")

    r = view.req("GET", "/api/v1/rollup?period=2024-03")
    view.expect(r, 200, "Rollup", "the rollup of 2024-03 meets docs/rollup.schema.json")
    r = view.req("GET", "/api/v1/rollup?period=2024-03&format=csv")
    check(r.status == 200 and "text/csv" in r.getheader("Content-Type", "")
          and 'filename="rollup-2024-03.csv"' in r.getheader("Content-Disposition", "")
          and "主题宣讲" in r.data.decode("utf-8-sig"), "the rollup as CSV, an attachment")
    r = view.req("GET", "/api/v1/rollup?period=2024-03&format=xlsx")
    check(r.status == 200 and r.data[:2] == b"PK" and "xlsx" in r.getheader("Content-Disposition", ""),
          "the rollup as xlsx")
    if len(args) > 0:
        open(args[0], "wb").write(r.data)
    view.expect(view.req("GET", "/api/v1/rollup?period=2024-13"), 400, "Error", "a bad period: 400", field="period")
    view.expect(view.req("GET", "/api/v1/rollup?period=2024-03&format=pdf"), 400, "Error", "a bad format: 400", field="format")
    r = view.req("GET", "/api/v1/report?period=2024-03&lang=zh")
    view.expect(r, 200, "Report", "the report in Chinese")

    adm = Client(url, s)
    adm.expect(adm.login("admin1", "admin-password"), 200, "Session", "login as an admin")
    adm.expect(adm.req("GET", "/api/v1/users"), 200, "Users", "an admin lists the accounts")
    r = adm.req("POST", "/api/v1/users", {"name": "op2", "role": "operator", "password": "op2-password"})
    adm.expect(r, 201, "UserChanged", "an admin adds an account")
    r = adm.req("POST", "/api/v1/users", {"name": "op2", "role": "operator", "password": "op2-password"})
    adm.expect(r, 409, "Error", "adding it again: 409")
    r = adm.req("POST", "/api/v1/users", {"name": "Bad Name", "role": "operator", "password": "op2-password"})
    adm.expect(r, 400, "Error", "a bad account name: 400", field="name")
    r = adm.req("POST", "/api/v1/users", {"name": "op3", "role": "boss", "password": "op3-password"})
    adm.expect(r, 400, "Error", "a bad role: 400", field="role")
    r = adm.req("POST", "/api/v1/users", {"name": "op3", "role": "viewer", "password": "short"})
    adm.expect(r, 400, "Error", "a short password: 400", field="password")
    op2 = Client(url, s)
    op2.expect(op2.login("op2", "op2-password"), 200, "Session", "the new account logs in")
    r = adm.req("POST", "/api/v1/users/op2/password", {"password": "op2-new-password"})
    adm.expect(r, 200, "UserChanged", "an admin sets its password")
    op2.expect(op2.req("GET", "/api/v1/status"), 401, "Error", "… which ends its sessions", code="login_required")
    adm.expect(adm.req("DELETE", "/api/v1/users/op2"), 200, "UserChanged", "an admin deletes it")
    adm.expect(adm.req("DELETE", "/api/v1/users/op2"), 404, "Error", "deleting it again: 404")
    op2.expect(op2.login("op2", "op2-new-password"), 401, "Error", "a deleted account cannot log in")

    op.expect(op.req("POST", "/api/v1/logout", {}), 200, "Ok", "logout")
    op.expect(op.req("GET", "/api/v1/records"), 401, "Error", "after logout: 401")


def phase_throttle(s, url, args):
    """Repeated bad passwords make logins wait, before any hash."""
    a = Client(url, s)
    for i in range(5):
        r = a.req("POST", "/api/v1/login", {"user": "view1", "password": "bad-%d" % i})
        a.expect(r, 401, "Error", "bad password %d: 401" % (i + 1), code="bad_login")
    r = a.login("view1", "view-password")
    a.expect(r, 429, "Error", "the right password after 5 bad ones: 429", code="throttled")
    check((r.getheader("Retry-After") or "0").isdigit() and int(r.getheader("Retry-After")) > 0,
          "429 says Retry-After")
    b = Client(url, s)
    b.expect(b.login("admin1", "admin-password"), 200, "Session", "another account still logs in")
    for i in range(16):
        b.req("POST", "/api/v1/login", {"user": "ghost%d" % i, "password": "x"})
    r = b.login("admin1", "admin-password")
    b.expect(r, 429, "Error", "20 failures from one address: that address waits", code="throttled")


def phase_files(s, url, args):
    """Static files only from the asset directory; headers on everything."""
    c = Client(url, s)
    r = c.req("GET", "/")
    check(r.status == 200 and "text/html" in r.getheader("Content-Type", ""), "GET / is index.html")
    csp = r.getheader("Content-Security-Policy") or ""
    check("frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp,
          "CSP: scripts from this origin only, no inline, no framing")
    check(r.getheader("X-Content-Type-Options") == "nosniff", "X-Content-Type-Options: nosniff")
    r = c.req("GET", "/api/v1/status")
    check("frame-ancestors 'none'" in (r.getheader("Content-Security-Policy") or "")
          and r.getheader("X-Content-Type-Options") == "nosniff" and r.getheader("Cache-Control") == "no-store",
          "the API's answers carry the same headers, and no-store")
    for p in ["/../../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2fetc/passwd",
              "/a/../../secret.txt", "/.hidden", "/outside-link.txt",
              "/..\\..\\etc\\passwd", "//etc/passwd"]:
        r = c.req("GET", p)
        check(r.status in (400, 404) and b"root:" not in r.data and b"SECRET" not in r.data,
              "path %s refused (%d)" % (p, r.status))
    r = c.req("GET", "/sub/inside.txt")
    check(r.status == 200 and r.data == b"inside\n", "a file in a subdirectory is served")
    r = c.req("DELETE", "/index.html")
    check(r.status == 405, "DELETE of a file: 405")


def phase_down(s, url, args):
    """The daemon is down: writes 503, reads say so."""
    c = Client(url, s)
    c.expect(c.login("op1", "op-password"), 200, "Session", "login with the daemon down")
    total = c.req("GET", "/api/v1/records").json["total"]
    r = c.req("POST", "/api/v1/records", {"kind": "plan", "title": "x", "due": "2024-05-31"})
    c.expect(r, 503, "Error", "a record with the daemon down: 503", code="daemon_down")
    check(has_cjk(r.json.get("error")), "… said plainly in Chinese: %s" % r.json.get("error"))
    r = c.req("GET", "/api/v1/status")
    c.expect(r, 200, "Status", "status with the daemon down")
    check(r.json and r.json.get("daemon_running") is False, "status says daemon_running false")
    check(c.req("GET", "/api/v1/records").json["total"] == total, "nothing written")


def phase_town(s, url, args):
    """An aggregator's console: children, rollup, publish."""
    adm = Client(url, s)
    adm.expect(adm.login("admin1", "admin-password"), 200, "Session", "login at the town")
    r = adm.req("GET", "/api/v1/children")
    adm.expect(r, 200, "Children", "the town's children")
    check(r.json and any(x["id"] == args[0] for x in r.json["children"]), "the station is a child")
    r = adm.req("GET", "/api/v1/rollup?period=2024-03")
    adm.expect(r, 200, "Rollup", "the town's rollup meets the schema")
    st = r.json.get("stations", []) if r.json else []
    check(any(x.get("id") == args[0] for x in st), "the station has its row")
    r = adm.req("GET", "/api/v1/rollup?period=2024-03&station=" + args[0])
    adm.expect(r, 200, "Rollup", "one station's rollup")
    r = adm.req("GET", "/api/v1/rollup?period=2024-03&station=nope/none")
    adm.expect(r, 404, "Error", "an unknown station: 404", field="station")
    r = adm.req("POST", "/api/v1/publish", {"period": "2024-03"})
    adm.expect(r, 201, "Published", "publish 2024-03")
    r = adm.req("POST", "/api/v1/publish", {"period": "2024-99"})
    adm.expect(r, 400, "Error", "publish a bad period: 400", field="period")
    r = adm.req("POST", "/api/v1/audit", {"town": "xx/nowhere", "period": "2024-03"})
    check(r.status in (200, 400) and r.json is not None and not s.errors("Audit" if r.status == 200 else "Error", r.json),
          "an audit at a town answers a verdict or names what is wrong (%d %s)" % (r.status, json.dumps(r.json, ensure_ascii=False)[:200]))
    r = adm.req("POST", "/api/v1/audit", {"town": "xx/longhua", "period": "2024-99"})
    adm.expect(r, 400, "Error", "an audit of a bad period: 400", field="period")
    op = Client(url, s)
    op.expect(op.login("op1", "op-password"), 200, "Session", "an operator at the town")
    op.expect(op.req("POST", "/api/v1/publish", {"period": "2024-03"}), 403, "Error",
              "an operator cannot publish", code="forbidden")


def phase_tls(s, url, args):
    """HTTPS with the certificate of wmctl web-cert: Secure cookies, HSTS."""
    c = Client(url, s)
    c.cafile = args[0]
    r = c.login("op1", "op-password")
    c.expect(r, 200, "Session", "login over HTTPS, the certificate verified")
    sc = r.getheader("Set-Cookie") or ""
    check("Secure" in sc and "HttpOnly" in sc and "SameSite=Strict" in sc,
          "under TLS the cookie is Secure (%s)" % sc.split(";", 1)[-1])
    check((r.getheader("Strict-Transport-Security") or "").startswith("max-age="),
          "under TLS: Strict-Transport-Security")
    c.expect(c.req("GET", "/api/v1/status"), 200, "Status", "status over HTTPS")
    plain = Client(url.replace("https://", "http://"), s)
    try:
        r = plain.req("GET", "/api/v1/status")
        check(False, "plain HTTP to the TLS port is refused (got %d)" % r.status)
    except (OSError, http.client.HTTPException) as e:
        ok("plain HTTP to the TLS port is refused (%s)" % type(e).__name__)


PHASES = {"tls": phase_tls, "station": phase_station, "throttle": phase_throttle, "files": phase_files,
          "down": phase_down, "town": phase_town}

if __name__ == "__main__":
    if len(sys.argv) < 4 or sys.argv[1] not in PHASES:
        sys.exit(__doc__)
    schemas = Schemas(sys.argv[2])
    try:
        PHASES[sys.argv[1]](schemas, sys.argv[3], sys.argv[4:])
    except Exception as e:  # a crash is a failure, with its reason
        import traceback
        traceback.print_exc()
        fail("phase %s crashed: %r" % (sys.argv[1], e))
    print("PASSED %d FAILED %d" % (PASSED, FAILED))
