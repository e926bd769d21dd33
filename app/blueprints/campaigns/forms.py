"""The compose form."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from app.forms import Choice, as_select_choices

FALLBACK_ORDERS = ("line,sms,email", "line,email,sms", "sms,line,email", "sms,email,line",
                   "email,line,sms", "email,sms,line")  # fmt: skip


def channel_names() -> dict:
    return {"email": _l("Email"), "sms": _l("SMS"), "line": _l("LINE")}


def purpose_choices(shop_kind: str | None = None):
    """Marketing or service, with examples in the shop's own words."""
    if shop_kind is None:
        from app.extensions import db
        from app.services.shop import get_shop

        shop_kind = get_shop(db.session).kind
    service = (
        _l("Service (a class party notice, a change of pick-up time): to everyone you keep "
           "records for, no unsubscribe link")
        if shop_kind == "afterschool"
        else _l("Service (a booking update, the way to us before arrival): to everyone you "
                "keep records for, no unsubscribe link")
    )  # fmt: skip
    return as_select_choices(
        [("marketing", _l("Marketing (news, offers): only to people who agreed to it, with an "
                          "unsubscribe link")), ("service", service)]
    )  # fmt: skip


def _fallback_choices():
    names = channel_names()
    return [
        (order, " → ".join(str(names[c]) for c in order.split(","))) for order in FALLBACK_ORDERS
    ]


class ComposeForm(FlaskForm):
    # Required only when email is among the channels (checked in the view).
    subject = StringField(_l("Subject"), validators=[Optional(), Length(max=200)])
    body = TextAreaField(_l("Message"), validators=[Optional(), Length(max=20000)])
    purpose = RadioField(_l("What kind of message"), choices=purpose_choices, default="marketing")
    send_by = RadioField(
        _l("Send by"),
        choices=as_select_choices(
            [("email", _l("Email only")), ("sms", _l("SMS only")), ("line", _l("LINE only")),
             ("preferred", _l("Each person's preferred channel"))]
        ),
        default="email",
    )  # fmt: skip
    fallback = Choice(
        _l("When there is no preference, or it cannot be used, try"),
        choices=_fallback_choices,
        default=FALLBACK_ORDERS[0],
    )
    short_text = TextAreaField(
        _l("Text for SMS and LINE"),
        validators=[Optional(), Length(max=1000)],
    )
    audience = HiddenField()
    segment_id = HiddenField()

    def channels(self) -> tuple[list[str], bool]:
        """(the channels in fallback order, whether each person's preference goes first);
        a choice's value names them in order ("line,sms,email")."""
        if self.send_by.data == "preferred":
            return self.fallback.data.split(","), True
        return [self.send_by.data or "email"], False

    def load_channels(self, campaign) -> None:
        chosen = ",".join(campaign.channel_list)
        if campaign.use_preferred:
            self.send_by.data, self.fallback.data = "preferred", chosen
        else:
            self.send_by.data = chosen
