"""The HTML report's page: template, styles (screen and print), the table sorter and the charts' start-up script;
everything inline, so the file opens offline and makes no network request."""
from __future__ import annotations

import json
from html import escape
from typing import Sequence

CSS = """
:root { --fg: #1d2430; --muted: #5b6675; --line: #d9dee5; --bg-alt: #f4f6f9; --warn: #9a6700; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: var(--fg);
       margin: 0 auto; max-width: 1180px; padding: 0 20px 40px; }
header { border-bottom: 2px solid var(--fg); padding: 18px 0 8px; margin-bottom: 8px; }
header h1 { margin: 0; font-size: 22px; } header .sub { color: var(--muted); }
nav a { margin-right: 12px; color: #1f5fa8; text-decoration: none; }
h2 { margin-top: 34px; border-bottom: 1px solid var(--line); padding-bottom: 4px; font-size: 18px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; }
dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; margin: 10px 0 18px; font-size: 12.5px; }
caption { text-align: left; font-weight: 600; padding: 4px 0; }
th, td { padding: 3px 8px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody tr:nth-child(even) { background: var(--bg-alt); }
table.sortable th { cursor: pointer; user-select: none; white-space: nowrap; }
table.sortable th::after { content: " \\2195"; color: #aab; font-size: 10px; }
table.sortable th[data-dir="asc"]::after { content: " \\25B2"; color: var(--fg); }
table.sortable th[data-dir="desc"]::after { content: " \\25BC"; color: var(--fg); }
.chart { width: 100%; min-height: 300px; margin: 8px 0 18px; }
p.note { color: var(--muted); font-size: 12.5px; } p.warn { color: var(--warn); }
p.warn::before { content: "\\26A0  "; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; }
@media print {
  @page { size: A4; margin: 14mm; }
  body { max-width: none; padding: 0; font-size: 10.5px; }
  nav, .modebar-container { display: none !important; }
  h2 { break-after: avoid; } table, .chart, dl.facts { break-inside: avoid; }
  .scroll { overflow: visible; } table { font-size: 8.5px; table-layout: auto; }
  th, td { white-space: normal !important; overflow-wrap: anywhere; padding: 2px 4px; }
  td.num { white-space: nowrap !important; overflow-wrap: normal; }
  table.sortable th::after { content: none !important; }
  tbody tr:nth-child(even) { background: #f4f6f9 !important; print-color-adjust: exact; }
  .chart { width: 180mm !important; }
}
"""

# Click a header to sort by that column (numbers by data-v, unknown last); again to reverse.
SORT_JS = """
document.querySelectorAll("table.sortable thead th").forEach(function (th) {
  th.addEventListener("click", function () {
    var col = th.cellIndex, table = th.closest("table"), body = table.tBodies[0], asc = th.dataset.dir !== "asc";
    th.parentNode.querySelectorAll("th").forEach(function (h) { delete h.dataset.dir; });
    th.dataset.dir = asc ? "asc" : "desc";
    function key(row) {
      var c = row.cells[col];
      if (c.dataset.v === "") return null;
      if (c.dataset.v !== undefined) { var n = parseFloat(c.dataset.v); return isNaN(n) ? c.dataset.v : n; }
      return c.textContent;
    }
    Array.prototype.slice.call(body.rows).map(function (r) { return [key(r), r]; }).sort(function (a, b) {
      if (a[0] === null || b[0] === null) return (a[0] === null) - (b[0] === null);
      var d = (typeof a[0] === "number" && typeof b[0] === "number") ? a[0] - b[0] : String(a[0]).localeCompare(String(b[0]));
      return asc ? d : -d;
    }).forEach(function (p) { body.appendChild(p[1]); });
  });
});
"""

# Draw every chart; print at the paper's width, then give the charts back their screen size.
CHARTS_JS = """
var FIGURES = JSON.parse(document.getElementById("figures").textContent);
Object.keys(FIGURES).forEach(function (id) {
  var f = FIGURES[id];
  Plotly.newPlot(id, f.data, f.layout, {displaylogo: false, responsive: true});
});
window.addEventListener("beforeprint", function () {
  Object.keys(FIGURES).forEach(function (id) { Plotly.relayout(id, {width: 680}); });
});
window.addEventListener("afterprint", function () {
  Object.keys(FIGURES).forEach(function (id) { Plotly.relayout(id, {width: null, autosize: true}); });
});
"""


def figures_json(figures: dict[str, dict]) -> str:
    """The charts as JSON safe inside a <script> element (no NaN: unknown values are null)."""
    return json.dumps(figures, allow_nan=False, separators=(",", ":")).replace("</", "<\\/")


def _script_safe(js: str) -> str:
    """JS text that cannot end its <script> element early."""
    return js.replace("</script", "<\\/script")


def page(title: str, subtitle: str, nav: Sequence[tuple[str, str]], body: str, figures: dict[str, dict],
         plotly_js: str) -> str:
    """The whole document: `body` (HTML of the sections), `figures` (chart id -> Plotly figure spec) and Plotly's
    bundle, all inline."""
    links = " ".join(f'<a href="#{escape(a)}">{escape(t)}</a>' for a, t in nav)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{escape(title)}</h1><div class=\"sub\">{escape(subtitle)}</div><nav>{links}</nav></header>"
        f"<main>{body}</main>"
        "<footer>Written by defirisk: every figure read at the block above. Charts are interactive (hover for values, "
        "drag to zoom, double-click to reset); the file is self-contained and works offline.</footer>"
        f"<script type=\"application/json\" id=\"figures\">{figures_json(figures)}</script>"
        f"<script>{_script_safe(plotly_js)}</script>"
        f"<script>{SORT_JS}{CHARTS_JS}</script></body></html>\n"
    )
