"""Layout that never splits a number: lines flowed from whole segments, tables that fall back to stacked records."""
from __future__ import annotations

from typing import Iterable, Sequence

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text


def flow(segments: Iterable[str], width: int, *, indent: int = 0, sep: str = "  ") -> list[str]:
    """Lines of at most `width` characters made of whole `segments` (a line breaks only between segments).

    Continuation lines are indented by `indent` spaces; a segment longer than a line gets a line of its own.
    """
    lines: list[str] = []
    cur = ""
    for seg in segments:
        if not seg:
            continue
        if not cur:
            cur = (" " * indent if lines else "") + seg
        elif len(cur) + len(sep) + len(seg) <= width:
            cur += sep + seg
        else:
            lines.append(cur)
            cur = " " * indent + seg
    if cur:
        lines.append(cur)
    return lines


def emit(c: Console, segments: Iterable[str], *, indent: int = 2, style: str = "", first: str = "") -> None:
    """Print `segments` flowed to the console's width; text is printed as it is (never read as markup)."""
    segs = [first + s if i == 0 else s for i, s in enumerate(segments)] if first else list(segments)
    for line in flow(segs, c.width, indent=indent):  # a segment wider than the terminal wraps at its spaces
        c.print(Text(line, style=style), soft_wrap=len(line) <= c.width)


def say(c: Console, text: str, *, style: str = "") -> None:
    """Print prose (wrapped at spaces by the console, never read as markup)."""
    c.print(Text(text, style=style))


def _plain(cell: object) -> str:
    return cell.plain if isinstance(cell, Text) else str(cell)


def table_width(t: Table) -> int:
    """Columns `t` takes with every cell whole (each line of a cell on one line; box and padding included)."""
    total = 0
    for col in t.columns:
        lines = [ln for cell in [col.header, *col.cells] for ln in _plain(cell).split("\n")]
        total += max((cell_len(ln) for ln in lines), default=0) + 2 * (1 if t.padding else 0)
    edges = len(t.columns) + 1 if t.box is not None and t.show_edge else max(len(t.columns) - 1, 0)
    return total + edges


def print_table(c: Console, t: Table, *, wide: bool = False, key: int | None = 0) -> None:
    """Print `t` whole: as a table when it fits (or `wide`: at its natural width, past the terminal's edge), else
    each row as stacked "column value" lines (the column `key` first, as the row's heading)."""
    for col in t.columns:
        col.no_wrap = True
    need = table_width(t)
    if need <= c.width:
        c.print(t)
        return
    if wide:  # at its natural width, past the terminal's edge
        width = c.width
        c.width = need
        try:
            c.print(t, crop=False)
        finally:
            c.width = width
        return
    if t.title:
        c.print(Text(str(t.title), style="italic"), justify="center")
    headers = [_plain(col.header) for col in t.columns]
    cells = [[_plain(x) for x in col.cells] for col in t.columns]
    for r in range(t.row_count):
        row = [cells[i][r] for i in range(len(headers))]
        head = f"{headers[key]} {row[key]}".replace("\n", " ").strip() if key is not None else ""
        segs = [f"{h} {v.replace(chr(10), ' ')}" for i, (h, v) in enumerate(zip(headers, row)) if i != key and v.strip()]
        emit(c, [head, *segs] if head else segs, indent=2)


def stacked(c: Console, title: str, rows: Sequence[Sequence[str]], *, indent: int = 2) -> None:
    """A heading and one flowed line group per row of segments."""
    if title:
        say(c, title, style="bold")
    for segs in rows:
        emit(c, segs, indent=indent)
