"""A page's tables as text: each row's cells (th and td), whitespace collapsed, for tests that
check what a page shows against what the API answers."""

from html.parser import HTMLParser


class _TableReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th") and self.tables:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def tables(html: str) -> list[list[list[str]]]:
    """Every table of `html`, as its rows of cell texts (the header row included)."""
    reader = _TableReader()
    reader.feed(html)
    return reader.tables


def table(html: str) -> list[list[str]]:
    """The one table of `html` (a fragment holding a single table)."""
    found = tables(html)
    assert len(found) == 1, f"{len(found)} tables"
    return found[0]
