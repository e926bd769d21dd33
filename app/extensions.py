"""Flask extensions, created once and bound to the app in create_app()."""

from flask_babel import Babel
from flask_htmx import HTMX
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from huey import SqliteHuey
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
htmx = HTMX()
# Real storage (instance/huey.sqlite) is attached in create_app(); memory until then.
huey = SqliteHuey("hearth", immediate=True)


def attach_job_storage(app) -> None:
    """Background jobs are kept in instance/huey.sqlite, or in Redis when HEARTH_REDIS_URL
    (config REDIS_URL) is set; either way one worker process runs them and the schedule."""
    from pathlib import Path

    huey._immediate = bool(app.config.get("HUEY_IMMEDIATE"))
    url = app.config.get("REDIS_URL")
    if url:
        from huey.storage import RedisStorage

        huey.storage = RedisStorage(huey.name, url=url)
        return
    filename = app.config.get("HUEY_FILENAME") or str(Path(app.instance_path) / "huey.sqlite")
    from app.config import private_file

    private_file(filename)  # job arguments are the shop's business too
    huey.storage_kwargs = {"filename": filename}
    huey.storage = huey.create_storage()
