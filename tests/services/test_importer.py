"""The importer: encodings, Excel, header guessing, checking, duplicates, all-or-nothing,
re-imports without duplicates, undo, search after import, and a property test."""

import io
from datetime import date, datetime

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from app.extensions import db
from app.models import ConsentEvent, Customer, FamilyMember, ImportBatch, Tag, TimelineEntry
from app.services import importer
from app.services.search import search
from tests.factories import make_customer, make_tag, tag_customer


def batch_for(
    sheet: importer.Sheet, mode="create_and_update", skip_errors=False, match_phone=False, **mapping
) -> ImportBatch:
    batch = ImportBatch(
        filename="test",
        kind="csv",
        mapping=mapping or importer.guess_mapping(sheet.header, []),
        mode=mode,
        skip_errors=skip_errors,
        match_phone=match_phone,
        total_rows=len(sheet.rows),
    )
    db.session.add(batch)
    db.session.commit()
    return batch


def customers() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Customer))


def do_import(sheet, **kwargs):
    batch = batch_for(sheet, **kwargs)
    counts = importer.run_import(db.session, batch, sheet, actor_id=None)
    db.session.commit()
    return batch, counts


def xlsx(rows: list[list]) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_headers_are_guessed_in_chinese_english_and_both():
    header = [
        "姓名",
        "Phone",
        "生日 Birthday",
        "家長Email Guardian email",
        "標籤",
        "入學日",
        "whatever",
        "備註",
    ]
    mapping = importer.guess_mapping(header, [])
    assert mapping == {
        "0": "display_name",
        "1": "phone",
        "2": "birthday",
        "3": "guardian_email",
        "4": "tags",
        "5": "date:入學日",
        "7": "first_note",
    }


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp950", "gb18030"])
def test_csv_in_every_common_encoding_reads_the_same_names(app, encoding):
    text = "姓名,電話\n王小明,0912-345-678\n林柏瑄,\n"
    if encoding == "gb18030":
        text = "姓名,电话\n王小明,0912-345-678\n林柏瑄,\n"
    sheet = importer.read_sheet(text.encode(encoding), "csv")
    assert [row[0] for row in sheet.rows] == ["王小明", "林柏瑄"]


def test_an_encoding_can_be_chosen_and_a_wrong_one_is_explained(app):
    data = "姓名\n許功蓋\n".encode("cp950")
    assert importer.read_sheet(data, "csv", "cp950").rows == [["許功蓋"]]
    with pytest.raises(importer.ImportProblem) as problem:
        importer.read_sheet(data, "csv", "utf-8-sig")
    assert problem.value.code == "encoding"
    with pytest.raises(importer.ImportProblem):
        importer.read_sheet(b"not a zip file", "xlsx")
    with pytest.raises(importer.ImportProblem):
        importer.read_sheet(b"\n\n", "csv")


def test_an_excel_file_with_real_dates_and_numbers(app):
    data = xlsx(
        [
            ["會員編號", "姓名 Name", "生日", "電話", "等級", "同意行銷"],
            ["M900001", "陳怡君", datetime(2016, 3, 2), 912345678, "a", "是"],
            ["", "Amy Chen", "2015/11/20", "", "", "no"],
        ]
    )
    sheet = importer.read_sheet(data, "xlsx")
    _batch, counts = do_import(sheet)
    assert counts["new"] == 2
    amy = db.session.scalar(sa.select(Customer).where(Customer.display_name == "Amy Chen"))
    chen = db.session.scalar(sa.select(Customer).where(Customer.member_number == "M900001"))
    assert chen.birthday == date(2016, 3, 2) and chen.phone == "0912345678" and chen.level == "A"
    assert chen.consents == {"marketing"} and amy.consents == set() and amy.level == "C"
    assert amy.birthday == date(2015, 11, 20) and amy.member_number.startswith("M")
    history = db.session.scalars(
        sa.select(ConsentEvent).where(ConsentEvent.customer_id == chen.id)
    ).all()
    assert [(e.purpose, e.action, e.source) for e in history] == [
        ("marketing", "given", f"import {_batch.id}")
    ]


def test_each_bad_cell_is_reported_per_row_and_nothing_half_written(app):
    sheet = importer.Sheet(
        ["姓名", "生日", "Email", "等級", "同意行銷"],
        [
            ["好的", "105/3/2", "ok@example.com", "B", "是"],
            ["壞日期", "2016-02-30", "", "", ""],
            ["壞信箱", "", "not-an-email", "", ""],
            ["壞等級", "", "", "Z", ""],
            ["壞同意", "", "", "", "maybe"],
            ["", "", "", "", ""],
            ["", "2016-01-01", "", "", ""],
        ],
    )
    batch = batch_for(sheet)
    plan = importer.plan(db.session, batch, sheet)
    errors = {row.number: row.errors for row in plan.rows}
    assert errors[2] == [] and plan.rows[0].values["birthday"] == date(2016, 3, 2)
    assert errors[3] == [("birthday", "bad-date")]
    assert errors[4] == [("email", "bad-email")]
    assert errors[5] == [("level", "bad-level")]
    assert errors[6] == [("consent_marketing", "bad-yes-no")]
    assert errors[8] == [("display_name", "required")]  # a date but no name
    assert errors[7] == [] and plan.rows[5].outcome == "skipped"  # a blank line
    assert plan.counts == {"new": 1, "updated": 0, "unchanged": 0, "skipped": 1, "errors": 5}
    before = customers()
    with pytest.raises(importer.ImportProblem):
        importer.run_import(db.session, batch, sheet, actor_id=None)
    db.session.rollback()
    assert customers() == before
    batch.skip_errors = True
    db.session.commit()
    importer.run_import(db.session, batch, sheet, actor_id=None)
    db.session.commit()
    assert customers() == before + 1


def test_duplicates_in_the_file_and_matches_in_the_database(app):
    existing = make_customer("老客人", email="old@example.com", phone="0911-111-111")
    sheet = importer.Sheet(
        ["姓名", "Email", "電話"],
        [
            ["新名字", "OLD@example.com", ""],  # matches by email (any case)
            ["電話找到", "", "0911111111"],  # matches by phone digits
            ["同一人", "twice@example.com", ""],
            ["同一人又來", "twice@example.com", ""],  # the same key again in the file
        ],
    )
    plan = importer.plan(db.session, batch_for(sheet), sheet)
    assert plan.rows[0].customer_id == existing.id and plan.rows[0].outcome == "updated"
    # A shared phone is no match unless the owner chooses it (siblings share a parent's).
    assert plan.rows[1].customer_id is None and plan.rows[1].outcome == "new"
    assert plan.rows[3].errors == [("email", "same-person:4")]
    by_phone = importer.plan(db.session, batch_for(sheet, match_phone=True), sheet)
    assert by_phone.rows[1].customer_id == existing.id


def test_siblings_sharing_a_phone_are_not_merged_and_allergies_become_alerts(app):
    from app.models import Customer

    elder = make_customer("陳大寶", phone="0922-333-444")
    sheet = importer.Sheet(
        ["姓名", "電話", "過敏"],
        [["陳大寶", "0922333444", ""], ["陳小寶", "0922333444", "花生、蝦"]],
    )
    plan, counts = do_import(sheet)
    assert counts["new"] == 2  # same phone, two children: nobody merged into the elder one
    younger = db.session.scalar(sa.select(Customer).where(Customer.display_name == "陳小寶"))
    alert = db.session.scalar(
        sa.select(TimelineEntry).where(
            TimelineEntry.customer_id == younger.id, TimelineEntry.kind == "alert"
        )
    )
    assert alert.pinned and alert.alert_category == "allergy"
    assert alert.alert_keywords == ["花生", "蝦"] and alert.body == "花生、蝦"
    assert elder.display_name == "陳大寶"


def test_modes_create_only_and_update(app):
    make_customer("老客人", email="old@example.com")
    sheet = importer.Sheet(
        ["姓名", "Email"], [["改名", "old@example.com"], ["新人", "new@example.com"]]
    )
    only_new = importer.plan(db.session, batch_for(sheet, mode="create_only"), sheet).counts
    only_update = importer.plan(db.session, batch_for(sheet, mode="update"), sheet).counts
    assert (only_new["new"], only_new["unchanged"]) == (1, 1)
    assert (only_update["updated"], only_update["skipped"]) == (1, 1)


def test_reimporting_the_same_file_makes_no_duplicates(app):
    make_customer("老客人", email="old@example.com")
    data = importer.template("xlsx")
    sheet = importer.read_sheet(data, "xlsx")
    _first, counts = do_import(sheet)
    assert counts["new"] == 2
    total = customers()
    entries = db.session.scalar(sa.select(sa.func.count()).select_from(TimelineEntry))
    _second, again = do_import(importer.read_sheet(data, "xlsx"))
    assert again == {"new": 0, "updated": 0, "unchanged": 2, "skipped": 0, "errors": 0}
    assert customers() == total
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TimelineEntry)) == entries
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FamilyMember)) == 2


def test_short_chinese_names_are_searchable_after_import(app):
    sheet = importer.Sheet(["姓名"], [["瑄"], ["柏瑄"], ["林柏瑄"]])
    do_import(sheet)
    for name in ("瑄", "柏瑄", "林柏瑄"):
        found = {c.display_name for c in search(db.session, name).customers}
        assert name in found, (name, found)


def test_a_failure_half_way_leaves_the_database_as_it_was(app, monkeypatch):
    make_customer("老客人")
    before = customers()
    tags_before = db.session.scalar(sa.select(sa.func.count()).select_from(Tag))
    rows = [[f"客人{n}", f"guest{n}@example.com", "新標籤"] for n in range(importer.CHUNK * 2 + 10)]
    sheet = importer.Sheet(["姓名", "Email", "標籤"], rows)
    batch = batch_for(sheet)
    real = importer._insert_related_of_new
    calls = []

    def fail_on_the_second_chunk(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(importer.running, "_insert_related_of_new", fail_on_the_second_chunk)
    with pytest.raises(RuntimeError):
        importer.run_import(db.session, batch, sheet, actor_id=None)
    db.session.rollback()
    assert customers() == before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Tag)) == tags_before
    assert not search(db.session, "客人1").customers


def test_undo_removes_what_was_added_and_restores_what_was_changed(app):
    vip = make_tag("VIP")
    old = make_customer(
        "老客人", email="old@example.com", phone="0911-000-000", birthday=date(2010, 1, 1)
    )
    tag_customer(old, vip)
    sheet = importer.Sheet(
        ["姓名", "Email", "電話", "標籤", "備註"],
        [
            ["新名字", "old@example.com", "0922-000-000", "VIP, 匯入", "第一筆"],
            ["全新的人", "", "", "", ""],
        ],
    )
    batch, counts = do_import(sheet)
    assert counts == {"new": 1, "updated": 1, "unchanged": 0, "skipped": 0, "errors": 0}
    db.session.refresh(old)
    assert old.display_name == "新名字" and old.phone_digits == "0922000000"
    assert {t.name for t in old.tags} == {"VIP", "匯入"}
    result = importer.undo(db.session, batch)
    db.session.commit()
    assert result == {"removed": 1, "restored": 1}
    db.session.expire_all()
    old = db.session.get(Customer, old.id)
    assert (
        old.display_name == "老客人"
        and old.phone == "0911-000-000"
        and old.phone_digits == "0911000000"
    )
    assert old.birthday == date(2010, 1, 1)
    assert {t.name for t in old.tags} == {"VIP"}
    assert not db.session.scalars(
        sa.select(TimelineEntry).where(TimelineEntry.body == "第一筆")
    ).all()
    assert not db.session.scalar(sa.select(Customer).where(Customer.display_name == "全新的人"))
    assert not search(db.session, "全新的人").customers and search(db.session, "老客人").customers


# ---- property test ------------------------------------------------------------------------

NAMES = st.text(alphabet="王小明林柏瑄陳怡君 AmyChen", min_size=0, max_size=6)
CELLS = st.one_of(
    st.just(""), st.sampled_from(["2016-03-02", "105/3/2", "2016-02-30", "soon", "2015/11/20"])
)
KEYS = st.sampled_from(
    ["", "a@example.com", "b@example.com", "c@example.com", "bad@", "d@example.com"]
)
ROWS = st.lists(st.tuples(NAMES, CELLS, KEYS), min_size=1, max_size=25)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=ROWS)
def test_property_counts_add_up_and_reimport_changes_nothing(app, rows):
    sheet = importer.Sheet(["姓名", "生日", "Email"], [list(row) for row in rows])
    batch = batch_for(sheet, skip_errors=True)
    try:
        before = customers()
        plan = importer.plan(db.session, batch, sheet)
        assert sum(plan.counts.values()) == len(rows)
        for row in plan.rows:
            raw_name = row.raw.get("display_name", "").strip()
            if row.outcome == "new":
                assert raw_name and not row.errors
            if row.raw.get("birthday") in ("2016-02-30", "soon"):
                assert ("birthday", "bad-date") in row.errors
        counts = importer.run_import(db.session, batch, sheet, actor_id=None)
        assert customers() == before + counts["new"]
        imported = {
            name.strip()
            for name in db.session.scalars(
                sa.select(Customer.display_name).where(Customer.import_batch_id == batch.id)
            )
        }
        assert imported == {r.values["display_name"] for r in plan.rows if r.outcome == "new"}
        again = importer.plan(db.session, batch, sheet).counts
        # Rows with an email are found again; rows without one are new again (no key).
        keyless_new = sum(1 for r in plan.rows if r.outcome == "new" and not r.values.get("email"))
        assert again["new"] == keyless_new
        assert again["updated"] == 0
    finally:
        db.session.rollback()
        db.session.execute(sa.delete(ImportBatch).where(ImportBatch.id == batch.id))
        db.session.commit()


def test_updating_many_customers_adds_their_own_family_dates_and_fields_and_undo_takes_them_back(
    app,
):
    from app.models import CustomField, CustomFieldValue, ImportantDate

    words = CustomField(key="teachers_words", label="老師的話")
    db.session.add(words)
    db.session.commit()
    people = [
        make_customer(f"客人{n}", email=f"p{n}@example.com", consent={"service"}) for n in range(3)
    ]
    from app.services.customers import set_custom_values

    set_custom_values(db.session, people[0], {words.id: "舊的話"})
    db.session.commit()
    sheet = importer.Sheet(
        ["Email", "家長", "入學日", "老師的話", "同意行銷"],
        [
            [f"p{n}@example.com", f"家長{n}", f"2024-09-0{n + 1}", f"新的話{n}", "是"]
            for n in range(3)
        ],
    )
    batch = batch_for(
        sheet,
        **{
            "0": "email",
            "1": "guardian_name",
            "2": "date:入學日",
            "3": f"field:{words.id}",
            "4": "consent_marketing",
        },
    )
    counts = importer.run_import(db.session, batch, sheet, actor_id=None)
    db.session.commit()
    assert counts["updated"] == 3
    for n, person in enumerate(people):
        db.session.refresh(person)
        assert [m.name for m in person.family_members] == [f"家長{n}"]
        assert [(d.label, d.date) for d in person.important_dates] == [
            ("入學日", date(2024, 9, n + 1))
        ]
        value = db.session.scalar(
            sa.select(CustomFieldValue.value).where(CustomFieldValue.customer_id == person.id)
        )
        assert value == f"新的話{n}" and "marketing" in person.consents
    importer.undo(db.session, batch)
    db.session.commit()
    db.session.expire_all()
    for person in people:
        person = db.session.get(Customer, person.id)
        assert person.family_members == [] and person.important_dates == []
        assert person.consents == {"service"}
    values = dict(
        db.session.execute(sa.select(CustomFieldValue.customer_id, CustomFieldValue.value)).all()
    )
    assert values == {people[0].id: "舊的話"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ImportantDate)) == 0
    assert not db.session.scalars(
        sa.select(ConsentEvent).where(ConsentEvent.source == f"import {batch.id}")
    ).all()


def test_a_last_visit_column_dates_the_visit_and_only_a_later_one_updates(app):
    guest = make_customer("老房客", email="old@example.com")
    sheet = importer.Sheet(
        ["姓名", "Email", "上次住宿"],
        [["老房客", "old@example.com", "2023-08-15"], ["新房客", "new@example.com", "2022/1/2"],
         ["未來客", "future@example.com", "2999-01-01"]],
    )  # fmt: skip
    assert importer.guess_mapping(sheet.header, [])["2"] == "last_visit"
    plan = importer.plan(db.session, batch_for(sheet, skip_errors=True), sheet)
    assert [bool(row.errors) for row in plan.rows] == [False, False, True]  # not yet happened
    batch, counts = do_import(sheet, skip_errors=True)
    assert (counts["new"], counts["updated"]) == (1, 1)
    db.session.refresh(guest)
    assert guest.last_visit_at.date() == date(2023, 8, 15)
    new = db.session.scalar(sa.select(Customer).where(Customer.display_name == "新房客"))
    assert new.last_visit_at.date() == date(2022, 1, 2)
    visits = db.session.scalars(
        sa.select(TimelineEntry.created_at).where(TimelineEntry.kind == "visit")
    ).all()
    assert sorted(v.date() for v in visits) == [date(2022, 1, 2), date(2023, 8, 15)]
    # An earlier date than the one on record changes nothing.
    older = importer.Sheet(
        ["姓名", "Email", "上次住宿"], [["老房客", "old@example.com", "2020-01-01"]]
    )
    assert importer.plan(db.session, batch_for(older), older).counts["unchanged"] == 1
    importer.undo(db.session, batch)
    db.session.commit()
    db.session.refresh(guest)
    assert guest.last_visit_at is None


def test_undo_of_an_import_recorded_before_consents_had_rows_puts_consent_back(app):
    """An import made while consent was comma-separated text recorded the old text among the
    profile fields; undoing it after the upgrade withdraws what it gave."""
    from app.models import ImportChange

    person = make_customer("客人", email="old@example.com", consent={"service"})
    sheet = importer.Sheet(["Email", "同意行銷"], [["old@example.com", "是"]])
    batch = batch_for(sheet, **{"0": "email", "1": "consent_marketing"})
    importer.run_import(db.session, batch, sheet, actor_id=None)
    db.session.commit()
    assert db.session.get(Customer, person.id).consents == {"marketing", "service"}
    change = db.session.scalar(sa.select(ImportChange).where(ImportChange.batch_id == batch.id))
    before = dict(change.before)
    before.pop("consents")
    before["fields"] = {**before.get("fields", {}), "consent_purposes": "service"}
    change.before = before
    db.session.commit()
    importer.undo(db.session, batch)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Customer, person.id).consents == {"service"}
