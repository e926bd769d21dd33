"""Spreadsheet uploads cannot blow up the web process: limits are checked before parsing,
the sheet is parsed once, and a real web process's peak memory stays bounded."""

import io
import re
import urllib.request
import uuid
import zipfile
from pathlib import Path

import openpyxl
import pytest

from app.extensions import db
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
    uploads = [("sparse.xlsx", sparse_xlsx()), ("bomb.xlsx", bomb_xlsx()), ("wide.csv", wide_csv())]
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
                assert any(word in text for word in ("columns", "too far", "unpacks")), name
    peak = _peak_rss_mb(server.process.pid)
    print(f"peak web worker RSS {peak:.0f} MB")
    assert peak < 250
