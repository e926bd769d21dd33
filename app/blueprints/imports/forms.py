"""The upload form (the mapping form's columns are built per sheet in the view)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField

from app.forms import Choice


class UploadForm(FlaskForm):
    sheet = FileField(_l("Spreadsheet (.xlsx or .csv)"))
    encoding = Choice(
        _l("Text encoding (CSV only)"),
        choices=[
            ("", _l("Detect for me")),
            ("utf-8-sig", "UTF-8"),
            ("cp950", "Big5 (繁體)"),
            ("gb18030", "GB18030 (简体)"),
        ],
    )


class BlankForm(FlaskForm):
    """CSRF only."""
