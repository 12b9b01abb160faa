"""Downloads as CSV: rows streamed as they are written, each text cell safe to open in a
spreadsheet."""

import csv
import io
from collections.abc import Iterable, Iterator

from fastapi.responses import StreamingResponse

# A cell starting with one of these is run as a formula by spreadsheets (OWASP: CSV injection):
# a template named "=HYPERLINK(...)" must open as the text it is.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell: object) -> object:
    """Text that a spreadsheet would take for a formula, with an apostrophe before it (shown
    as text); anything else unchanged."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def csv_lines(rows: Iterable[Iterable[object]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180
    for row in rows:
        writer.writerow([spreadsheet_safe(cell) for cell in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def csv_download(rows: Iterable[Iterable[object]], filename: str) -> StreamingResponse:
    """`rows` as a CSV attachment named `filename` (letters, digits, dots and dashes)."""
    return StreamingResponse(
        csv_lines(rows),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",  # a tenant's figures: no shared cache keeps them
            "X-Content-Type-Options": "nosniff",
        },
    )
