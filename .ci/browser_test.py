#!/usr/bin/env python3
"""Browser test of Tributary's reader UI in headless Chromium (Debian `chromium`).

Runs `target/release/tributary demo` on a copy of fixtures/ that also serves the script probe
tests/data/xss-probe.rss, and drives one headless Chromium over the DevTools protocol
(`--remote-debugging-pipe`: JSON messages on file descriptors 3 and 4, no extra library). For
each page it reads what the browser ended up with after the page loaded and its events and
timers had time to fire: the live DOM, `document.title`, `location.href` and `window.__xss`.

1. The stream lists the demo's stories with the story three outlets carried folded into one row.
2. A search for the Cyrillic word "баку" finds the windows-1251 feed's entry, the word marked.
3. No injected payload runs. Every probe payload, if it ran, would push its number onto
   `window.__xss` and append " pwned-N" to `document.title` (the word is assembled at run time,
   so it is in a page only if a payload executed). A control page carrying the same payloads raw
   shows first that they do run in this Chromium when nothing stops them, and that Tributary's
   Content-Security-Policy alone already stops every script payload. Then every probe and
   hostile-fixture entry page must come out with `window.__xss` undefined, the title unchanged,
   the page not navigated away, no script/frame/object/embed/base/meta-refresh element, no on*
   attribute, no javascript: URL, and its safe text shown. The same entry pages are then
   served again by the control server without any CSP: the sanitizer alone must hold too.
4. Screenshots of the stream, a search, an entry (whole page), the sources page and the entry's
   day digest (linked from the entry page) at phone (390x844, mobile viewport) and desktop
   (1366x900) size, light and dark, go to target/screenshots/.

Standard library only. Exits 0 when every check passes, 1 otherwise; prints a short report.
"""

from __future__ import annotations

import base64
import fcntl
import html
import html.parser
import http.server
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The release build, or another build named by TRIBUTARY_BIN.
BINARY = Path(os.environ.get("TRIBUTARY_BIN") or ROOT / "target" / "release" / "tributary")
PROBE = ROOT / "tests" / "data" / "xss-probe.rss"
SHOTS = ROOT / "target" / "screenshots"

SEED_TITLE = "An Alliance Without Illusions: Why Russia Needs Azerbaijan"
FOLDED_TITLES = [
    "Why Russia needs Azerbaijan: an alliance without illusions - Wire",
    "Analysis: An Alliance Without Illusions: Why Russia Needs Azerbaijan",
]
BAKU_TITLE = "В Баку обсудили прокладку Транскаспийского оптоволоконного кабеля"
PROBE_FEED = """
# Added by .ci/browser_test.py: the script-injection probe.
[[feed]]
id = "xss-probe"
url = "{base}/feeds/xss-probe.rss"
title = "Script Probe Gazette"
tags = ["en"]
"""
MARKER = "pwn" + "ed"
# Elements that would let feed markup act or load, whatever the sanitizer thought of them.
ACTIVE_ELEMENTS = {"script", "iframe", "frame", "object", "embed", "base", "applet", "portal"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "xlink:href", "srcdoc", "poster"}

failures: list[str] = []
report: list[str] = []


def check(condition: bool, message: str, detail: str = "") -> bool:
    if condition:
        report.append(f"  ok    {message}")
    else:
        failures.append(message)
        report.append(f"  FAIL  {message}{': ' + detail if detail else ''}")
    return condition


# --------------------------------------------------------------------------------------------
# Chromium over the DevTools pipe


def chromium_binary() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("browser test: chromium not found (apt-get install chromium)")


class Browser:
    """One headless Chromium; commands go to its fd 3, answers and events come from its fd 4,
    each message a JSON text ended by a NUL byte."""

    def __init__(self, binary: str, profile: Path):
        to_browser_r, to_browser_w = os.pipe()
        from_browser_r, from_browser_w = os.pipe()
        # Above any descriptor the child's dup2 onto 3 and 4 could clobber.
        child_in = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10)
        child_out = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)

        def wire():
            os.dup2(child_in, 3)
            os.dup2(child_out, 4)

        self.proc = subprocess.Popen(
            [
                binary,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--no-default-browser-check",
                "--hide-scrollbars",
                "--remote-debugging-pipe",
                f"--user-data-dir={profile}",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=wire,
            pass_fds=(3, 4),
        )
        for fd in (to_browser_r, from_browser_w, child_in, child_out):
            os.close(fd)
        self.out = to_browser_w
        self.inp = from_browser_r
        self.buffer = b""
        self.next_id = 0
        self.events: list[dict] = []
        self.version = self.send("Browser.getVersion")["product"]

    def _message(self, timeout: float) -> dict:
        deadline = time.time() + timeout
        while b"\0" not in self.buffer:
            left = deadline - time.time()
            if left <= 0 or not select.select([self.inp], [], [], left)[0]:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self.inp, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(raw)

    def send(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = 30) -> dict:
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.out, json.dumps(msg).encode() + b"\0")
        while True:
            m = self._message(timeout)
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error'].get('message')}")
                return m.get("result", {})
            if "method" in m:
                self.events.append(m)

    def wait_event(self, method: str, session: str, timeout: float = 30) -> dict:
        deadline = time.time() + timeout
        while True:
            for i, e in enumerate(self.events):
                if e["method"] == method and e.get("sessionId") == session:
                    return self.events.pop(i)
            m = self._message(max(0.1, deadline - time.time()))
            if "method" in m:
                self.events.append(m)

    def drain(self, seconds: float) -> None:
        """Lets the page run for `seconds` of real time, keeping the events that arrive."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            try:
                m = self._message(deadline - time.time())
            except TimeoutError:
                return
            if "method" in m:
                self.events.append(m)

    def new_page(self) -> "Page":
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.send("Page.enable", session=session)
        self.send("Runtime.enable", session=session)
        return Page(self, session)

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        os.close(self.out)
        os.close(self.inp)


class Page:
    def __init__(self, browser: Browser, session: str):
        self.b = browser
        self.session = session

    def goto(self, url: str, settle: float = 0.8) -> dict:
        """Loads `url`, lets its events, timers and any refresh run for `settle` seconds, and
        returns what the page became."""
        self.b.events = [e for e in self.b.events if e.get("sessionId") != self.session]
        self.b.send("Page.navigate", {"url": url}, session=self.session)
        self.b.wait_event("Page.loadEventFired", self.session)
        self.b.drain(settle)
        for _ in range(20):  # a refresh may still be committing; ask again once it has
            try:
                return self.evaluate(
                    "({title: document.title, url: location.href, xss: typeof window.__xss === 'undefined'"
                    " ? null : String(window.__xss), ready: document.readyState,"
                    " html: document.documentElement.outerHTML})"
                )
            except RuntimeError:
                time.sleep(0.2)
        raise RuntimeError(f"could not read {url}")

    def evaluate(self, expression: str):
        r = self.b.send("Runtime.evaluate", {"expression": expression, "returnByValue": True},
                        session=self.session)
        if "exceptionDetails" in r:
            raise RuntimeError(r["exceptionDetails"].get("text", "evaluation failed"))
        return r["result"]["value"]

    def screenshot(self, url: str, path: Path, width: int, height: int, dark: bool,
                   whole: bool = False) -> None:
        """The first screen of `url` at this size, or with `whole` the page down to its end
        (at most 6,000 pixels)."""
        metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600}
        self.b.send("Emulation.setDeviceMetricsOverride", metrics, session=self.session)
        self.b.send("Emulation.setEmulatedMedia", {
            "features": [{"name": "prefers-color-scheme", "value": "dark" if dark else "light"}],
        }, session=self.session)
        self.goto(url, settle=0.2)
        if whole:
            tall = self.evaluate("document.documentElement.scrollHeight")
            metrics["height"] = max(height, min(int(tall), 6000))
            self.b.send("Emulation.setDeviceMetricsOverride", metrics, session=self.session)
            self.b.drain(0.2)
        data = self.b.send("Page.captureScreenshot", {"format": "png"}, session=self.session)["data"]
        path.write_bytes(base64.b64decode(data))
        self.b.send("Emulation.clearDeviceMetricsOverride", session=self.session)
        self.b.send("Emulation.setEmulatedMedia", {"features": []}, session=self.session)


# --------------------------------------------------------------------------------------------
# Reading a DOM


class Dom(html.parser.HTMLParser):
    """Every element with its attributes, and the text of every closed element."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
            "track", "wbr"}

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.closed: list[tuple[str, dict[str, str], str]] = []
        self._stack: list[tuple[str, dict[str, str], list[str]]] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        a = {k.lower(): (v or "") for k, v in attrs}
        self.elements.append((tag, a))
        if tag not in self.VOID:
            self._stack.append((tag, a, []))

    def handle_endtag(self, tag):
        for i in range(len(self._stack) - 1, -1, -1):
            if self._stack[i][0] == tag:
                while len(self._stack) > i:
                    name, attrs, parts = self._stack.pop()
                    text = "".join(parts)
                    self.closed.append((name, attrs, text))
                    if self._stack:
                        self._stack[-1][2].append(text)
                return

    def handle_data(self, data):
        if self._stack:
            self._stack[-1][2].append(data)

    def find(self, tag: str, cls: str | None = None) -> list[tuple[dict[str, str], str]]:
        return [
            (attrs, text)
            for name, attrs, text in self.closed
            if name == tag and (cls is None or cls in attrs.get("class", "").split())
        ]


def story_rows(dom_text: str) -> list[dict]:
    """Each `article.story`: title, entry link, outlet, "Also reported by" names, its markup."""
    rows = []
    for chunk in re.findall(r"<article class=\"story\".*?</article>", dom_text, re.S):
        d = Dom(chunk)
        h3 = d.find("h3")
        link = next((a for t, a in d.elements if t == "a" and a.get("href", "").startswith("/entries/")), {})
        also = re.search(r"<p class=\"also\">(.*?)</p>", chunk, re.S)
        outlet = d.find("a", "outlet")
        rows.append({
            "title": h3[0][1].strip() if h3 else "",
            "href": link.get("href", ""),
            "outlet": outlet[0][1].strip() if outlet else "",
            "also": [t.strip() for _, t in Dom(also.group(1)).find("a")] if also else [],
            "lang": Dom(chunk).elements[0][1].get("lang", ""),
            "html": chunk,
        })
    return rows


def active_markup(dom_text: str) -> list[str]:
    """Everything in a DOM that could act: script-capable elements, event handlers,
    javascript:/vbscript:/data:text URLs, meta refresh, inline styles (the CSP blocks those,
    and sanitized content carries none)."""
    found = []
    for tag, attrs in Dom(dom_text).elements:
        if tag in ACTIVE_ELEMENTS:
            found.append(f"<{tag}>")
        if tag == "meta" and "http-equiv" in attrs:
            found.append(f"<meta http-equiv={attrs['http-equiv']}>")
        for name, value in attrs.items():
            if name.startswith("on"):
                found.append(f"<{tag} {name}>")
            if name == "style":
                found.append(f"<{tag} style>")
            v = re.sub(r"[\s\x00-\x1f]", "", value).lower()
            if name in URL_ATTRIBUTES and v.startswith(("javascript:", "vbscript:", "data:text")):
                found.append(f"<{tag} {name}={value[:40]}>")
    return found


def fired(state: dict) -> list[str]:
    """Which payloads ran, by what they left behind."""
    marks = set(re.findall(MARKER + r"-([0-9]+[a-z]?)", state["title"] + state["html"]))
    if state["xss"]:
        marks.update(state["xss"].split(","))
    return sorted(marks)


# --------------------------------------------------------------------------------------------
# The demo and the control page


def start_demo(workdir: Path) -> tuple[subprocess.Popen, str]:
    fixtures = workdir / "fixtures"
    shutil.copytree(ROOT / "fixtures", fixtures)
    shutil.copy(PROBE, fixtures / "feeds" / "xss-probe.rss")
    with open(fixtures / "demo-feeds.toml", "a", encoding="utf-8") as f:
        f.write(PROBE_FEED)
    proc = subprocess.Popen(
        [str(BINARY), "-q", "demo", "--fixtures", str(fixtures), "--out-dir", str(workdir / "out")],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")},
    )
    base, lines = None, []
    deadline = time.time() + 120
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        m = re.search(r"(http://127\.0\.0\.1:\d+)/feed\.atom", line)
        if m:
            base = m.group(1)
        if "Serving until interrupted" in line:
            break
    if base is None:
        proc.kill()
        sys.exit("browser test: the demo printed no server URL:\n" + "".join(lines) + proc.stderr.read())
    return proc, base


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def raw_payloads() -> tuple[str, str]:
    """The probe feed's payloads as a careless page would hold them: each description (and the
    markup-carrying title) inserted verbatim. The refresh payload is kept apart, since it
    leaves the page."""
    text = PROBE.read_text(encoding="utf-8")
    blocks, refresh = [], ""
    for item in re.findall(r"<item>(.*?)</item>", text, re.S):
        desc = re.search(r"<description>(.*?)</description>", item, re.S).group(1)
        title = re.search(r"<title>(.*?)</title>", item, re.S).group(1)
        desc = desc[len("<![CDATA["):-len("]]>")] if desc.startswith("<![CDATA[") else html.unescape(desc)
        if "http-equiv" in desc:
            refresh = desc
            continue
        blocks.append(desc)
        if "&lt;" in title:
            blocks.append(html.unescape(title))
    return "\n".join(blocks), refresh


def start_control(csp: str) -> tuple[http.server.ThreadingHTTPServer, str, dict]:
    """A page server without Tributary's protections. `pages` maps a path to (body, CSP or
    None); a body that is a whole document is served as it is, else it is wrapped in one. The
    returned dict is live: pages added to it later are served too."""
    payloads, refresh = raw_payloads()
    pages = {
        "/open.html": (payloads, None),
        "/with-csp.html": (payloads, csp),
        "/refresh.html": (refresh.replace("/sources?pwned-10", "/left.html"), None),
        "/left.html": ("<p>left</p>", None),
    }

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            path = urllib.parse.urlsplit(self.path).path
            if path not in pages:
                self.send_error(404)
                return
            body, policy = pages[path]
            if not body.lstrip().lower().startswith("<!doctype"):
                body = f"<!DOCTYPE html><html><head><title>control</title></head><body>{body}</body></html>"
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            if policy:
                self.send_header("Content-Security-Policy", policy)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}", pages


def headers_of(url: str) -> tuple[int, dict[str, str]]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=30) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}


def body_of(url: str) -> str:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=30) as resp:
        return resp.read().decode("utf-8")


# --------------------------------------------------------------------------------------------


def run_checks(page: Page, base: str) -> None:
    # 1. The stream: the story three outlets carried is one row.
    stream = page.goto(base + "/")
    rows = story_rows(stream["html"])
    titles = [r["title"] for r in rows]
    seed = [r for r in rows if r["title"] == SEED_TITLE]
    check(len(rows) == 30, f"the stream's first page lists {len(rows)} stories")
    check(
        len(seed) == 1 and not any(t in titles for t in FOLDED_TITLES),
        "the story three outlets carried is one row",
        f"{len(seed)} rows titled {SEED_TITLE!r}",
    )
    if seed:
        check(
            sorted(seed[0]["also"]) == ["Caspian Wire", "Regional Digest"],
            f"its row names the other outlets: {', '.join(seed[0]['also']) or 'none'}",
        )
    check(not active_markup(stream["html"]), "the stream holds no active markup",
          str(active_markup(stream["html"])))

    # 2. Cyrillic search.
    search_url = base + "/?q=" + urllib.parse.quote("баку")
    hits = story_rows(page.goto(search_url)["html"])
    baku = next((r for r in hits if r["title"] == BAKU_TITLE), None)
    check(
        baku is not None and baku["outlet"] == "Кавказский вестник"
        and "<mark>Баку</mark>" in baku["html"] and baku["lang"] == "ru",
        "searching “баку” finds the windows-1251 feed's «В Баку обсудили…», word marked, lang=ru",
        f"hits: {[r['title'] for r in hits]}",
    )

    # 3. Payloads: the control page first, then Tributary's pages.
    status, headers = headers_of(base + "/")
    csp = headers.get("content-security-policy", "")
    check(
        status == 200 and "default-src 'none'" in csp and headers.get("x-content-type-options") == "nosniff"
        and headers.get("referrer-policy") == "no-referrer",
        "pages are served with CSP, nosniff and no-referrer",
        str(headers),
    )
    server, control, control_pages = start_control(csp)
    try:
        check_payloads(page, base, control, control_pages)
    finally:
        server.shutdown()

    # 4. Screenshots.
    SHOTS.mkdir(parents=True, exist_ok=True)
    entry = seed[0]["href"] if seed else "/entries/1"
    digest = re.search(r'href="(/digest/\d{4}-\d{2}-\d{2}\.html)"', page.goto(base + entry)["html"])
    check(digest is not None, "the entry page links its day's digest")
    targets = {
        "stream": (base + "/", False),
        "search": (search_url, False),
        "entry": (base + entry, True),
        "sources": (base + "/sources", False),
        "digest": (base + (digest.group(1) if digest else "/digest/latest.html"), False),
    }
    taken = []
    for name, (url, whole) in targets.items():
        for size, (w, h) in {"phone": (390, 844), "desktop": (1366, 900)}.items():
            for scheme in ("light", "dark"):
                path = SHOTS / f"{name}-{size}-{scheme}.png"
                page.screenshot(url, path, w, h, dark=scheme == "dark", whole=whole)
                if path.stat().st_size > 0:
                    taken.append(path.name)
    check(len(taken) == 20, f"{len(taken)} screenshots in {SHOTS.relative_to(ROOT)}/")


def check_payloads(page: Page, base: str, control: str, control_pages: dict) -> None:
    """The control pages show the payloads run when nothing stops them and that the CSP alone
    stops them; then every probe and hostile entry page, served by Tributary and again without
    its CSP, runs none of them."""
    open_ran = fired(page.goto(control + "/open.html"))
    refreshed = page.goto(control + "/refresh.html", settle=1.5)["url"].endswith("/left.html")
    check(
        len(open_ran) >= 5 and refreshed,
        f"control: with no protection {len(open_ran)} probe payloads run "
        f"({', '.join(open_ran)}) and the meta refresh navigates",
        f"refresh navigated: {refreshed}",
    )
    csp_ran = fired(page.goto(control + "/with-csp.html"))
    check(not csp_ran, "control: Tributary's CSP alone stops every one of them", ", ".join(csp_ran))

    entries = []
    for feed in ("xss-probe", "hostile"):
        listed = page.goto(f"{base}/?feed={feed}")
        check(not fired(listed), f"the {feed} stream ran no payload", ", ".join(fired(listed)))
        entries += [r["href"] for r in story_rows(listed["html"])]
    check(len(entries) == 20, f"{len(entries)} probe and hostile entries listed (11 + 9)")
    ran, active, lost, moved = [], [], [], []
    for href in entries:
        state = page.goto(base + href, settle=1.0)
        if fired(state) or MARKER in state["title"]:
            ran.append(f"{href}: {fired(state)}")
        if not state["url"].endswith(href):
            moved.append(f"{href} -> {state['url']}")
            continue
        bad = active_markup(state["html"])
        if bad:
            active.append(f"{href}: {bad}")
        content = " ".join(t for _, t in Dom(state["html"]).find("div", "content"))
        if not re.search(r"Safe text survives( probe)? \d+", content):
            lost.append(href)
        if "probe 8" in content and "<script>" not in content:
            lost.append(f"{href} (markup written as text must stay visible text)")
    check(not ran, "no payload ran on any entry page: window.__xss undefined, title unchanged",
          "; ".join(ran))
    check(not moved, "no entry page navigated away (meta refresh gone)", ", ".join(moved))
    check(not active, "no entry page holds a script, frame, handler, style or javascript: URL",
          "; ".join(active))
    check(not lost, "every entry page shows its safe text; markup written as text stays text",
          ", ".join(lost))

    # The sanitizer alone: the same pages, as Tributary rendered them, with no CSP at all.
    bare_ran, bare_moved = [], []
    for href in entries:
        control_pages["/bare" + href] = (body_of(base + href), None)
        state = page.goto(control + "/bare" + href, settle=1.0)
        if fired(state) or MARKER in state["title"]:
            bare_ran.append(f"{href}: {fired(state)}")
        if not state["url"].endswith("/bare" + href):
            bare_moved.append(href)
    check(not bare_ran and not bare_moved and len(entries) > 0,
          f"the sanitizer alone holds: the {len(entries)} entry pages served without CSP run nothing",
          "; ".join(bare_ran) + " moved: " + ", ".join(bare_moved))


def main() -> int:
    if not BINARY.is_file():
        sys.exit(f"browser test: {BINARY} is missing; run `cargo build --release` first")
    started = time.time()
    workdir = Path(tempfile.mkdtemp(prefix="tributary-browser-"))
    demo, base = start_demo(workdir)
    browser = None
    try:
        browser = Browser(chromium_binary(), workdir / "profile")
        print(f"browser test: {browser.version}; Tributary demo at {base}")
        run_checks(browser.new_page(), base)
    except Exception as e:  # a run that cannot finish is a failure with its reason
        check(False, "the browser test finished", f"{type(e).__name__}: {e}")
    finally:
        if browser:
            browser.close()
        stop(demo)
        shutil.rmtree(workdir, ignore_errors=True)
    print("\n".join(report))
    took = time.time() - started
    if failures:
        print(f"browser test: {len(failures)} check(s) failed ({took:.0f}s)")
        return 1
    print(f"browser test: all {len(report)} checks passed ({took:.0f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
