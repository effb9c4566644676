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

When the Chinese edition is built (``<html>/zh_CN``), its pages are opened too (every check
above covers them) and, against the catalogues (``locale/`` or ``MEDLAB_LOCALE_DIR``):

- every page of _toc.yml is there, in ``lang="zh-CN"``, with its math and the English page's
  figures; its links stay in the Chinese edition except the language switch;
- the language switch: each page links to the same page of the other edition, both ways;
- CJK text is rendered with a CJK font: no glyph is drawn as the missing-glyph box (tofu) or
  as nothing, distinct characters are drawn distinctly, and Chromium names the CJK font;
- no raw MyST markup (``**``, ``{role}`...```, ``$...$``, ``:::``) in the prose, and no English
  paragraph where the catalogue has a translation (footnotes and references excepted);
- the Colab button opens the translated notebook (branch ``colab-zh_CN``, written by
  ``python -m medlab.i18n_notebooks``), and the download button gives it;
- the Chinese search finds a Chinese word. Screenshots of a Chinese chapter and of the Chinese
  glossary join the others.

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
ZH_LANG = "zh_CN"  # the Chinese edition: <html>/zh_CN, catalogues in locale/zh_CN/LC_MESSAGES
ZH = HTML / ZH_LANG
LOCALE = Path(os.environ.get("MEDLAB_LOCALE_DIR", ROOT / "locale")).resolve()
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


# The prose of the page (paragraphs, list items, titles, table cells, terms, captions) without
# code and math, and the page's language and CJK character counts.
PROSE = """() => {
  const article = document.querySelector('article.bd-article') || document.querySelector('main')
    || document.body;
  const blocks = [...article.querySelectorAll(
      'p, li, h1, h2, h3, h4, h5, h6, dt, dd, td, th, figcaption, caption')]
    .filter(el => !el.closest('pre, .cell_input, .cell_output, .highlight, aside.footnote, '
                              + '.citation, [role="doc-bibliography"]'));
  const prose = blocks.map(el => {
    const copy = el.cloneNode(true);
    copy.querySelectorAll('code, pre, .math, mjx-container, .MathJax, script, style, .headerlink')
      .forEach(x => x.remove());
    return copy.textContent.replace(/\\s+/g, ' ').trim();
  }).filter(Boolean);
  const cjk = /[\\u3400-\\u4dbf\\u4e00-\\u9fff]/g;
  return {
    lang: document.documentElement.lang || '',
    prose: prose,
    cjkArticle: (article.innerText.match(cjk) || []).length,
    cjkPage: (document.body.innerText.match(cjk) || []).length,
  };
}"""

# Each distinct CJK character of the page drawn on a canvas in the font of the prose (and of
# the titles, if theirs differs), compared with a code point no font has (drawn as the
# missing-glyph box, "tofu"): a character drawn like that, or drawn as nothing, has no font.
GLYPHS = """() => {
  const article = document.querySelector('article.bd-article') || document.body;
  const chars = [...new Set((article.innerText.match(
      /[\\u3400-\\u4dbf\\u4e00-\\u9fff\\u3000-\\u303f\\uff01-\\uff5e]/g) || []))];
  const families = [...new Set([...article.querySelectorAll('p, h1, h2, li')]
      .map(el => getComputedStyle(el).fontFamily))];
  const canvas = document.createElement('canvas');
  canvas.width = 48; canvas.height = 48;
  const g = canvas.getContext('2d', {willReadFrequently: true});
  const signature = ch => {
    g.clearRect(0, 0, 48, 48);
    g.fillText(ch, 4, 36);
    const d = g.getImageData(0, 0, 48, 48).data;
    let h = 0, n = 0;
    for (let i = 3; i < d.length; i += 4) {
      if (d[i]) { h = (h * 31 + i * d[i]) % 1000000007; n++; }
    }
    return n ? h + ':' + n : 'blank';
  };
  const result = {chars: chars.length, families: families, tofu: [], blank: [], distinct: 0};
  for (const family of families) {
    g.font = '32px ' + family;
    const missing = signature('\\u0378');  // an unassigned code point: the missing-glyph box
    const seen = new Set();
    for (const ch of chars) {
      const sig = signature(ch);
      if (sig === 'blank') result.blank.push(ch);
      else if (sig === missing) result.tofu.push(ch);
      seen.add(sig);
    }
    result.distinct = Math.max(result.distinct, seen.size);
  }
  return result;
}"""


REFRESH = re.compile(r'<meta[^>]+http-equiv="refresh"[^>]+url=([^"]+)"', re.IGNORECASE)
EMPTY = {"title": "", "errors": [], "sphinxErrors": [], "tracebackText": [], "intended": 0,
         "brokenImages": [], "nImages": 0, "nOutputFigures": 0, "nMath": 0, "untypeset": [], "mathErrors": 0,
         "mathjaxScripts": [], "widgetViews": 0, "links": [], "ids": [], "js_errors": [],
         "blocked": [], "lang": "", "prose": [], "cjkArticle": 0, "cjkPage": 0, "glyphs": None}


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
        info.update(page.evaluate(PROSE))
        info["glyphs"] = page.evaluate(GLYPHS) if rel.startswith(f"{ZH_LANG}/") else None
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


# ----------------------------------------------------------------------------- the Chinese edition
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
# MyST markup a translation broke, so that it reached the reader as text
RAW_MARKUP = {
    "bold": re.compile(r"\*\*\S|\S\*\*"),
    "role": re.compile(r"\{[a-z][\w:-]*\}`"),
    "directive fence": re.compile(r"^(:::|```)|\{(exercise|solution|figure|note|warning)\}"),
    "math": re.compile(r"\$[^$\s][^$]*\$"),
    "link": re.compile(r"\]\([^)\s]+\)"),
}
QUOTES = str.maketrans("", "", "'\"‘’“”")


def zh_rel(docname: str) -> str:
    return f"{ZH_LANG}/{docname}.html"


@pytest.fixture(scope="module")
def zh(report):
    """The Chinese pages of the report (skipped, saying why, when there is no Chinese build)."""
    if not ZH.is_dir():
        pytest.skip(f"no Chinese edition at {ZH}: build it (make book) to check it")
    return {rel: info for rel, info in report.items() if rel.startswith(f"{ZH_LANG}/")}


def catalogue(docname: str):
    """The page's zh_CN catalogue (polib), or None when the page has none."""
    import polib

    path = LOCALE / ZH_LANG / "LC_MESSAGES" / f"{docname}.po"
    return polib.pofile(str(path)) if path.exists() else None


def _normal(text: str) -> str:
    return " ".join(text.translate(QUOTES).split())


def english_probe(msgid: str) -> str | None:
    """The longest stretch of plain English words in a message (no markup, at least 4 words):
    it reads the same on the rendered page as in the source, so finding it in a Chinese page
    means the paragraph was left in English."""
    pieces = re.split(r"[`*$_{}\[\]<>|\\]|\([^)\s]*\)|https?://\S+|--|\.\.\.|\s[-–—]\s", msgid)
    pieces = [_normal(p) for p in pieces]
    pieces = [p for p in pieces if len(re.findall(r"[A-Za-z]{2,}", p)) >= 4 and len(p) >= 25]
    return max(pieces, key=len) if pieces else None


def test_chinese_pages_are_built_in_chinese(zh):
    missing = [n for n in toc_docnames() if zh_rel(n) not in zh]
    assert not missing, f"pages of _toc.yml missing from the Chinese build: {missing}"
    _fail_if({rel: info["lang"] for rel, info in zh.items()
              if info["title"] and not info["lang"].startswith("zh")},
             "Chinese pages not marked lang=zh-CN")
    _fail_if({rel: "no Chinese character on the page (theme words, navigation, text)"
              for rel, info in zh.items() if info["title"] and not info["cjkPage"]},
             "Chinese pages without Chinese")


def test_translated_pages_show_chinese_text(zh):
    """A page whose catalogue has translations shows Chinese in its article."""
    bare = {}
    for docname in toc_docnames():
        po = catalogue(docname)
        done = [e for e in po.translated_entries() if CJK.search(e.msgstr)] if po else []
        if done and not zh.get(zh_rel(docname), {}).get("cjkArticle"):
            bare[zh_rel(docname)] = f"{len(done)} messages translated, no Chinese in the article"
    _fail_if(bare, "translated pages that show no Chinese")


def test_no_english_paragraph_where_a_translation_exists(zh):
    left = {}
    for docname in toc_docnames():
        po, info = catalogue(docname), zh.get(zh_rel(docname))
        if po is None or info is None:
            continue
        page = _normal("\n".join(info["prose"]))
        blocks = {_normal(text) for text in info["prose"]}
        others = _normal(" ".join([e.msgid for e in po if not e.translated() or e.fuzzy]
                                  + [e.msgstr for e in po if e.msgstr]))
        for entry in po.translated_entries():
            probe = english_probe(entry.msgid)
            whole = _normal(entry.msgid)  # a short message, a title: the whole block in English
            if not CJK.search(entry.msgstr) or (probe or whole) in others:
                continue
            if (probe and probe in page) or (re.search(r"[A-Za-z]{3}", whole) and whole in blocks):
                left.setdefault(zh_rel(docname), []).append((probe or whole)[:80])
    _fail_if(left, "English left where the catalogue has a translation. A stale .mo (Sphinx "
                   "compiles a .po only when it is newer than its .mo)? A title whose msgstr "
                   "starts like a list ('1. ...': write '1\\\\. ...', Sphinx parses the msgstr "
                   "as markdown and drops what is not a title)? Or a msgid that no longer "
                   "matches the source (refresh the catalogues)?")


def test_no_raw_markup_in_the_chinese_prose(zh):
    found = {}
    for rel, info in zh.items():
        for text in info["prose"]:
            hits = [name for name, pattern in RAW_MARKUP.items() if pattern.search(text)]
            if hits:
                found.setdefault(rel, []).append(f"{hits}: {text[:100]}")
    _fail_if(found, "MyST markup shown as text (a translation broke it)")


def test_cjk_characters_render_with_a_font(zh):
    checked = {rel: info["glyphs"] for rel, info in zh.items() if info["glyphs"]}
    with_cjk = {rel: g for rel, g in checked.items() if g["chars"]}
    assert with_cjk, "no Chinese page shows a CJK character: the font check would prove nothing"
    _fail_if({rel: "".join(g["tofu"][:40]) for rel, g in with_cjk.items()},
             "CJK characters drawn as the missing-glyph box (install fonts-noto-cjk)")
    _fail_if({rel: "".join(g["blank"][:40]) for rel, g in with_cjk.items()},
             "CJK characters drawn as nothing")
    _fail_if({rel: f"{g['distinct']} shapes for {g['chars']} characters"
              for rel, g in with_cjk.items() if g["distinct"] < 0.9 * g["chars"]},
             "distinct CJK characters drawn alike (boxes?)")


def test_chinese_pages_have_the_math_and_figures_of_the_english_ones(zh, report):
    problems = {}
    for docname in toc_docnames():
        en, cn = report.get(f"{docname}.html"), zh.get(zh_rel(docname))
        if not en or not cn:
            continue
        if en["nMath"] and not cn["nMath"]:
            problems[zh_rel(docname)] = f"no math (the English page has {en['nMath']})"
        if cn["nOutputFigures"] != en["nOutputFigures"]:
            problems[zh_rel(docname)] = (f"{cn['nOutputFigures']} output figures, the English "
                                         f"page {en['nOutputFigures']}: not the same execution?")
    _fail_if(problems, "Chinese pages that differ from the English ones")


def test_language_switch_leads_to_the_same_page(zh, report, site):
    missing = {}
    for docname in toc_docnames():
        pairs = ((f"{docname}.html", zh_rel(docname)), (zh_rel(docname), f"{docname}.html"))
        for here, there in pairs:
            links = {urldefrag(h)[0].split("?")[0] for h in report.get(here, {}).get("links", [])}
            if here in report and site + there not in links:
                missing[here] = f"no link to {there}"
    _fail_if(missing, "pages without a language switch to the same page in the other language")


def test_chinese_links_stay_in_the_chinese_edition(zh, site):
    """Links of a Chinese page lead to Chinese pages, except its language switch."""
    strays = {}
    for rel, info in zh.items():
        english = site + rel.removeprefix(f"{ZH_LANG}/")
        for href in info["links"]:
            page = urldefrag(href)[0].split("?")[0]
            if (page.startswith(site) and not page.startswith(f"{site}{ZH_LANG}/")
                    and page not in (english, site, site + "index.html")):
                strays.setdefault(rel, set()).add(page.removeprefix(site))
    _fail_if({rel: sorted(p)[:5] for rel, p in strays.items()}, "Chinese pages linking into "
             "the English edition (other than the language switch)")


@pytest.mark.parametrize("docname", notebook_docnames())
def test_chinese_colab_and_download_give_the_translated_notebook(zh, site, docname):
    import json

    from medlab.i18n_notebooks import colab_branch

    rel = zh_rel(docname)
    assert rel in zh, f"{rel} was not built"
    links = zh[rel]["links"]
    expected = colab_url(docname).replace(
        "/blob/" + yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
        .get("branch", "main") + "/", f"/blob/{colab_branch(ZH_LANG)}/")
    colab = [h for h in links if "colab.research.google.com" in h]
    assert colab and set(colab) == {expected}, f"{rel}: Colab button {colab} != {expected}"
    downloads = [h for h in links if h.endswith(f"{ZH_LANG}/_sources/{docname}.ipynb")]
    assert downloads, f"{rel}: no download-notebook button"
    with urllib.request.urlopen(downloads[0], timeout=30) as response:
        nb = json.loads(response.read())
    source = json.loads((ROOT / f"{docname}.ipynb").read_text())
    assert [c["source"] for c in nb["cells"] if c["cell_type"] == "code"] == \
        [c["source"] for c in source["cells"] if c["cell_type"] == "code"], \
        f"{rel}: the downloaded notebook's code differs from {docname}.ipynb"
    po = catalogue(docname)
    if po is not None and any(CJK.search(e.msgstr) for e in po.translated_entries()):
        text = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
        assert CJK.search(text), (
            f"{rel}: the downloaded notebook has no Chinese text although its catalogue has "
            "translations (write it with python -m medlab.i18n_notebooks)")


def test_chinese_search_finds_a_chinese_word(zh, browser, site):
    glossary = next((n for n in toc_docnames() if n.endswith("glossary")), None)
    if glossary is None:
        pytest.skip("no glossary page")
    context = offline_context(browser, site, [])
    try:
        page = context.new_page()
        page.goto(f"{site}{ZH_LANG}/search.html?q={urllib.parse.quote('数据集')}",
                  wait_until="load")
        page.wait_for_function(
            "() => document.querySelectorAll('#search-results li, ul.search li').length > 0",
            timeout=TIMEOUT_MS)
        hits = page.eval_on_selector_all("#search-results li a, ul.search li a",
                                         "els => els.map(a => a.href)")
        assert any(zh_rel(glossary) in h for h in hits), f"search for 数据集: {hits[:5]}"
    finally:
        context.close()


def test_screenshots_of_a_chinese_chapter_and_the_glossary(zh, browser, site):
    """Screenshots to look at, and the fonts Chromium reports for a Chinese paragraph."""
    chapters = notebook_docnames()
    glossary = next((n for n in toc_docnames() if n.endswith("glossary")), None)
    targets = {name: zh_rel(doc) for name, doc in
               (("chapter_zh_CN.png", chapters[0] if chapters else None),
                ("glossary_zh_CN.png", glossary)) if doc}
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = offline_context(browser, site, [])
    try:
        for name, rel in targets.items():
            page = context.new_page()
            page.goto(site + rel, wait_until="load")
            page.evaluate(INSPECT)
            found = page.evaluate(
                "() => { const el = [...document.querySelectorAll('article p, article dd')]"
                ".find(p => /[\\u4e00-\\u9fff]{4}/.test(p.innerText));"
                " if (!el) return false; el.id = el.id || 'medlab-cjk-probe';"
                " el.scrollIntoView({block: 'start'}); window.scrollBy(0, -120); return el.id; }")
            page.screenshot(path=str(SHOTS / name))
            assert (SHOTS / name).stat().st_size > 10_000, f"{name}: screenshot looks empty"
            if not found:
                continue  # not translated yet: the glyph check above still covers its chrome
            cdp = context.new_cdp_session(page)
            cdp.send("DOM.enable")
            cdp.send("CSS.enable")
            root = cdp.send("DOM.getDocument")["root"]["nodeId"]
            node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": f"#{found}"})
            fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]})["fonts"]
            names = [f"{f['familyName']} ({f['glyphCount']})" for f in fonts]
            print(f"\n{rel}: a Chinese paragraph is drawn with {names}")
            assert any(re.search(r"CJK|Han|Hei|Song|Kai|Ming|WenQuanYi|Droid Sans Fallback|"
                                 r"Noto Sans SC|Noto Serif SC", f["familyName"], re.I)
                       for f in fonts), f"{rel}: no CJK font draws the Chinese text: {names}"
            page.close()
    finally:
        context.close()
