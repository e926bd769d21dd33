"""Issue 7's figure: importing 10,000 rows (an .xlsx with Chinese names, tags, guardians and
a first note) into the large shop, the way the worker does it; then undone again."""

import io
import random
import time


def sheet_bytes(rows: int = 10_000) -> bytes:
    from openpyxl import Workbook

    from app.services.importer import TEMPLATE_HEADERS

    rng = random.Random(7)
    surnames, given = "陳林黃張李王吳劉蔡楊許鄭謝郭洪曾", "小明東城怡君家豪雅婷冠宇宜蓁承恩子晴"
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Customers")
    sheet.append([title for _target, title in TEMPLATE_HEADERS])
    for number in range(rows):
        name = rng.choice(surnames) + rng.choice(given) + rng.choice(given)
        sheet.append([
            "", name, name[1:], rng.choice("ABC"), f"201{rng.randrange(10)}-0{rng.randrange(1, 10)}-1{rng.randrange(10)}",
            f"09{rng.randrange(10**8):08d}", f"import{number}@example.com", "台北市大安區",
            "匯入, 三年級", name[0] + "媽媽", "", "", rng.choice(["是", "否"]), "從舊的 Excel 搬過來",
        ])  # fmt: skip
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def import_10k(app, client, baseline, results) -> None:
    from app.extensions import db
    from app.models import CustomField, ImportBatch
    from app.services import importer

    data = sheet_bytes()
    with app.app_context():
        started = time.perf_counter()
        sheet = importer.read_sheet(data, "xlsx")
        read_seconds = time.perf_counter() - started
        fields = db.session.query(CustomField).all()
        batch = ImportBatch(filename="bench.xlsx", kind="xlsx", total_rows=len(sheet.rows),
                            mapping=importer.guess_mapping(sheet.header, fields))  # fmt: skip
        db.session.add(batch)
        db.session.commit()
        started = time.perf_counter()
        counts = importer.run_import(db.session, batch, sheet, actor_id=None)
        db.session.commit()
        import_seconds = time.perf_counter() - started
        # The same sheet again with a changed nickname and one more tag: 10,000 updates.
        for row in sheet.rows:
            row[2], row[8] = row[2] + "仔", row[8] + ", 更新"
        again = ImportBatch(filename="bench-again.xlsx", kind="xlsx", total_rows=len(sheet.rows),
                            mapping=batch.mapping)  # fmt: skip
        db.session.add(again)
        db.session.commit()
        started = time.perf_counter()
        updated = importer.run_import(db.session, again, sheet, actor_id=None)
        db.session.commit()
        update_seconds = time.perf_counter() - started
        importer.undo(db.session, again)
        db.session.commit()
        started = time.perf_counter()
        importer.undo(db.session, batch)
        db.session.commit()
        undo_seconds = time.perf_counter() - started
    results.value(
        "import_10k_s",
        round(read_seconds + import_seconds, 2),
        read_xlsx_s=round(read_seconds, 2),
        import_s=round(import_seconds, 2),
        undo_s=round(undo_seconds, 2),
        update_10k_s=round(update_seconds, 2),
        updated=updated["updated"],
        new=counts["new"],
        target_s=10,
    )
