"""Reading an uploaded sheet (any common encoding, bounded before parsing) and keeping its
parsed copy; the template and the batch's files are in importer.files."""

import csv
import io
import json
import os
import re
import zipfile
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from xml.etree import ElementTree

from charset_normalizer import from_bytes
from python_calamine import CalamineWorkbook

from app.models import (
    ImportBatch,
)
from app.services.importer.files import file_path, parsed_path

MAX_ROWS = 50_000
MAX_BYTES = 20 * 1024 * 1024
# What a sheet may expand to, checked before it is parsed: a small file can declare or
# compress a huge grid (one cell at row 20,000, column 1,000 is 20 million empty cells).
MAX_COLUMNS = 200
MAX_CELLS = 2_000_000  # rows × columns of the grid as read
MAX_UNPACKED = 100 * 1024 * 1024  # bytes of XML inside an .xlsx
# Text, checked before parsing too: a long string repeated compresses to almost nothing
# (3,000 cells of 30,000 characters zip to 100 KB and parse to 90 million characters).
MAX_CELL_TEXT = 5_000  # characters in one cell (the longest thing kept, a note, fits)
MAX_TEXT = 5_000_000  # characters in a sheet (100 for each of 50,000 rows), or shared strings
_RUN_GUARD = 1 << 20  # bytes of text without a tag: refused before anything buffers more
ENCODINGS = ("utf-8-sig", "cp950", "gb18030")  # UTF-8 (with or without BOM), Big5, GB18030
PREVIEW_ROWS = 20
CHUNK = 500


# Targets a column can map to, besides "field:<id>" (custom fields) and "date:<label>".
class ImportProblem(ValueError):
    """A problem with the file as a whole (unreadable, empty, too big)."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(code)
        self.code = code
        self.detail = detail


# ---- reading ------------------------------------------------------------------------------


@dataclass
class Sheet:
    header: list[str]
    rows: list[list[str]]
    encoding: str | None = None
    above: list[list[str]] = field(default_factory=list)  # rows above the header: not imported

    def with_header(self, index: int) -> "Sheet":
        """The same sheet read with its non-blank row `index` (0: the first) as the header."""
        table = [*self.above, self.header, *self.rows]
        index = max(0, min(index, len(table) - 1))
        return Sheet(table[index], table[index + 1 :], self.encoding, table[:index])


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return (
            value.date().isoformat()
            if value.time() == datetime.min.time()
            else value.isoformat(" ")
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def decode(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """The text and the encoding that read it: the one asked for; else UTF-8 if it fits;
    else Big5 or GB18030, whichever reads as sensible text (both accept most byte strings,
    so charset-normalizer judges which decoding is not gibberish)."""
    if encoding:
        try:
            return data.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError):
            raise ImportProblem("encoding") from None
    try:
        return data.decode("utf-8-sig"), "utf-8-sig"
    except UnicodeDecodeError:
        pass
    best = from_bytes(data, cp_isolation=["cp950", "gb18030"]).best()
    if best is None:
        raise ImportProblem("encoding")
    chosen = "gb18030" if best.encoding == "gb18030" else "cp950"
    try:
        return data.decode(chosen), chosen
    except UnicodeDecodeError:
        raise ImportProblem("encoding") from None


_CELL_REF = re.compile(rb"<(?:\w+:)?c\b[^>]*?\br=\"([A-Z]{1,3})([0-9]{1,7})\"")
_ROW_REF = re.compile(rb"<(?:\w+:)?row\b[^>]*?\br=\"([0-9]{1,7})\"")
_CELL_TAG = re.compile(rb"<(?:\w+:)?c[\s>/]")
# A cell whose value is an index into the shared-strings table (from its t="s" on: a
# pattern that starts with a literal is found much faster).
_SHARED_CELL = re.compile(rb"t=[\"']s[\"'][^>]{0,400}>\s*<(?:\w+:)?v>\s*([0-9]{1,10})\s*<")
_VALUE_TAG = re.compile(rb"</?(?:\w+:)?v[\s>]")
_TAG = re.compile(rb"<[^>]*>")
_CONTINUATION = bytes(range(0x80, 0xC0))  # UTF-8 bytes that do not start a character


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + (letter - 64)
    return number


def column_letters(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _characters(text: bytes) -> int:
    return len(text.translate(None, _CONTINUATION))


def _cell_before(window: bytes, position: int) -> str:
    """The reference (B7) of the cell that holds `position`, for the message."""
    found = _CELL_REF.findall(window, max(0, position - 1000), position)
    return (found[-1][0] + found[-1][1]).decode() if found else ""


def _shared_string_lengths(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> array:
    """The length of every string in the shared-strings table, read by streaming it, with
    all of them together at most MAX_TEXT; up to the first one longer than MAX_CELL_TEXT
    (the sheets' scan then refuses the cell that names it)."""
    lengths = array("I")
    total = 0
    with archive.open(member) as stream:
        for element in _shared_strings(stream):
            length = _string_length(element)
            lengths.append(min(length, 0xFFFFFFFF))
            if length > MAX_CELL_TEXT:
                return lengths  # refused: the sheet's scan looks for the cell naming it
            total += length
            if total > MAX_TEXT:
                raise ImportProblem("too-much-text", f"{MAX_TEXT:,}")
    return lengths


def _shared_strings(stream) -> Iterator[ElementTree.Element]:
    """Each string (<si>) of the shared-strings XML as its end is read, streamed: no
    DOCTYPE, text runs bounded before the parser buffers them, strings already given
    not kept."""
    parser = ElementTree.XMLPullParser(events=("start", "end"))
    root = None
    run = 0
    while chunk := stream.read(1 << 16):
        if root is None and b"<!DOCTYPE" in chunk.upper():
            raise ImportProblem("unreadable", "DOCTYPE")  # no spreadsheet has one
        run = _text_run_after(run, chunk)
        parser.feed(chunk)
        for event, element in parser.read_events():
            if root is None:
                root = element
            if event == "end" and _local(element.tag) == "si":
                yield element
        if root is not None:
            root.clear()  # strings already measured are not kept
    parser.close()


def _text_run_after(run: int, chunk: bytes) -> int:
    """The parser would buffer a text run whole: refuses one past _RUN_GUARD bytes, given
    the run `chunk` continues; returns the run it leaves open at its end."""
    tag = chunk.find(b"<")
    if tag < 0:
        run += len(chunk)
        longest = run
    else:
        trailing = len(chunk) - chunk.rfind(b"<") - 1
        longest = max(run + tag, trailing)
        run = trailing
    if longest > _RUN_GUARD:
        raise ImportProblem("cell-too-long", f"{MAX_CELL_TEXT:,}")
    return run


def _string_length(element: ElementTree.Element) -> int:
    """The characters a shared string shows: plain text, or rich-text runs; phonetic
    guides (rPh) are not shown."""
    length = 0
    for part in element:
        if _local(part.tag) == "t":
            length += len(part.text or "")
        elif _local(part.tag) == "r":
            length += sum(len(t.text or "") for t in part if _local(t.tag) == "t")
    return length


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def check_xlsx_extent(data: bytes) -> None:
    """Refuses an .xlsx whose contents would expand past the limits, without parsing it:
    the zip's real (not declared) unpacked size, the shared strings' lengths, and every
    worksheet's furthest cell, number of cells and text, read by streaming its XML."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise ImportProblem("unreadable", str(error)[:200]) from None
    if sum(member.file_size for member in members) > MAX_UNPACKED:
        raise ImportProblem("too-big-unpacked")
    unpacked = 0
    lengths = array("L")
    try:
        for member in members:
            if member.filename.lower() == "xl/sharedstrings.xml":
                unpacked += member.file_size  # the declared size was checked above
                lengths = _shared_string_lengths(archive, member)
        for member in members:
            name = member.filename
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                unpacked = _check_worksheet(archive, member, lengths, unpacked)
    except ImportProblem:
        raise
    except Exception as error:  # noqa: BLE001 - zlib.error, ParseError and friends
        raise ImportProblem("unreadable", str(error)[:200]) from None
    if lengths and lengths[-1] > MAX_CELL_TEXT:  # a string no cell uses: still read
        raise ImportProblem("cell-too-long", f"{MAX_CELL_TEXT:,}")


def _check_worksheet(
    archive: zipfile.ZipFile, member: zipfile.ZipInfo, lengths: array, unpacked: int
) -> int:
    """Streams one worksheet's XML: its extent, and the text its cells would hold (their
    own text plus the shared strings they name). Returns the bytes unpacked so far."""
    rows = columns = cells = text = 0
    tail = carry = b""
    with archive.open(member) as stream:
        while True:
            chunk = stream.read(1 << 20)
            unpacked += len(chunk)
            if unpacked > MAX_UNPACKED:
                raise ImportProblem("too-big-unpacked")
            window = carry + chunk
            cut = _whole_part(window) if chunk else len(window)
            part, carry = window[:cut], window[cut:]
            if len(carry) > _RUN_GUARD:
                where = _cell_before(tail + window, len(tail) + cut)
                raise ImportProblem("cell-too-long", f"{MAX_CELL_TEXT:,}|{where}")
            for letters, number in _CELL_REF.findall(part):
                columns = max(columns, _column_number(letters))
                rows = max(rows, int(number))
            for number in _ROW_REF.findall(part):
                rows = max(rows, int(number))
            cells += len(_CELL_TAG.findall(part))
            scan = tail + part  # the cell a long text belongs to may have begun before
            _check_text_runs(scan, len(tail))
            text += _characters(_TAG.sub(b"", part)) + _shared_text(scan, len(tail), lengths)
            tail = scan[-1000:]
            if text > MAX_TEXT:
                raise ImportProblem("too-much-text", f"{MAX_TEXT:,}")
            if not chunk:
                break
    _check_extent(rows, columns, cells)
    return unpacked


def _whole_part(window: bytes) -> int:
    """Where to cut what was read so far: before the last "<", so tags and text runs are
    whole; and before a cell's value tag (<v>, </v>), so a shared-string cell is whole."""
    cut = window.rfind(b"<")
    for _step in range(2):
        if cut <= 0 or not _VALUE_TAG.match(window, cut):
            break
        cut = window.rfind(b"<", 0, cut)
    return max(0, cut)


def _shared_text(scan: bytes, start: int, lengths: array) -> int:
    """The characters of the shared strings the cells in scan[start:] name; refuses a cell
    that names one longer than MAX_CELL_TEXT."""
    found = _SHARED_CELL.findall(scan, start)
    if not found:
        return 0
    count = len(lengths)
    sizes = [lengths[index] if index < count else 0 for index in map(int, found)]
    if max(sizes) > MAX_CELL_TEXT:
        for shared in _SHARED_CELL.finditer(scan, start):
            index = int(shared.group(1))
            if index < count and lengths[index] > MAX_CELL_TEXT:
                where = _cell_before(scan, shared.end())
                raise ImportProblem("cell-too-long", f"{MAX_CELL_TEXT:,}|{where}")
    return sum(sizes)


def _check_text_runs(scan: bytes, start: int) -> None:
    """Refuses a cell whose own text (between two tags) passes MAX_CELL_TEXT."""
    pieces = scan[start:].split(b"<")
    if max(map(len, pieces)) <= MAX_CELL_TEXT:
        return  # the usual case, decided without a loop in Python
    offset = start
    for piece in pieces:
        if len(piece) > MAX_CELL_TEXT:
            text = piece.partition(b">")[2]
            if len(text.decode("utf-8", "replace")) > MAX_CELL_TEXT:
                where = _cell_before(scan, offset)
                raise ImportProblem("cell-too-long", f"{MAX_CELL_TEXT:,}|{where}")
        offset += len(piece) + 1


def _check_extent(rows: int, columns: int, cells: int = 0) -> None:
    if rows > MAX_ROWS + 1:
        raise ImportProblem("too-many", str(MAX_ROWS))
    if columns > MAX_COLUMNS:
        raise ImportProblem("too-wide", str(MAX_COLUMNS))
    if rows * columns > MAX_CELLS or cells > MAX_CELLS:
        raise ImportProblem("too-many-cells", f"{MAX_CELLS:,}")


def _check_csv_extent(text: str, delimiter: str) -> None:
    """Lines and delimiters counted before the csv module builds any row."""
    rows = widest = 0
    for line in io.StringIO(text):
        rows += 1
        widest = max(widest, line.count(delimiter))
        if rows > MAX_ROWS * 2 or widest > MAX_COLUMNS * 5:
            break  # quoted delimiters and line breaks are allowed some slack; the parsed
            # rows are checked exactly below
    if rows > MAX_ROWS * 2:
        raise ImportProblem("too-many", str(MAX_ROWS))
    if widest > MAX_COLUMNS * 5:
        raise ImportProblem("too-wide", str(MAX_COLUMNS))


def read_sheet(data: bytes, kind: str, encoding: str | None = None) -> Sheet:
    """The sheet's header and rows, every row as wide as the widest; ImportProblem for a
    file past the limits above."""
    if len(data) > MAX_BYTES:
        raise ImportProblem("too-big")
    if kind == "xlsx":
        table, used = _read_xlsx(data), None
    else:
        table, used = _read_csv(data, encoding)
    return _squared(table, used)


def _read_xlsx(data: bytes) -> list[list[str]]:
    """The first worksheet's rows as text, its extent checked before it is parsed."""
    check_xlsx_extent(data)
    # python-calamine (Rust) reads 10,000 rows in 0.2 s where openpyxl takes 3 s;
    # openpyxl still writes our templates and exports.
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet = workbook.get_sheet_by_index(0)
        _check_extent(sheet.height, sheet.width)
        first_row, first_column = sheet.start or (0, 0)
        values = sheet.to_python()
        del sheet, workbook  # calamine's own copy of the text goes before ours grows
    except ImportProblem:
        raise
    except Exception as error:  # a broken file raises many kinds
        raise ImportProblem("unreadable", str(error)[:200]) from None
    table = []
    for number, row in enumerate(values, start=first_row + 1):
        table.append([_cell(value) for value in row])
        _check_cells(table[-1], number, first_column)
    return table


def _read_csv(data: bytes, encoding: str | None) -> tuple[list[list[str]], str]:
    """A CSV's rows (decoded, its delimiter sniffed) and the encoding that read it,
    checked row by row as they are read."""
    text, used = decode(data, encoding)
    dialect = _dialect(text)
    _check_csv_extent(text, dialect.delimiter)
    table = []
    characters = 0
    for number, row in enumerate(csv.reader(io.StringIO(text), dialect), start=1):
        while row and not row[-1].strip():
            row.pop()  # trailing empty cells do not count towards the width
        if len(row) > MAX_COLUMNS:
            raise ImportProblem("too-wide", str(MAX_COLUMNS))
        table.append([cell.strip() for cell in row])
        characters += _check_cells(table[-1], number, 0)
        if characters > MAX_TEXT:
            raise ImportProblem("too-much-text", f"{MAX_TEXT:,}")
        if len(table) > MAX_ROWS + 1:
            raise ImportProblem("too-many", str(MAX_ROWS))
    return table, used


def _dialect(text: str) -> type[csv.Dialect]:
    """The CSV's dialect (comma, semicolon or tab) as its start suggests; else Excel's."""
    try:
        return csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        return csv.excel


def _squared(table: list[list[str]], encoding: str | None) -> Sheet:
    """The sheet without blank rows, the first row its header, every row padded to the
    widest."""
    table = [row for row in table if any(cell for cell in row)]
    if not table:
        raise ImportProblem("empty")
    header, rows = table[0], table[1:]
    if len(rows) > MAX_ROWS:
        raise ImportProblem("too-many", str(MAX_ROWS))
    width = max(len(header), *(len(row) for row in rows)) if rows else len(header)
    _check_extent(len(rows) + 1, width)
    header = header + [""] * (width - len(header))
    rows = [row + [""] * (width - len(row)) for row in rows]
    return Sheet(header, rows, encoding)


def _check_cells(cells: list[str], number: int, first_column: int) -> int:
    """Refuses a row with a cell longer than MAX_CELL_TEXT, naming it (B7); returns the
    row's characters."""
    lengths = list(map(len, cells))
    if lengths and max(lengths) > MAX_CELL_TEXT:
        column = next(i for i, length in enumerate(lengths) if length > MAX_CELL_TEXT)
        where = f"{column_letters(first_column + column + 1)}{number}"
        raise ImportProblem("cell-too-long", f"{MAX_CELL_TEXT:,}|{where}")
    return sum(lengths)


def load_sheet(folder: Path, batch: ImportBatch) -> Sheet:
    """The uploaded sheet, parsed once: later views and the import read the parsed copy."""
    parsed = parsed_path(folder, batch)
    try:
        stored = json.loads(parsed.read_text(encoding="utf-8"))
        sheet = Sheet(stored["header"], stored["rows"], stored.get("encoding"),
                      stored.get("above", []))  # fmt: skip
    except (OSError, ValueError, KeyError):
        sheet = read_sheet(file_path(folder, batch).read_bytes(), batch.kind, batch.encoding)
        save_parsed(folder, batch, sheet)
    if batch.header_row is not None and batch.header_row != len(sheet.above):
        return sheet.with_header(batch.header_row)  # the row the staff chose
    return sheet


def save_parsed(folder: Path, batch: ImportBatch, sheet: Sheet) -> None:
    """The parsed copy, bounded by the limits above (MAX_TEXT characters): UTF-8 rather
    than \\u escapes (which take twice the room for Chinese), written a row at a time
    (never the whole document in memory at once)."""
    parsed = parsed_path(folder, batch)
    partial = parsed.with_name(parsed.name + ".partial")
    with partial.open("w", encoding="utf-8") as handle:
        encoding = json.dumps(sheet.encoding)
        header = json.dumps(sheet.header, ensure_ascii=False)
        above = json.dumps(sheet.above, ensure_ascii=False)
        handle.write(f'{{"encoding": {encoding}, "above": {above}, "header": {header}, "rows": [')
        for number, row in enumerate(sheet.rows):
            handle.write(("," if number else "") + json.dumps(row, ensure_ascii=False))
        handle.write("]}")
    os.replace(partial, parsed)
