"""Background jobs (huey): run by `flask --app wsgi worker`, each inside an app context."""

import dataclasses
from datetime import timedelta

import sqlalchemy as sa
from flask import Flask
from huey import crontab

from app.clock import utcnow
from app.extensions import db, huey

_app: Flask | None = None


def mark_background() -> None:
    """Jobs start read transactions lazily and take the write lock only when they write
    (begin_write), even when run inline inside a request (immediate mode in tests)."""
    from flask import g

    g.background_job = True


def bind_app(app: Flask) -> None:
    global _app
    _app = app


def _application() -> Flask:
    global _app
    from flask import current_app, has_app_context

    if has_app_context():  # immediate mode (tests) or called from a command
        return current_app._get_current_object()
    if _app is None:
        from app import create_app

        _app = create_app()
    return _app


@huey.periodic_task(crontab(minute="17", hour="3"))
def purge_old_login_attempts() -> int:
    """Failed-login rows only matter for the 15-minute limit (kept a day for the audit page);
    expired sign-in rows are worthless; so are LINE's wrong codes after a day and its
    applied event ids after a week (older events are ignored anyway)."""
    from app.db import begin_write
    from app.models import LoginAttempt
    from app.services.accounts import purge_expired_sessions
    from app.services.line_links import purge_events

    with _application().app_context():
        mark_background()
        begin_write(db.session)
        result = db.session.execute(
            sa.delete(LoginAttempt).where(LoginAttempt.at < utcnow() - timedelta(days=1))
        )
        sessions = purge_expired_sessions(db.session)
        line = purge_events(db.session)
        db.session.commit()
        return result.rowcount + sessions + line


def drain_audit_queue_now() -> int:
    """Moves the audit rows that pages queued while the database was busy into the log."""
    from app.services import audit_queue

    app = _application()
    with app.app_context():
        mark_background()
        return audit_queue.drain(db.session, app.instance_path)


# Enqueued by a page whose audit row was queued; retried while the database stays busy.
@huey.task(retries=120, retry_delay=5)
def drain_audit_queue() -> int:
    return drain_audit_queue_now()


# Rows whose drain job was lost (worker killed, queue cleared) still arrive within a minute.
@huey.periodic_task(crontab())
def drain_audit_queue_every_minute() -> int:
    return drain_audit_queue_now()


def run_reminder_rules_now() -> dict:
    """Evaluates every reminder rule once (idempotent: no duplicates however often it runs)."""
    from app.services import reminders
    from app.services.shop import shop_context

    context = shop_context(db.session)
    result = reminders.run_rules(db.session, context)
    return {"created": result.created, "resolved": result.resolved}


# Hourly rather than once a day: a missed hour (worker restarted) costs nothing, and "today"
# follows the shop's time zone whatever the server's clock says.
@huey.periodic_task(crontab(minute="5"))
def run_reminder_rules() -> dict:
    with _application().app_context():
        mark_background()
        return run_reminder_rules_now()


def refresh_room_feeds_now() -> dict:
    """Fetches every room's booking-site calendars once (see app/services/rooms/ical.py)."""
    from app.services.rooms import ical
    from app.services.shop import shop_context

    app = _application()
    limits = ical.FetchLimits(
        timeout=float(app.config.get("ICAL_FETCH_TIMEOUT", ical.TIMEOUT_SECONDS)),
        max_bytes=int(app.config.get("ICAL_MAX_BYTES", ical.MAX_BYTES)),
        max_events=int(app.config.get("ICAL_MAX_EVENTS", ical.MAX_EVENTS)),
    )
    return ical.refresh_all(db.session, shop_context(db.session).today, limits)


# Booking sites refresh their own exports every few minutes to hours: every 15 minutes here.
@huey.periodic_task(crontab(minute="*/15"))
def refresh_room_feeds() -> dict:
    with _application().app_context():
        mark_background()
        try:
            return refresh_room_feeds_now()
        finally:
            db.session.remove()


@huey.task()
def purge_erased_traces() -> None:
    """After an erasure: merge the search indexes and empty the WAL (slow on a big shop)."""
    from app.services.privacy import purge_traces

    with _application().app_context():
        mark_background()
        purge_traces(db.session)


def imports_folder(app: Flask):
    from pathlib import Path

    folder = Path(app.instance_path) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@huey.task()
def run_import_batch(batch_id: int) -> dict:
    """Imports an uploaded sheet in one transaction; a failure leaves the data as it was."""
    with _application().app_context():
        mark_background()
        return run_import_now(batch_id)


def run_import_now(batch_id: int) -> dict:
    from app.services import importer

    folder = imports_folder(_application())
    # Held until the outcome is committed: a batch left "running" with this lock free was
    # interrupted (importer.recover_interrupted). Imports run one at a time anyway.
    with importer.ImportLock(folder):
        return _run_import_locked(batch_id, folder)


def _run_import_locked(batch_id: int, folder) -> dict:
    from app.db import begin_write
    from app.models import ImportBatch
    from app.services import audit, importer

    begin_write(db.session)
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None or batch.status != "queued":
        db.session.rollback()
        return {}  # already run (a job queued twice), or not asked for
    actor = batch.created_by_id
    batch.status, batch.error = "running", None
    db.session.commit()
    importer.write_progress(folder, batch_id, 0, 0)  # not what an interrupted run reached
    try:
        sheet = importer.load_sheet(folder, batch)
        batch = db.session.get(ImportBatch, batch_id)
        counts = importer.run_import(
            db.session,
            batch,
            sheet,
            actor_id=actor,
            progress=lambda done, total: importer.write_progress(folder, batch_id, done, total),
        )
        batch.status, batch.counts, batch.finished_at = "done", counts, utcnow()
        audit.record(
            db.session, "import.run", "import_batch", batch_id, json_counts(counts), user_id=actor
        )
        db.session.commit()
    except Exception as error:  # all or nothing: roll back, then say what went wrong
        db.session.rollback()
        batch = db.session.get(ImportBatch, batch_id)
        batch.status = "failed"
        batch.error = getattr(error, "code", None) or type(error).__name__
        db.session.commit()
        if not isinstance(error, importer.ImportProblem):
            raise
        return {"failed": batch.error}
    importer.remove_files(folder, batch)  # personal data: keep only what was imported
    return counts


def resume_imports() -> int:
    """At worker start: a batch a killed worker left "running" becomes failed and
    interrupted (nothing of it was saved; the staff run it again); a queued one is queued
    again, in case the job went with the dead worker (a duplicate job finds it done)."""
    from app.models import ImportBatch
    from app.services import importer

    app = _application()
    with app.app_context():
        mark_background()
        importer.recover_interrupted(db.session, imports_folder(app))
        queued = db.session.scalars(
            sa.select(ImportBatch.id).where(ImportBatch.status == "queued")
        ).all()
        db.session.remove()
    for batch_id in queued:
        run_import_batch(batch_id)
    return len(queued)


def json_counts(counts: dict) -> str:
    return ", ".join(f"{key} {value}" for key, value in counts.items())


def _smtp_target(app: Flask):
    """The shop's mail server (Settings → Mail), else the instance config's."""
    from app.services.mail_settings import smtp_target
    from app.services.shop import get_shop

    return smtp_target(get_shop(db.session), app.config)


def send_settings(app: Flask):
    """The outbox's settings: shop settings first, then instance/config.py or the environment."""
    from app.services.campaigns import SendSettings
    from app.services.shop import get_shop

    shop = get_shop(db.session)
    sender_address = shop.sender_address or app.config["MAIL_DEFAULT_SENDER"]
    return SendSettings(
        base_url=shop.public_base_url or app.config.get("PUBLIC_BASE_URL") or "",
        sender=sender_address,
        sender_name=shop.sender_name or shop.name,
        reply_to=sender_address,
        rate_per_window=shop.mail_rate_per_minute or 600,
        window_seconds=float(app.config.get("MAIL_RATE_WINDOW_SECONDS", 60)),
        max_consecutive_failures=shop.mail_max_consecutive_failures or 10,
        locale=shop.default_locale or "zh_Hant",
        retry_backoff=tuple(app.config.get("MAIL_RETRY_BACKOFF", (30, 120, 600))),
        timezone=shop.timezone or "Asia/Taipei",
    )


def channel_routes(app, base_url: str) -> dict:
    """SMS and LINE routes from the shop's settings and the instance config."""
    from app.services.campaigns.outbox import Route
    from app.services.channels import setup
    from app.services.shop import get_shop

    shop = get_shop(db.session)
    config = app.config
    receipt_address = None
    if base_url and shop.sms_provider == "mitake":
        from functools import partial

        from app.services.sms_receipts import receipt_address

        receipt_address = partial(receipt_address, base_url, app.secret_key)
    routes = {}
    sms = setup.sms_transport(shop, config, receipt_address)
    if sms is not None:
        routes["sms"] = Route(
            sms, max(1, int(config.get("SMS_CONNECTIONS", 4))),
            int(config.get("SMS_RATE_PER_SECOND", 20)), 1.0,
        )  # fmt: skip
    line = setup.line_transport(shop, config)
    if line is not None:
        routes["line"] = Route(
            line, max(1, int(config.get("LINE_CONNECTIONS", 4))),
            int(config.get("LINE_RATE_PER_SECOND", 100)), 1.0,
        )  # fmt: skip
    db.session.rollback()
    return routes


@huey.task()
def send_campaign(campaign_id: int) -> dict:
    """Sends a campaign; one sender per campaign at a time (a huey lock, cleared at start-up)."""
    from huey.exceptions import TaskLockedException

    from app.models import Campaign
    from app.services import campaigns

    app = _application()
    with app.app_context():
        mark_background()
        try:
            with huey.lock_task(f"campaign-{campaign_id}"):
                settings = send_settings(app)
                report = campaigns.send_campaign(
                    db.session, campaign_id, settings,
                    _smtp_target(app), app.secret_key,
                    stop_after=float(app.config.get("CAMPAIGN_RUN_SECONDS", 600)),
                    connections=max(1, int(app.config.get("MAIL_CONNECTIONS", 4))),
                    routes=channel_routes(app, settings.base_url),
                )  # fmt: skip
                wait = campaigns.next_retry_in(db.session, campaign_id)
                status = db.session.get(Campaign, campaign_id).status
        except TaskLockedException:
            return {"locked": True}
        finally:
            db.session.remove()
    if status == "sending" and wait is not None:
        # Retries are waiting (or the run hit its time slice): come back for them.
        send_campaign.schedule((campaign_id,), delay=max(1, int(wait)))
    return {"sent": report.sent, "failed": report.failed, "paused": report.paused}


@huey.task()
def send_test_email(campaign_id: int, customer_id: int, address: str) -> bool:
    """A preview of one recipient's mail, sent to a staff member (never counted as a delivery)."""
    from app.models import Campaign, Customer, Delivery
    from app.services import campaigns
    from app.services.campaigns import outbox
    from app.services.shop import get_shop

    app = _application()
    with app.app_context():
        mark_background()
        campaign = db.session.get(Campaign, campaign_id)
        customer = db.session.get(Customer, customer_id)
        fake = Delivery(
            id=0,
            campaign_id=campaign_id,
            customer_id=customer_id,
            address=address,
            recipient_name=None,
        )
        custom = campaigns.custom_values_for(db.session, [customer_id])[customer_id]
        settings = send_settings(app)
        if not settings.base_url:
            settings = dataclasses.replace(
                settings, base_url=campaign.base_url or "http://localhost"
            )
        letter = campaigns.build_message(
            campaign,
            fake,
            customer,
            get_shop(db.session),
            settings,
            custom,
            app.secret_key,
        )
        letter.subject = f"[TEST] {letter.subject}"
        outbox.send_one(_smtp_target(app), letter)
        db.session.remove()
    return True


def resume_unfinished() -> int:
    """At worker start: clear stale locks, mark interrupted sends uncertain, pick campaigns up."""
    import sqlalchemy as sa

    from app.models import Campaign
    from app.services.campaigns import recover_interrupted

    app = _application()
    with app.app_context():
        from app.services.channels.setup import dedupe_windows
        from app.services.shop import get_shop

        recover_interrupted(db.session, dedupe_windows(get_shop(db.session)))
        ids = db.session.scalars(
            sa.select(Campaign.id).where(Campaign.status.in_(("queued", "sending")))
        ).all()
        db.session.remove()
    # A killed worker leaves its locks behind; only one worker process runs per install.
    huey.flush_locks(*(f"campaign-{campaign_id}" for campaign_id in ids))
    for campaign_id in ids:
        send_campaign(campaign_id)
    return len(ids)
