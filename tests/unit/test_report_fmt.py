"""The number formatter and the layout helpers of the text report: what a person reads."""
from __future__ import annotations

import re

import pytest
from rich.console import Console
from rich.table import Table

from defirisk.report.fmt import amount, fmt_num, no_neg_zero, pct, plural, usd
from defirisk.report.layout import emit, flow, print_table


@pytest.mark.parametrize("x, text", [
    (123456.0, "123,456"), (1.2345e5, "123,450"), (6.99517881, "6.995"), (0.000123456, "0.0001235"),
    (2140522.6193, "2,140,523"), (1e21, "1,000,000,000,000,000,000,000"), (0, "0"), (-0.0, "0"), (-1e-30, "-0.000000000000000000000000000001"),
    (None, "—"), (float("nan"), "—"), (float("inf"), "—"),
])
def test_amount_reads_without_exponent(x, text):
    assert amount(x) == text
    assert "e+" not in amount(x) and "e-" not in amount(x)


def test_amount_never_scientific_over_a_wide_range():
    for k in range(-12, 25):
        for m in (1.0, 1.234567, 9.99999):
            s = amount(m * 10.0 ** k)
            assert not re.search(r"\de[+-]?\d", s), s


@pytest.mark.parametrize("s, out", [("-0", "0"), ("-0.00", "0.00"), ("-$0.00", "$0.00"), ("-0%", "0%"), ("-0.5", "-0.5"),
                                    ("-0.001", "-0.001"), ("-10", "-10"), ("-0.00%", "0.00%")])
def test_negative_zero_loses_its_sign(s, out):
    assert no_neg_zero(s) == out


def test_formatters_never_print_minus_zero():
    assert fmt_num(-0.0001, ",.2f") == "0.00"
    assert fmt_num(-0.0, ".0%") == "0%"
    assert usd(-0.001) == "$0.00" and usd(-213.2) == "-$213.20" and usd(-1559.7) == "-$1,560"
    assert pct(-1e-9) == "0.00%" and pct(0.0349) == "+3.49%" and pct(-0.035) == "-3.50%"


def test_plural():
    assert plural(1, "day") == "1 day" and plural(1.0, "day") == "1 day"
    assert plural(7, "day") == "7 days" and plural(0.5, "day") == "0.5 days"


def test_flow_breaks_only_between_segments():
    segs = ["value $1,020,201", "range 2,940–3,063 USDC per WETH", "price 3,122", "OUT OF RANGE (price above)",
            "delta 163.4 WETH ($510,101)"]
    for width in (36, 40, 60, 80):
        lines = flow(segs, width, indent=2)
        assert all(len(line) <= width for line in lines)
        assert " ".join(" ".join(lines).split()) == " ".join(" ".join(segs).split())
        for seg in segs:  # every segment whole on one line
            assert any(seg in line for line in lines)


def _capture(width: int, fn) -> str:
    c = Console(width=width, record=True, file=open("/dev/null", "w"), color_system=None)
    fn(c)
    return c.export_text()


def test_text_from_the_chain_is_not_read_as_markup():
    out = _capture(80, lambda c: emit(c, ["Wallet 0xabc", "[cached]", "[bold]token[/]"]))
    assert "[cached]" in out and "[bold]token[/]" in out


def test_table_too_wide_becomes_stacked_records_with_whole_numbers():
    t = Table(title="t")
    for col in ("name", *[f"column {i}" for i in range(10)]):
        t.add_column(col)
    t.add_row("row one", *[f"{123456.789 * (i + 1):,.2f}" for i in range(10)])
    out = _capture(80, lambda c: print_table(c, t))
    assert all(len(line) <= 80 for line in out.splitlines())
    for i in range(10):
        assert f"column {i} {123456.789 * (i + 1):,.2f}" in out.replace("\n  ", "  ")
    assert "…" not in out
    wide = _capture(80, lambda c: print_table(c, t, wide=True))
    assert "1,234,567.89" in wide and "…" not in wide and max(len(x) for x in wide.splitlines()) > 80


def test_usd_short_moves_up_a_unit_when_rounding_reaches_a_thousand():
    from defirisk.report.fmt import usd_short

    assert usd_short(999_999.6) == "$1.00M" and usd_short(-999_999.7) == "-$1.00M"  # was "$1,000k"
    assert usd_short(999_499) == "$999k" and usd_short(100_000) == "$100k"
    assert usd_short(999_999_999.9) == "$1.00B" and usd_short(12.3e9) == "$12.3B"
