"""The rendered book in a real browser: headless Chromium opens every page of the built HTML.

The built book (``book/_build/html``, or ``MEDLAB_HTML_DIR``) is served on 127.0.0.1 by a
thread HTTP server; Debian's Chromium (``MEDLAB_CHROMIUM`` or ``chromium`` on PATH), driven by
Playwright's Python package with that system browser (``playwright install`` is never needed),
opens every page **with the network cut off**: any request that leaves 127.0.0.1 is blocked
and recorded, so the pages are checked as a reader on a train or behind a hospital firewall
sees them. Each page is loaded once; the tests below check what was seen:

- every page loads (HTTP 200) without a JavaScript error;
- no Python traceback or stderr output, except in cells tagged ``raises-exception`` (the book
  theme marks such a cell with the class ``tag_raises-exception``), and no Sphinx error text;
- every image has loaded (``naturalWidth > 0``);
- math is typeset by the book's own MathJax (every ``.math`` element holds an ``mjx-container``);
- widget cells show their static fallback (no widget view that needs a CDN script);
- every same-site link answers HTTP 200, and its ``#fragment`` exists on the target page;
- notebook pages have the Colab button (pointing at ``_config.yml``'s repository) and the
  download-notebook link; the search page finds a word.
Screenshots of the introduction and of the first chapter go to ``<html>/../screenshots``.

Without a built book, or without Chromium or Playwright, the tests are skipped and say why.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import threading
import urllib.error
import urllib.parse
import urllib.request
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urldefrag, urlparse

import pytest
import yaml

from medlab.bench import toc_files, toc_notebooks

ROOT = Path(__file__).resolve().parents[2]
HTML = Path(os.environ.get("MEDLAB_HTML_DIR", ROOT / "book" / "_build" / "html")).resolve()
SHOTS = HTML.parent / "screenshots"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage"]
SKIP_DIRS = {"_static", "_sources", "_images", "_sphinx_design_static", "_panels_static"}
TIMEOUT_MS = 60_000


# ----------------------------------------------------------------------------- what to expect
def toc_docnames() -> list[str]:
    """Every page of _toc.yml (the root first) as a docname, in reading order."""
    return toc_files(ROOT)


def notebook_docnames() -> list[str]:
    return [p.relative_to(ROOT).with_suffix("").as_posix() for p in toc_notebooks(ROOT)]


def colab_url(docname: str) -> str:
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    repo = config["repository"]["url"].rstrip("/").split("github.com/")[1]
    branch = config["repository"].get("branch", "main")
    prefix = config["repository"].get("path_to_book", "").strip("/")
    path = f"{prefix}/{docname}.ipynb" if prefix else f"{docname}.ipynb"
    return f"{config['launch_buttons']['colab_url'].strip('/')}/github/{repo}/blob/{branch}/{path}"


def html_pages() -> list[str]:
    """Every HTML page of the build, as paths relative to the html directory."""
    return sorted(p.relative_to(HTML).as_posix() for p in HTML.rglob("*.html")
                  if not SKIP_DIRS & set(p.relative_to(HTML).parts))


# ----------------------------------------------------------------------------- fixtures
class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture(scope="module")
def site():
    """Base URL of the built book, served from a thread on a free port of 127.0.0.1."""
    if not (HTML / "index.html").exists():
        pytest.skip(f"no built book at {HTML}: run `make book` (or set MEDLAB_HTML_DIR)")
    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 functools.partial(_QuietHandler, directory=str(HTML)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def find_chromium() -> str | None:
    for candidate in (os.environ.get("MEDLAB_CHROMIUM"), shutil.which("chromium"),
                      shutil.which("chromium-browser"), "/usr/bin/chromium"):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@pytest.fixture(scope="module")
def browser(site):
    executable = find_chromium()
    if executable is None:
        reason = ("Chromium not found (install Debian's `chromium`, or set MEDLAB_CHROMIUM): "
                  "the rendered book was NOT checked in a browser")
        print(f"\n{reason}")
        pytest.skip(reason)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = "the Python package `playwright` is missing (pip install playwright)"
        print(f"\n{reason}")
        pytest.skip(reason)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


def offline_context(browser, site, blocked: list):
    """A browser context in which every request that leaves the local server fails."""
    context = browser.new_context(viewport={"width": 1280, "height": 1600})
    context.set_default_timeout(TIMEOUT_MS)
    origin = urlparse(site).netloc

    def route(r):
        url = r.request.url
        if urlparse(url).scheme in ("data", "blob") or urlparse(url).netloc == origin:
            r.continue_()
        else:
            blocked.append(url)
            r.abort("internetdisconnected")

    context.route("**/*", route)
    return context


# What the page reports about itself, after images have loaded and MathJax has finished.
INSPECT = """async () => {
  const imgs = [...document.images];
  imgs.forEach(img => { img.loading = 'eager'; });
  await Promise.all(imgs.map(img => img.complete ? null : new Promise(done => {
      img.addEventListener('load', done); img.addEventListener('error', done);
      setTimeout(done, 10000); })));
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  const text = el => (el.innerText || '').trim().slice(0, 300);
  const inTaggedCell = el => !!el.closest('.tag_raises-exception');
  const errors = [...document.querySelectorAll(
      '.output.traceback, .output.stderr, .output.error, .stderr, .traceback')]
    .filter(el => !inTaggedCell(el)).map(text);
  const sphinxErrors = [...document.querySelectorAll('.system-message, .problematic')].map(text);
  const maths = [...document.querySelectorAll('.math')];
  const scripts = [...document.querySelectorAll('script[src]')].map(s => s.src);
  return {
    title: document.title,
    errors: errors,
    sphinxErrors: sphinxErrors,
    tracebackText: [...document.querySelectorAll('.output, .cell_output')]
      .filter(el => !inTaggedCell(el) && /Traceback \\(most recent call last\\)/.test(el.innerText))
      .map(text),
    intended: document.querySelectorAll('.tag_raises-exception').length,
    brokenImages: imgs.filter(img => !(img.complete && img.naturalWidth > 0))
      .map(img => img.currentSrc || img.src),
    nImages: imgs.length,
    nOutputFigures: document.querySelectorAll('.cell_output img').length,
    nMath: maths.length,
    untypeset: maths.filter(m => !m.querySelector('mjx-container')).map(text),
    mathErrors: document.querySelectorAll('mjx-merror').length,
    mathjaxScripts: scripts.filter(s => /mathjax/i.test(s)),
    widgetViews: document.querySelectorAll(
      'script[type="application/vnd.jupyter.widget-view+json"]').length,
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    ids: [...document.querySelectorAll('[id], a[name]')].map(el => el.id || el.name),
  };
}"""


REFRESH = re.compile(r'<meta[^>]+http-equiv="refresh"[^>]+url=([^"]+)"', re.IGNORECASE)
EMPTY = {"title": "", "errors": [], "sphinxErrors": [], "tracebackText": [], "intended": 0,
         "brokenImages": [], "nImages": 0, "nOutputFigures": 0, "nMath": 0, "untypeset": [], "mathErrors": 0,
         "mathjaxScripts": [], "widgetViews": 0, "links": [], "ids": [], "js_errors": [],
         "blocked": []}


@pytest.fixture(scope="module")
def report(browser, site):
    """Open every page once (network cut off) and record what each shows."""
    pages = html_pages()
    assert pages, f"{HTML} holds no HTML pages"
    blocked: list[str] = []
    context = offline_context(browser, site, blocked)
    seen = {}
    for rel in pages:
        redirect = REFRESH.search((HTML / rel).read_text(encoding="utf-8", errors="replace"))
        if redirect:  # index.html: a bare redirect to the root page, checked as a link
            target = urllib.parse.urljoin(site + rel, redirect.group(1).strip())
            with urllib.request.urlopen(site + rel, timeout=30) as response:
                status = response.status
            seen[rel] = {**EMPTY, "status": status, "links": [target], "url": site + rel}
            continue
        page = context.new_page()
        js_errors: list[str] = []
        page.on("pageerror", lambda exc, sink=js_errors: sink.append(str(exc)))
        before = len(blocked)
        response = page.goto(site + rel, wait_until="load")
        info = page.evaluate(INSPECT)
        info["status"] = response.status if response else None
        info["js_errors"] = js_errors
        info["blocked"] = blocked[before:]
        info["url"] = page.url
        seen[rel] = info
        page.close()
    context.close()
    return seen


def _fail_if(problems: dict, what: str):
    problems = {k: v for k, v in problems.items() if v}
    assert not problems, f"{what}:\n" + "\n".join(f"  {k}: {v}" for k, v in problems.items())


# ----------------------------------------------------------------------------- the checks
# JavaScript errors known to be harmless, with the reason. Anything else fails the test.
KNOWN_JS_ERRORS = {
    # sphinx-thebe 0.3.1 under Sphinx 7.4 puts its one-line config script on every page twice;
    # the second copy cannot redeclare the constant, the first already defined it. Thebe (live
    # code in the page) is off in this book, so nothing depends on it.
    "Identifier 'THEBE_JS_URL' has already been declared",
}


def test_every_page_loads_without_javascript_errors(report):
    _fail_if({rel: info["status"] for rel, info in report.items() if info["status"] != 200},
             "pages that did not load")
    _fail_if({rel: [e for e in info["js_errors"] if e not in KNOWN_JS_ERRORS]
              for rel, info in report.items()}, "JavaScript errors")


def test_every_toc_page_was_built(report):
    missing = [n for n in toc_docnames() if f"{n}.html" not in report]
    assert not missing, f"pages of _toc.yml missing from the build: {missing}"


def test_no_python_traceback_or_error_output(report):
    _fail_if({rel: sorted(set(info["errors"] + info["tracebackText"]))
              for rel, info in report.items()},
             "pages with error output (tag the cell raises-exception if the error is meant)")
    _fail_if({rel: info["sphinxErrors"] for rel, info in report.items()},
             "pages with Sphinx error messages")


def test_every_image_loads(report):
    _fail_if({rel: info["brokenImages"] for rel, info in report.items()}, "images that did not load")


def test_math_is_typeset_offline(report):
    with_math = {rel: info for rel, info in report.items() if info["nMath"]}
    assert with_math, "no page has math: the MathJax check would prove nothing"
    _fail_if({rel: info["untypeset"] for rel, info in with_math.items()}, "math left untypeset")
    _fail_if({rel: info["mathErrors"] for rel, info in with_math.items()}, "MathJax errors")
    for rel, info in with_math.items():
        assert info["mathjaxScripts"], f"{rel}: has math but loads no MathJax"
        assert all(s.startswith("http://127.0.0.1") for s in info["mathjaxScripts"]), (
            f"{rel}: MathJax is not served by the book: {info['mathjaxScripts']}")


def test_pages_need_nothing_from_the_network(report):
    _fail_if({rel: sorted(set(info["blocked"])) for rel, info in report.items()},
             "requests that left the book (they fail for a reader offline)")


def test_widgets_show_their_static_fallback(report):
    _fail_if({rel: info["widgetViews"] for rel, info in report.items()},
             "live widget views (empty without their CDN scripts; build with "
             "MEDLAB_STATIC_WIDGETS=1)")


def test_internal_links_resolve(report, site):
    targets: dict[str, set[str]] = {}
    for rel, info in report.items():
        for href in info["links"]:
            if href.startswith(site):
                targets.setdefault(href, set()).add(rel)
    assert targets, "no internal links at all"
    bad = {}
    for href in sorted({urldefrag(h)[0] for h in targets}):
        try:
            with urllib.request.urlopen(href, timeout=30) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        if status != 200:
            bad[href] = f"HTTP {status}, linked from {sorted(targets.get(href, []))[:3]}"
    _fail_if(bad, "internal links that do not resolve")
    ids = {site + rel: set(info["ids"]) for rel, info in report.items()}
    missing = {}
    for href, sources in targets.items():
        page, fragment = urldefrag(href)
        if fragment and page in ids and urllib.parse.unquote(fragment) not in ids[page]:
            missing[href] = f"no element with this id; linked from {sorted(sources)[:3]}"
    _fail_if(missing, "links to anchors that do not exist")


@pytest.mark.parametrize("docname", notebook_docnames())
def test_notebook_pages_have_colab_and_download_buttons(report, docname):
    rel = f"{docname}.html"
    assert rel in report, f"{rel} was not built"
    links = report[rel]["links"]
    colab = [h for h in links if "colab.research.google.com" in h]
    assert colab == [colab_url(docname)] * len(colab) and colab, (
        f"{rel}: Colab button {colab} != {colab_url(docname)}")
    downloads = [h for h in links if h.endswith(f"_sources/{docname}.ipynb")]
    assert downloads, f"{rel}: no download-notebook button"


@pytest.mark.parametrize("docname", notebook_docnames())
def test_notebook_pages_show_their_figures(report, docname):
    """Every chapter draws figures; a page without any means the kernel drew them nowhere
    (for example a kernel started with MPLBACKEND=Agg)."""
    rel = f"{docname}.html"
    assert rel in report, f"{rel} was not built"
    assert report[rel]["nOutputFigures"] > 0, f"{rel}: no figure in any cell output"


def test_search_finds_words(browser, site):
    """The search page finds a word of the introduction, and a Chinese glossary term."""
    queries = {"Colab": f"{toc_docnames()[0]}.html"}
    glossary = next((n for n in toc_docnames() if n.endswith("glossary")), None)
    if glossary:
        queries["数据集"] = f"{glossary}.html"  # "dataset": English and Chinese both searchable
    blocked: list[str] = []
    context = offline_context(browser, site, blocked)
    page = context.new_page()
    try:
        for word, expected in queries.items():
            page.goto(f"{site}search.html?q={urllib.parse.quote(word)}", wait_until="load")
            # Sphinx adds hits one by one, then writes a summary ("Search finished, found
            # N pages..."): wait for the summary, so that every hit is on the page
            page.wait_for_function(
                "() => document.querySelectorAll('#search-results li, ul.search li').length > 0"
                " && [...document.querySelectorAll('.search-summary, #search-results p')]"
                ".some(p => /\\d/.test(p.innerText))",
                timeout=TIMEOUT_MS)
            hits = page.eval_on_selector_all("#search-results li a, ul.search li a",
                                             "els => els.map(a => a.href)")
            assert any(expected in h for h in hits), f"search for {word!r}: {hits[:5]}"
    finally:
        context.close()


def test_screenshots_of_intro_and_a_chapter(browser, site):
    chapters = notebook_docnames()
    targets = {"intro.png": f"{toc_docnames()[0]}.html"}
    if chapters:
        targets["chapter.png"] = f"{chapters[0]}.html"
    SHOTS.mkdir(parents=True, exist_ok=True)
    blocked: list[str] = []
    context = offline_context(browser, site, blocked)
    try:
        for name, rel in targets.items():
            page = context.new_page()
            page.goto(site + rel, wait_until="load")
            page.evaluate(INSPECT)  # images and math ready
            if name == "chapter.png":  # scroll to the first typeset formula, if any
                page.evaluate("() => { const m = document.querySelector('div.math')"
                              " || document.querySelector('.math');"
                              " if (m) m.scrollIntoView({block: 'center'}); }")
            page.screenshot(path=str(SHOTS / name))
            assert (SHOTS / name).stat().st_size > 10_000, f"{name}: screenshot looks empty"
    finally:
        context.close()
