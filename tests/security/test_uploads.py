"""Spreadsheet uploads cannot blow up the web process: limits are checked before parsing,
the sheet is parsed once, and a real web process's peak memory stays bounded."""

import io
import re
import urllib.request
import uuid
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import openpyxl
import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import ImportBatch
from app.services import importer
from tests.conftest import login
from tests.factories import make_user
from tests.security.conftest import http_login


def sparse_xlsx(row: int = 20_000, column: int = 1_000) -> bytes:
    """1.5 KB on disk: one cell at row 20,000, column 1,000 (20 million cells as a grid)."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet["A1"] = "姓名"
    sheet.cell(row=row, column=column, value="x")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def bomb_xlsx(rows: int = 400_000) -> bytes:
    """Under 1 MB on disk, hundreds of MB of XML unpacked."""
    book = openpyxl.Workbook()
    book.active["A1"] = "姓名"
    out = io.BytesIO()
    book.save(out)
    source = zipfile.ZipFile(io.BytesIO(out.getvalue()))
    row = "".join(f'<c r="{c}{{n}}" t="inlineStr"><is><t>王小明</t></is></c>' for c in "ABCDEFGH")
    body = "".join(f'<row r="{n}">' + row.replace("{n}", str(n)) + "</row>" for n in range(1, rows))
    result = io.BytesIO()
    with zipfile.ZipFile(result, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                data = re.sub(r"<sheetData>.*</sheetData>|<sheetData/>", f"<sheetData>{body}</sheetData>", text, flags=re.S).encode()  # fmt: skip
            target.writestr(item, data)
    return result.getvalue()


def shared_strings_xlsx(strings: list[str], columns: int = 2) -> bytes:
    """A header (姓名, 備註) and one cell per string, every string in the shared-strings
    table (as Excel saves; openpyxl writes them inline), compressed as hard as zip can."""
    book = openpyxl.Workbook()
    out = io.BytesIO()
    book.save(out)
    source = zipfile.ZipFile(io.BytesIO(out.getvalue()))
    table = ["姓名", "備註", *strings]
    rows = []
    for first in range(0, len(table), columns):
        number = first // columns + 1
        cells = "".join(
            f'<c r="{"AB"[c]}{number}" t="s"><v>{first + c}</v></c>'
            for c in range(min(columns, len(table) - first))
        )
        rows.append(f'<row r="{number}">{cells}</row>')
    shared = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="http://schemas.'
        f'openxmlformats.org/spreadsheetml/2006/main" count="{len(table)}" '
        f'uniqueCount="{len(table)}">' + "".join(f"<si><t>{escape(s)}</t></si>" for s in table)
        + "</sst>"
    )  # fmt: skip
    result = io.BytesIO()
    with zipfile.ZipFile(result, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(r"<sheetData>.*</sheetData>|<sheetData/>", "<sheetData>" + "".join(rows) + "</sheetData>", data.decode(), flags=re.S).encode()  # fmt: skip
            elif item.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')  # fmt: skip
            elif item.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", b'<Relationship Id="rIdStrings" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')  # fmt: skip
            target.writestr(item, data)
        target.writestr("xl/sharedStrings.xml", shared)
    return result.getvalue()


def long_strings_xlsx(cells: int = 3_000, length: int = 30_000, fill: str = "x") -> bytes:
    """The reported file: about 100 KB holding 3,000 cells of 30,000 characters (90 million
    characters once parsed), every one different, in the shared-strings table."""
    return shared_strings_xlsx([f"{n:08d}" + fill * (length - 8) for n in range(cells)])


def at_the_limit_xlsx() -> bytes:
    """As much Chinese text as a sheet may hold: 990 cells of 5,000 characters."""
    return long_strings_xlsx(importer.MAX_TEXT // importer.MAX_CELL_TEXT - 10, 5_000, "王")


def wide_csv() -> bytes:
    return ("姓名," + ",".join(f"c{n}" for n in range(100_000)) + "\n王小明,1\n").encode()


@pytest.mark.parametrize(
    "name, make, message",
    [
        ("sparse.xlsx", sparse_xlsx, "more than 200 columns"),
        ("deep.xlsx", lambda: sparse_xlsx(49_000, 150), "reaches too far"),
        ("wide.csv", wide_csv, "more than 200 columns"),
    ],
)
def test_expanding_sheets_are_refused_before_parsing(client, frontdesk, name, make, message):
    make_user("owner")
    login(client, frontdesk)
    # The body is built here: werkzeug's builder leaves a temporary file open for big ones.
    body, content_type = _multipart(name, make(), "")
    response = client.post("/imports/", data=body, content_type=content_type)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_a_sheet_of_long_strings_is_refused_naming_the_cell(client, frontdesk, app):
    make_user("owner")
    login(client, frontdesk)
    data = long_strings_xlsx()
    assert len(data) < 150_000
    body, content_type = _multipart("notes.xlsx", data, "")
    response = client.post("/imports/", data=body, content_type=content_type)
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "Cell A2 holds more than 5,000 characters" in text
    assert "nothing was saved" in text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ImportBatch)) == 0
    assert not list((Path(app.instance_path) / "imports").glob("batch-*"))
    response = client.post(
        "/imports/", data=body, content_type=content_type, headers={"Accept-Language": "zh-TW"}
    )
    assert "儲存格 A2 超過 5,000 個字元" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "name, make, cell",
    [
        # openpyxl writes strings inline, in the sheet itself
        ("inline.xlsx", lambda: _openpyxl_xlsx([["姓名", "備註"], ["王小明", "x" * 30_000]]), "B2"),
        (
            "one-long.xlsx",
            lambda: shared_strings_xlsx(["王小明", "短", "王小華", "王" * 5_001]),
            "B3",
        ),
        (
            "notes.csv",
            lambda: ("姓名,備註\n王小明,短\n王小華," + "x" * 5_001 + "\n").encode(),
            "B3",
        ),
        # rich text: many short runs make one long cell
        ("rich.xlsx", lambda: _rich_text_xlsx(), "B2"),
    ],
)
def test_a_cell_longer_than_any_field_is_refused(name, make, cell):
    with pytest.raises(importer.ImportProblem) as refused:
        importer.read_sheet(make(), name.rsplit(".", 1)[1])
    assert (refused.value.code, refused.value.detail) == ("cell-too-long", f"5,000|{cell}")


def test_a_long_note_a_shop_writes_is_kept_whole(client, frontdesk, app):
    make_user("owner")
    login(client, frontdesk)
    note = "喜歡畫畫，" * 1_000  # 5,000 characters
    data = shared_strings_xlsx(["王小明", note])
    body, content_type = _multipart("notes.xlsx", data, "")
    response = client.post("/imports/", data=body, content_type=content_type)
    assert response.status_code == 302
    batch = db.session.scalars(sa.select(ImportBatch)).one()
    assert importer.load_sheet(Path(app.instance_path) / "imports", batch).rows == [
        ["王小明", note]
    ]


def test_too_much_text_in_a_sheet_is_refused():
    # each cell short enough, all of them together more than a sheet may hold
    many = [f"{n:08d}" + "x" * 4_992 for n in range(importer.MAX_TEXT // 5_000 + 2)]
    with pytest.raises(importer.ImportProblem) as refused:
        importer.read_sheet(shared_strings_xlsx(many), "xlsx")
    assert refused.value.code == "too-much-text"
    csv_data = ("姓名,備註\n" + "".join(f"王,{text}\n" for text in many)).encode()
    with pytest.raises(importer.ImportProblem) as refused:
        importer.read_sheet(csv_data, "csv")
    assert refused.value.code == "too-much-text"


def test_the_parsed_copy_is_no_bigger_than_the_text(client, frontdesk, app):
    """Kept between the upload and the import: UTF-8, not six bytes a Chinese character."""
    make_user("owner")
    login(client, frontdesk)
    data = long_strings_xlsx(200, 5_000, "王")
    body, content_type = _multipart("notes.xlsx", data, "")
    assert client.post("/imports/", data=body, content_type=content_type).status_code == 302
    parsed = next((Path(app.instance_path) / "imports").glob("batch-*.json"))
    assert parsed.stat().st_size < 200 * 5_000 * 3 + 10_000


def _openpyxl_xlsx(rows: list[list[str]]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _rich_text_xlsx() -> bytes:
    """B2 is 2,000 rich-text runs of three characters each (6,000 characters)."""
    data = shared_strings_xlsx(["王小明", "PLACEHOLDER"])
    source = zipfile.ZipFile(io.BytesIO(data))
    runs = "".join("<r><rPr><b/></rPr><t>abc</t></r>" for _ in range(2_000))
    result = io.BytesIO()
    with zipfile.ZipFile(result, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item)
            if item.filename == "xl/sharedStrings.xml":
                content = content.replace(b"<t>PLACEHOLDER</t>", runs.encode())
            target.writestr(item, content)
    return result.getvalue()


def test_zip_bomb_is_refused():
    data = bomb_xlsx(rows=60_000)  # more rows than allowed, a few MB unpacked
    with pytest.raises(importer.ImportProblem) as refused:
        importer.read_sheet(data, "xlsx")
    assert refused.value.code in ("too-many", "too-big-unpacked", "too-many-cells")


def test_a_sheet_is_parsed_once(client, frontdesk, app):
    make_user("owner")
    login(client, frontdesk)
    book = openpyxl.Workbook()
    book.active.append(["姓名", "電話"])
    book.active.append(["王小明", "0912345678"])
    out = io.BytesIO()
    book.save(out)
    response = client.post(
        "/imports/",
        data={"sheet": (io.BytesIO(out.getvalue()), "list.xlsx"), "encoding": ""},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    folder = Path(app.instance_path) / "imports"
    original = next(folder.glob("batch-*.xlsx"))
    assert next(folder.glob("batch-*.json"))
    original.write_bytes(b"no longer a spreadsheet")  # views must not read it again
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    assert "王小明" in page.get_data(as_text=True)


def _multipart(name: str, data: bytes, token: str) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="encoding"\r\n\r\n\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="sheet"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def _peak_rss_mb(master_pid: int) -> float:
    peaks = []
    for child in Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split():
        status = Path(f"/proc/{child}/status").read_text()
        peaks.append(int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024)
    return max(peaks)


def test_web_worker_memory_stays_bounded_under_hostile_uploads(live_app, web_server):
    with live_app.app_context():
        make_user("owner", email="boss@example.com")
        make_user("frontdesk", email="desk@example.com")
        db.session.remove()
    server = web_server()
    desk = http_login(server.url, "desk@example.com")
    page = desk.open(f"{server.url}/imports/", timeout=10).read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    uploads = [
        ("sparse.xlsx", sparse_xlsx()),
        ("bomb.xlsx", bomb_xlsx()),
        ("wide.csv", wide_csv()),
        ("long-strings.xlsx", long_strings_xlsx()),
    ]
    for _round in range(2):  # both workers get their share
        for name, data in uploads:
            body, content_type = _multipart(name, data, token)
            request = urllib.request.Request(
                f"{server.url}/imports/",
                data=body,
                headers={"Content-Type": content_type, "Accept-Language": "en"},
            )
            try:
                desk.open(request, timeout=60)
                raise AssertionError(f"{name} was accepted")
            except urllib.error.HTTPError as refused:
                assert refused.code == 422, name
                text = refused.read().decode()
                assert "Choose one of the options" not in text
                assert any(
                    word in text for word in ("columns", "too far", "unpacks", "characters")
                ), name
        # As much text as a sheet may hold is accepted, within the same bound.
        body, content_type = _multipart("at-the-limit.xlsx", at_the_limit_xlsx(), token)
        request = urllib.request.Request(
            f"{server.url}/imports/", data=body, headers={"Content-Type": content_type}
        )
        assert "/imports/" in desk.open(request, timeout=60).geturl()
    folder = Path(live_app.instance_path) / "imports"
    for parsed in folder.glob("batch-*.json"):  # the copy kept until the import runs
        assert parsed.stat().st_size < importer.MAX_TEXT * 3 + 1_000_000
    peak = _peak_rss_mb(server.process.pid)
    print(f"peak web worker RSS {peak:.0f} MB")
    assert peak < 250
