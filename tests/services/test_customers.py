"""Customer records: validation, member numbers (also across processes), version conflicts."""

import subprocess
import sys
import textwrap
from datetime import date

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Customer
from app.services import customers as service
from tests.factories import make_customer, make_user


def test_create_generates_readable_member_numbers(app):
    first = make_customer("王小明")
    second = make_customer("Amy Chen")
    assert (first.member_number, second.member_number) == ("M000001", "M000002")
    make_customer("自訂", member_number="VIP-7")
    assert make_customer("下一位").member_number == "M000003"


def test_duplicate_member_number_is_refused(app):
    make_customer("A", member_number="M000050")
    with pytest.raises(service.CustomerError) as error:
        service.create_customer(
            db.session, {"display_name": "B", "member_number": "M000050"}, actor=None
        )
    assert error.value.field == "member_number"
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 1


def test_name_is_required(app):
    with pytest.raises(service.CustomerError):
        service.create_customer(db.session, {"display_name": "   "}, actor=None)


def test_phone_digits_and_email_are_normalised(app):
    customer = make_customer("A", phone="(09) 1234-5678", email="Amy@Example.COM")
    assert customer.phone_digits == "0912345678"
    assert customer.email == "amy@example.com"


def test_stale_edit_raises_conflict_with_both_values(app):
    customer = make_customer("王小明", phone="0911")
    service.update_customer(
        db.session,
        customer,
        {"display_name": "王小明", "phone": "0922"},
        expected_version=1,
        actor=None,
    )
    db.session.commit()
    assert customer.version == 2
    with pytest.raises(service.VersionConflict) as conflict:
        service.update_customer(
            db.session,
            customer,
            {"display_name": "王大明", "phone": "0933"},
            expected_version=1,
            actor=None,
        )
    db.session.rollback()
    assert conflict.value.current_version == 2
    assert conflict.value.differences["phone"] == ("0922", "0933")
    assert conflict.value.differences["display_name"] == ("王小明", "王大明")
    db.session.refresh(customer)
    assert customer.phone == "0922"


def test_notes_do_not_bump_the_profile_version(app):
    from tests.factories import make_entry

    customer = make_customer("A")
    make_entry(customer, body="hello")
    assert customer.version == 1


def test_opt_out_records_when_and_how(app):
    customer = make_customer("A")
    service.update_customer(
        db.session,
        customer,
        {"display_name": "A", "email_opt_out": True},
        expected_version=1,
        actor=None,
    )
    db.session.commit()
    assert customer.email_opt_out_at is not None and customer.email_opt_out_source == "staff"


def test_consent_is_recorded_with_who(app):
    owner = make_user("owner")
    customer = service.create_customer(
        db.session,
        {"display_name": "A"},
        actor=owner,
        consent={"marketing"},
        consent_method="paper",
    )
    db.session.commit()
    assert customer.consents == {"marketing"}
    assert customer.consent_recorded_by_id == owner.id and customer.consent_given_at is not None


def test_custom_values_set_and_cleared(app):
    from app.models import CustomField

    field = CustomField(key="teachers_words", label="老師的話")
    db.session.add(field)
    db.session.commit()
    customer = make_customer("A")
    service.set_custom_values(db.session, customer, {field.id: "很認真"})
    db.session.commit()
    assert [v.value for v in customer.field_values] == ["很認真"]
    service.set_custom_values(db.session, customer, {field.id: ""})
    db.session.commit()
    assert customer.field_values == []


def test_family_and_dates(app):
    customer = make_customer("東城")
    service.add_family_member(
        db.session, customer, {"name": "東城媽媽", "email": "MOM@example.com", "is_guardian": True}
    )
    service.add_important_date(db.session, customer, "入學日", date(2025, 9, 1))
    db.session.commit()
    assert customer.family_members[0].email == "mom@example.com"
    assert customer.important_dates[0].label == "入學日"


CREATE_MANY = textwrap.dedent(
    """
    import os, sys
    from app import create_app
    from app.extensions import db
    from app.services.customers import create_customer
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": sys.argv[1],
                      "HUEY_FILENAME": sys.argv[3]})
    with app.app_context():
        for number in range(40):
            create_customer(db.session, {"display_name": f"{sys.argv[2]} {number}"}, actor=None)
            db.session.commit()
    """
)


def test_member_numbers_stay_unique_across_two_processes(app, tmp_path):
    url = db.engine.url.render_as_string(hide_password=False)
    env = {"PYTHONPATH": ".", "PATH": "/usr/bin:/bin"}
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", CREATE_MANY, url, name, str(tmp_path / f"{name}.huey")],
            env=env,
            stderr=subprocess.PIPE,
        )
        for name in ("left", "right")
    ]
    for process in processes:
        _out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err.decode()
    numbers = db.session.scalars(sa.select(Customer.member_number)).all()
    assert len(numbers) == 80 and len(set(numbers)) == 80
    assert sorted(numbers) == [f"M{n:06d}" for n in range(1, 81)]


@pytest.mark.parametrize(
    ("written", "normal"),
    [
        ("+886 912-345-679", "0912345679"),
        ("886912345679", "0912345679"),
        (912345679, "0912345679"),
        (912345679.0, "0912345679"),
        ("912345679.0", "0912345679"),
        ("0912345679", "0912345679"),
        ("0912-345-679", "0912345679"),
        ("(02) 2345-6789", "0223456789"),
        ("+886 2 2345 6789", "0223456789"),
        ("+886 0912 345 679", "0912345679"),
        ("+1 415 555 0100", "14155550100"),
        ("6789", "6789"),
        ("", None),
        ("無", None),
        (None, None),
    ],
)
def test_every_spelling_of_a_phone_is_one_number(written, normal):
    assert service.normal_phone(written) == normal


def test_the_customer_form_keeps_the_phone_as_typed_and_matches_it_as_dialled(app):
    customer = make_customer("國際電話", phone="+886 912-345-679")
    assert customer.phone == "+886 912-345-679"
    assert customer.phone_digits == "0912345679"
