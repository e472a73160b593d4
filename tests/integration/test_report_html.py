"""`defirisk report` as a user runs it: one self-contained HTML file of wallets (one book), a pool, the Aave market
and a vault, opened offline in a real browser (Debian's headless Chromium, driven by Playwright's Python package
pointed at it: no browser download).

One report is written per session (the market maker's two wallets, a 50-position wallet, a pool, the market, a
vault, VaR by both methods) between a snapshot and its revert, and every test reads that file."""
from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from defirisk.api import analyze
from defirisk.cli import main
from defirisk.devnet.book_world import add_market_maker
from defirisk.devnet.uniswap_world import mint_many_positions

pytestmark = pytest.mark.anvil
SECTIONS = ("summary", "positions", "greeks", "scenarios", "var", "loans", "pools", "vaults", "warnings")
MAX_BYTES = 8 * 1024 * 1024


class _Doc(HTMLParser):
    """Every tag's attributes, the scripts' text, and the positions table's value cells."""

    def __init__(self) -> None:
        super().__init__()
        self.attrs: list[tuple[str, str, str]] = []
        self.scripts: list[tuple[dict, str]] = []
        self.ids: set[str] = set()
        self._script: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.attrs += [(tag, k, v or "") for k, v in attrs]
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "script":
            self._script = a
            self.scripts.append((a, ""))

    def handle_data(self, data):
        if self._script is not None:
            a, text = self.scripts[-1]
            self.scripts[-1] = (a, text + data)

    def handle_endtag(self, tag):
        if tag == "script":
            self._script = None


@pytest.fixture(scope="module")
def report(world, anvil, book_file, tmp_path_factory):
    """(path of the report, facts): written once, the chain reverted after it."""
    snap = world.chain.snapshot()
    try:
        mm = add_market_maker(world.chain, world)
        mint_many_positions(world.chain, world, "rt_hundred", 50)
        many = world.account("rt_hundred")
        pool = next(iter(world.facts["uniswap"]["pools"].values()))
        market = world.facts["aave_v3"]["pool_addresses_provider"]
        vault = next(iter(world.facts["options_vaults"]["vaults"].values()))["address"]
        out = tmp_path_factory.mktemp("report") / "report.html"
        code = main(["report", *mm["wallets"], many, pool, market, vault, "--rpc-url", anvil.url, "--addresses",
                     str(book_file), "--no-cache", "--var", "0.99", "--method", "both", "--paths", "2000", "--seed", "1",
                     "-o", str(out)])
        assert code == 0
        lp = analyze(many, rpc_url=anvil.url, addresses=book_file, cache=False).to_json()
        yield out, {"many": many, "many_doc": lp, "wallets": mm["wallets"]}
    finally:
        world.chain.revert(snap)


def _parse(path: Path) -> _Doc:
    return _parse_text(path.read_text(encoding="utf-8"))


def test_the_file_is_self_contained_and_small(report):
    path, _ = report
    assert path.stat().st_size < MAX_BYTES, path.stat().st_size  # Plotly's full bundle is ~4.8 MB of it
    doc = _parse(path)
    links = [(t, k, v) for t, k, v in doc.attrs if k in ("src", "href")]
    assert links and all(v.startswith("#") for _, _, v in links), links  # only the page's own anchors
    assert not [v for _, k, v in doc.attrs if re.match(r"\s*(https?:)?//", v)]
    assert not any("src" in a for a, _ in doc.scripts)  # every script inline
    assert any(len(text) > 1_000_000 and "plotly.js" in text[:300] for _, text in doc.scripts)  # the bundle itself
    assert set(SECTIONS) <= doc.ids, set(SECTIONS) - doc.ids


def test_the_figures_are_the_analysis_numbers(report):
    path, facts = report
    doc = _parse(path)
    figures = json.loads(next(text for a, text in doc.scripts if a.get("id") == "figures"))
    assert {f"chart{i}" for i in range(1, len(figures) + 1)} == set(figures) and len(figures) >= 9
    assert {"chart" + str(i) for i in range(1, len(figures) + 1)} <= doc.ids
    titles = " | ".join(f["layout"]["title"]["text"] for f in figures.values())
    for what in ("Book P&L against", "every path fully revalued", "Liquidation ladder", "depth at block",
                 "at expiry", "LP ranges", "Book Greeks"):
        assert what in titles, what
    # the positions table: each of the 50 positions with its value as the analysis computed it
    html = path.read_text(encoding="utf-8")
    short = facts["many"][:10]
    rows = re.findall(r"<tr><td>" + re.escape(short) + r"…</td><td>uniswap_v3</td><td>(\d+)</td>(.*?)</tr>", html)
    values = {tid: float(re.findall(r'<td data-v="([^"]+)" class="num">', cells)[1]) for tid, cells in rows}
    want = {p["id"]: p["value_usd"] for p in facts["many_doc"]["positions"]}
    assert len(want) == 50 and values == pytest.approx(want, rel=1e-12)


def _chromium() -> str:
    exe = shutil.which("chromium")
    if exe is None:
        pytest.skip("Debian's chromium is not installed: `apt-get install -y chromium` (scripts/bootstrap.sh does it "
                    "when run as root)")
    return exe


def test_in_a_real_browser(report, tmp_path):
    from playwright.sync_api import sync_playwright

    path, facts = report
    exe = _chromium()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            errors: list[str] = []
            requests: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(path.as_uri(), wait_until="load")
            page.wait_for_function("() => Array.from(document.querySelectorAll('.chart'))"
                                   ".every(d => d.querySelector('g.trace'))", timeout=30_000)
            charts = page.evaluate("""() => Array.from(document.querySelectorAll('.chart')).map(d => ({
                id: d.id, svg: d.querySelectorAll('svg.main-svg').length,
                marks: d.querySelectorAll('g.trace path, g.trace rect').length,
                height: d.getBoundingClientRect().height}))""")
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
            # sorting: a click on "value" orders the positions table by value, ascending then descending
            head = page.locator("#positions ~ .scroll table").first.locator("th", has_text="value").first
            head.click()
            asc = page.evaluate("""() => Array.from(document.querySelector('#positions ~ .scroll table').tBodies[0].rows)
                                   .map(r => r.cells[6].dataset.v).filter(v => v !== '').map(Number)""")
            head.click()
            desc = page.evaluate("""() => Array.from(document.querySelector('#positions ~ .scroll table').tBodies[0].rows)
                                    .map(r => r.cells[6].dataset.v).filter(v => v !== '').map(Number)""")
            page.emulate_media(media="print")
            page.pdf(path=str(tmp_path / "report.pdf"), format="A4")
        finally:
            browser.close()
    print(f"screenshot: {tmp_path / 'report.png'}")
    assert errors == []
    assert requests == [path.as_uri()]  # the file itself, nothing from the network
    assert len(charts) >= 9
    assert all(c["svg"] >= 1 and c["marks"] > 0 and c["height"] > 100 for c in charts), charts
    assert len(asc) > 50 and asc == sorted(asc) and desc == sorted(asc, reverse=True)
    shot = (tmp_path / "report.png").read_bytes()
    assert shot[:8] == b"\x89PNG\r\n\x1a\n" and len(shot) > 100_000
    assert (tmp_path / "report.pdf").read_bytes()[:5] == b"%PDF-"


def test_bad_target_is_a_clear_error(capsys):
    code = main(["report", "0x12", "-o", "/nonexistent/x.html"])
    assert code == 2 and "error" in capsys.readouterr().err


def test_answered_from_the_cache_the_page_keeps_its_charts(world, anvil, book_file, tmp_path):
    from defirisk.api import report as read_report
    from defirisk.report.html import render_report

    alice = world.account("lp_alice")
    cache = tmp_path / "c.duckdb"
    pages = []
    for _ in range(2):
        data = read_report([alice], rpc_url=anvil.url, addresses=book_file, cache=cache, var=[0.99])
        pages.append((data.book.from_cache, render_report(data.analyses, data.book)))
    (first, live), (second, cached) = pages
    assert not first and second  # the second book came from the cache: no live book, no path P&Ls
    figs = [json.loads(next(t for a, t in _parse_text(p).scripts if a.get("id") == "figures")) for p in (live, cached)]
    titles = [{f["layout"]["title"]["text"].split(" (")[0]: f for f in fs.values()} for fs in figs]
    curve = "Book P&L against a WETH move"
    assert curve in titles[0] and curve in titles[1]
    assert len(titles[0][curve]["data"][0]["x"]) == 101 and len(titles[1][curve]["data"][0]["x"]) == 11  # grid points
    assert "answered from the cache" in cached


def _parse_text(text: str) -> _Doc:
    d = _Doc()
    d.feed(text)
    return d
