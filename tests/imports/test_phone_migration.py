"""The migration that keeps every phone's digits as Taiwan dials them: customers saved with
+886 or Excel's number before it are found by 0912… afterwards; the import page's new columns
come and go with it."""

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from app.extensions import db
from app.models import Customer
from app.services.search import search
from tests.factories import make_customer

BEFORE = "a4c7e9d2b1f0"  # the revision before the phone migration


def test_phones_saved_before_are_normalised_and_found(app):
    people = {
        "國際": "+886 912-345-679",
        "試算表": "912000002",
        "市話": "(02) 2345-6789",
        "沒電話": None,
    }
    ids = {name: make_customer(name, phone=phone).id for name, phone in people.items()}
    db.session.remove()
    downgrade(revision=BEFORE)
    # As the app before this revision kept them: the digits only.
    db.session.execute(
        sa.text("UPDATE customer SET phone_digits = :d WHERE id = :i"),
        [{"d": "886912345679", "i": ids["國際"]}, {"d": "912000002", "i": ids["試算表"]}],
    )
    db.session.commit()
    db.session.remove()
    upgrade()
    digits = dict(db.session.execute(sa.select(Customer.display_name, Customer.phone_digits)).all())
    assert digits == {
        "國際": "0912345679", "試算表": "0912000002", "市話": "0223456789", "沒電話": None,
    }  # fmt: skip
    assert [c.display_name for c in search(db.session, "0912345679").customers] == ["國際"]
    db.session.remove()
    downgrade(revision=BEFORE)
    columns = {c["name"] for c in sa.inspect(db.engine).get_columns("import_batch")}
    assert "header_row" not in columns and "row_choices" not in columns
    upgrade()
