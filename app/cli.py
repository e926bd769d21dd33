"""flask commands: users, demo data, the background worker, serve (web + worker)."""

import os
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import with_appcontext

from app.extensions import db


def _demo_module():
    """The demo shop's seed data lives beside the app (devtools/, a source checkout), not in
    it: an installed Hearth has no demo to seed."""
    try:
        from devtools import demo
    except ImportError:
        raise click.ClickException("the demo shop needs a source checkout (devtools/)") from None
    return demo


def register(app: Flask) -> None:
    app.cli.add_command(users)
    app.cli.add_command(demo)
    app.cli.add_command(worker)
    app.cli.add_command(serve)
    app.cli.add_command(search_group)
    app.cli.add_command(reminders_group)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)


@click.group(help="Manage staff accounts.")
def users():
    pass


@users.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(["owner", "frontdesk", "teacher"]), required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def users_create(email: str, name: str, role: str, password_stdin: bool):
    """Create a staff account (the password is prompted for)."""
    from app.services import audit
    from app.services.accounts import AccountError, create_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_user(
            db.session,
            email=email,
            name=name,
            role=role,
            password=password,
            hash_method=current_app.config.get("PASSWORD_METHOD", "scrypt"),
        )
    except AccountError as error:
        db.session.rollback()
        messages = {"email-taken": "Another account already uses this email."}
        raise click.ClickException(
            messages.get(str(error), "The password needs at least 10 characters.")
        ) from None
    audit.record(db.session, "user.create", "user", user.id, detail="command line")
    db.session.commit()
    click.echo(f"Created {role} {user.email}")


def database_is_empty() -> bool:
    from app.models import User

    return db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


@click.command(help="Seed the demo shop (demo staff logins and sample data).")
@click.option("--if-empty", is_flag=True, help="Only when the database has no staff yet.")
@click.option("--customers", default=200, show_default=True, help="How many sample customers.")
@click.option(
    "--kind",
    type=click.Choice(["afterschool", "homestay"]),
    default="afterschool",
    envvar="HEARTH_DEMO_KIND",
    show_default=True,
    help="An after-school centre or a homestay.",
)
@with_appcontext
def demo(if_empty: bool, customers: int, kind: str):
    if if_empty and not database_is_empty():
        click.echo("The database already has data; demo not seeded.")
        return
    _demo_module().seed_demo(
        db.session,
        password_method=current_app.config.get("PASSWORD_METHOD", "scrypt"),
        customers=customers,
        kind=kind,
    )
    db.session.commit()
    click.echo("Demo shop ready.")


def _recover_when_the_database_is_free(tasks) -> int:
    """The start-up recovery (interrupted sends marked uncertain before anything is sent
    again) needs the write lock: while another writer holds it past the busy timeout, wait
    and try again instead of dying (the supervisor would restart us into the same wall)."""
    import logging
    import time

    import sqlalchemy as sa

    while True:
        try:
            return tasks.resume_unfinished()
        except sa.exc.OperationalError as error:
            logging.getLogger("hearth.worker").warning(
                "database busy at start (%s); trying again in 5 s", str(error.orig)[:80]
            )
            time.sleep(5)


@click.command(help="Run the background worker (huey consumer).")
@click.option("--workers", default=2, show_default=True)
@with_appcontext
def worker(workers: int):
    import logging

    from app import tasks
    from app.serving import hold_instance_lock

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    hold_instance_lock(current_app.instance_path)
    tasks.bind_app(current_app._get_current_object())
    resumed = _recover_when_the_database_is_free(tasks)
    if resumed:
        click.echo(f"Resuming {resumed} unfinished campaign(s).")
    if tasks.resume_imports():
        click.echo("Queued again: imports waiting when the worker stopped.")
    # Polls the queue at least twice a second when idle (huey backs off to 10 s by default):
    # a campaign, test mail or import starts within a second of the click.
    consumer = tasks.huey.create_consumer(
        workers=workers, worker_type="thread", periodic=True, max_delay=0.5
    )
    consumer.run()


def _demo_channels() -> None:
    """SMS and LINE of the demo shop, set up for the local fake providers (only when the
    shop has none of its own)."""
    from app.services.shop import ensure_shop

    shop = ensure_shop(db.session)
    if not shop.sms_provider:
        shop.sms_provider, shop.sms_username, shop.sms_password = "mitake", "shop", "secret"
    if not shop.line_access_token:
        shop.line_access_token, shop.line_channel_secret = "line-token", "demo-line-secret"
        shop.line_account_id = shop.line_account_id or "@hearth-demo"
    db.session.commit()


@click.command(help="Start the web server and the background worker together (Ctrl-C stops both).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option(
    "--port", default=lambda: int(os.environ.get("PORT", "5000")), show_default="PORT or 5000"
)
@with_appcontext
def serve(host: str, port: int):
    from flask_migrate import upgrade

    from app.serving import Child, web_server_command

    upgrade()
    if database_is_empty():
        _demo_module().seed_demo(
            db.session,
            password_method=current_app.config.get("PASSWORD_METHOD", "scrypt"),
            kind=os.environ.get("HEARTH_DEMO_KIND", "afterschool")
            if os.environ.get("HEARTH_DEMO_KIND") in ("afterschool", "homestay")
            else "afterschool",
        )
        db.session.commit()
        click.echo("Seeded the demo shop.")
    fake_port = os.environ.get("HEARTH_FAKE_PROVIDERS", "")
    if fake_port.isdecimal():
        _demo_channels()
    db.session.remove()

    env = dict(os.environ)
    env["HEARTH_INSTANCE"] = current_app.instance_path
    env.setdefault("HEARTH_ENV", "development")
    flask_cmd = [sys.executable, "-m", "flask", "--app", "wsgi"]
    if fake_port.isdecimal():
        for key in ("MITAKE_API_BASE", "EVERY8D_API_BASE", "LINE_API_BASE"):
            env[key] = f"http://127.0.0.1:{fake_port}"

    def log(message: str) -> None:
        stamp = datetime.now().strftime("%H:%M:%S")
        click.echo(f"[{stamp}] {message}", err=True)

    children = [
        Child("Web server", web_server_command(sys.executable, host, port), env, log),
        Child("Worker", [*flask_cmd, "worker"], env, log),
    ]
    if fake_port.isdecimal():
        # Local stand-ins for Mitake and LINE (tests/fakes.py): SMS and LINE sends of the
        # demo go there, nowhere else.
        children.append(
            Child(
                "Fake SMS/LINE providers",
                [sys.executable, "-m", "tests.fakes", fake_port],
                env,
                log,
            )  # fmt: skip
        )
    for child in children:
        child.start()
    click.echo("")
    click.echo(f"Hearth is running at http://{host}:{port}")
    click.echo(f"Instance folder: {current_app.instance_path}")
    click.echo(f"Web server pid {children[0].pid}, worker pid {children[1].pid}")
    demo = _demo_module()
    click.echo(f"Demo logins (password {demo.DEMO_PASSWORD}):")
    for email, _name, role in demo.DEMO_STAFF:
        click.echo(f"  {role:10} {email}")
    click.echo("Press Ctrl-C to stop the web server and the worker.")

    def _stop(*_args):
        raise KeyboardInterrupt

    # Installed explicitly: a parent may have started us with SIGINT ignored (then Python
    # would not turn Ctrl-C into KeyboardInterrupt).
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        # A child that dies on its own is restarted (with a growing pause), not the end
        # of the whole app: the web keeps serving while the worker comes back.
        while True:
            for child in children:
                child.check()
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        deadline = time.time() + 10
        for child in children:
            child.interrupt()
        for child in children:
            child.wait_stopped(deadline)
    click.echo("Stopped.")


@click.group("search", help="The search index.")
def search_group():
    pass


@search_group.command("rebuild")
@with_appcontext
def search_rebuild():
    """Rebuild the search index from the data (after a restore or a bulk change by hand)."""
    from app.db import begin_write
    from app.services.search import rebuild

    begin_write(db.session)
    counts = rebuild(db.session)
    db.session.commit()
    click.echo(
        f"Search index rebuilt: {counts['customers']} customers, {counts['entries']} timeline entries."
    )


@click.group("reminders", help="Reminder rules.")
def reminders_group():
    pass


@reminders_group.command("run")
@with_appcontext
def reminders_run():
    """Check every reminder rule now (the worker also does it every hour)."""
    from app.tasks import run_reminder_rules_now

    result = run_reminder_rules_now()
    click.echo(
        f"Reminder rules checked: {result['created']} new, {result['resolved']} no longer needed."
    )


def _database_path() -> Path:
    """The SQLite file; never a PostgreSQL database's name taken as a path."""
    if db.engine.dialect.name != "sqlite" or db.engine.url.database in (None, "", ":memory:"):
        raise click.ClickException("this command works on a SQLite database file")
    return Path(db.engine.url.database).resolve()


def _backup_record() -> Path:
    return Path(current_app.instance_path) / "last-backup.json"


@click.command("backup", help="Copy the live database safely (the app may keep running).")
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(path: Path | None):
    from app.db import is_postgres
    from app.services.backup import BackupError, backup, backup_postgres

    postgres = is_postgres(db.engine)
    if path is None:
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        suffix = "pgdump" if postgres else "sqlite"
        path = Path(current_app.instance_path) / "backups" / f"hearth-{stamp}.{suffix}"
    try:
        if postgres:
            facts = backup_postgres(db.engine.url, path, _backup_record())
        else:
            facts = backup(_database_path(), path, _backup_record())
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Backup written to {facts['path']} ({facts['bytes']:,} bytes), integrity ok.")


@click.command("restore", help="Replace the database with a backup (stop the app first).")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def restore_command(path: Path, yes: bool):
    from app.db import is_postgres
    from app.services.backup import (
        BackupError,
        check_backup_file,
        check_postgres_backup,
        restore,
        restore_postgres,
    )

    postgres = is_postgres(db.engine)
    try:
        (check_postgres_backup if postgres else check_backup_file)(path)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    if not yes:
        click.confirm("This replaces all current data with the backup. Go on?", abort=True)
    from app.serving import InstanceInUse, exclusive_instance

    db.session.remove()
    db.engine.dispose()
    try:
        # The web server and the worker hold this lock while they run: replacing the file
        # under them would leave them writing into the deleted one (writes lost).
        with exclusive_instance(current_app.instance_path):
            if postgres:
                restore_postgres(path, db.engine.url)
            else:
                restore(path, _database_path())
    except InstanceInUse:
        raise click.ClickException(
            "Hearth is running on this instance (web server or worker): stop it first, "
            "then restore."
        ) from None
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Restored from {path}. Start the app again.")
