"""Form fields shared by the blueprints, with messages in our own catalog."""

from datetime import date, time

from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField, SelectChoice, SelectField, SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget


class DateInput(DateField):
    """An HTML date input whose parse error is a clear, translated message."""

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            self.data = date.fromisoformat(valuelist[0].strip())
        except ValueError:
            self.data = None
            raise ValueError(_l("Enter a real date (year-month-day), e.g. 2018-02-28.")) from None


class TimeInput(DateField):
    """An HTML time input (HH:MM) whose parse error is a clear, translated message."""

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            self.data = time.fromisoformat(valuelist[0].strip())
        except ValueError:
            self.data = None
            raise ValueError(_l("Enter a time of day, e.g. 14:30.")) from None


class Choice(SelectField):
    """A select whose "not one of the choices" message is translated."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("invalid_choice_message", _l("Choose one of the options."))
        choices = kwargs.get("choices")
        if callable(choices):
            kwargs["choices"] = lambda: as_select_choices(choices())
        elif choices is not None:
            kwargs["choices"] = as_select_choices(choices)
        super().__init__(*args, **kwargs)


def as_select_choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms' SelectChoice (tuples are deprecated in WTForms 3.3)."""
    return [pair if isinstance(pair, SelectChoice) else SelectChoice(*pair) for pair in pairs]


class Number(IntegerField):
    """An integer input whose "not a number" message is translated."""

    def process_formdata(self, valuelist):
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        try:
            self.data = int(str(valuelist[0]).strip())
        except ValueError:
            self.data = None
            raise ValueError(_l("Enter a whole number.")) from None


class Checkboxes(SelectMultipleField):
    """A list of checkboxes; a value that is not offered gets a translated message."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, *args, **kwargs):
        if kwargs.get("choices") is not None and not callable(kwargs["choices"]):
            kwargs["choices"] = as_select_choices(kwargs["choices"])
        super().__init__(*args, **kwargs)

    def pre_validate(self, form):
        offered = {str(choice.value) for choice in self.iter_choices()}
        if any(str(value) not in offered for value in self.data or []):
            raise ValueError(_l("Choose one of the options."))
