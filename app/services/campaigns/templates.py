"""Merge-field templates for campaign mail and short messages, in Jinja's bounded sandbox."""

import functools
import re

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError, meta
from jinja2.sandbox import SecurityError
from markupsafe import Markup, escape

from app.services.merge_sandbox import (
    ALLOWED_FILTERS,
    BoundedEnvironment,
    LimitExceeded,
    bound_loops,
    forbidden_statement,
    render_bounded,
)

MERGE_FIELDS = ("greeting", "nickname", "name", "child_name", "member_number", "unsubscribe_url")
# The filters a merge template may use, as staff are told (without the one-letter aliases).
MERGE_FILTERS = tuple(name for name in ALLOWED_FILTERS if len(name) > 1)

_environment = BoundedEnvironment(
    undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True
)
MAX_TEMPLATE_LENGTH = 20_000  # characters of subject or body as typed


class TemplateProblem(ValueError):
    """A template that cannot be rendered; `line` is 1-based when known."""

    def __init__(self, code: str, line: int | None = None, detail: str = ""):
        super().__init__(f"{code} line {line}: {detail}")
        self.code = code
        self.line = line
        self.detail = detail


_UNKNOWN_NAME = re.compile(r"No (filter|test) named '([^']{0,80})'")


def _syntax_problem(error: TemplateSyntaxError) -> TemplateProblem:
    """A syntax error as a problem staff can act on: a filter or test merge templates do not
    have (Jinja's TemplateAssertionError, raised when the template is compiled) is named."""
    unknown = _UNKNOWN_NAME.search(error.message or "")
    if unknown:
        return TemplateProblem(f"unknown-{unknown.group(1)}", error.lineno, unknown.group(2))
    return TemplateProblem("syntax", error.lineno, error.message or "")


def _line_of(text: str, name: str) -> int | None:
    for number, line in enumerate(text.splitlines(), start=1):
        if re.search(r"\{\{[^}]*\b" + re.escape(name) + r"\b", line):
            return number
    return None


def check_template(text: str, custom_keys: set[str]) -> None:
    """Raises TemplateProblem for syntax errors, unknown merge fields or custom fields,
    statements merge templates may not use, and templates that go past the render bounds
    (tried on sample values)."""
    if len(text) > MAX_TEMPLATE_LENGTH:
        raise TemplateProblem("too-long", None, str(MAX_TEMPLATE_LENGTH))
    try:
        parsed = _environment.parse(text)
    except TemplateSyntaxError as error:
        raise _syntax_problem(error) from None
    except RecursionError:
        raise TemplateProblem("syntax", None, "nested too deeply") from None
    forbidden = forbidden_statement(parsed)
    if forbidden:
        raise TemplateProblem("statement", forbidden[1], forbidden[0])
    try:  # compiles the template: unknown filters and tests are found here, not by parse()
        undeclared = meta.find_undeclared_variables(parsed)
    except TemplateSyntaxError as error:
        raise _syntax_problem(error) from None
    for name in sorted(undeclared):
        if name not in MERGE_FIELDS and name != "custom":
            raise TemplateProblem("unknown-field", _line_of(text, name), name)
    for match in re.finditer(r"custom\.([A-Za-z_][A-Za-z0-9_]*)", text):
        if match.group(1) not in custom_keys:
            line = text[: match.start()].count("\n") + 1
            raise TemplateProblem("unknown-custom", line, match.group(1))
    render_text(text, _sample_values(custom_keys))


def _sample_values(custom_keys: set[str]) -> dict:
    """Values of a typical length, for trying a template out at compose time."""
    name = "王小明 Wang Xiaoming"
    return {
        "greeting": f"Dear parent of {name}",
        "nickname": name,
        "name": name,
        "child_name": name,
        "member_number": "M000001",
        "unsubscribe_url": "https://shop.example/u/" + "x" * 60,
        "custom": {key: "sample value 12" for key in custom_keys},
    }


@functools.lru_cache(maxsize=64)
def template_is_constant(text: str) -> bool:
    """True when the template has no merge fields: everyone gets the same text."""
    try:
        return not meta.find_undeclared_variables(_environment.parse(text or ""))
    except TemplateSyntaxError:
        return False


@functools.lru_cache(maxsize=64)
def _compiled(text: str):
    return _environment.from_string(bound_loops(_environment.parse(text)))


def render_text(text: str, values: dict) -> str:
    """Renders a merge template within the sandbox's bounds; every failure is a
    TemplateProblem (never a hung worker or a 500)."""
    try:
        return render_bounded(_compiled(text), values)
    except TemplateSyntaxError as error:
        raise _syntax_problem(error) from None
    except LimitExceeded as error:
        raise TemplateProblem(f"limit-{error.what}", None, error.detail) from None
    except (UndefinedError, SecurityError) as error:
        unsafe = re.match(r"access to attribute '([^']+)'.*unsafe", str(error))
        if unsafe:
            raise TemplateProblem("statement", None, unsafe.group(1)) from None
        raise TemplateProblem("unknown-field", None, str(error)) from None
    except RecursionError:
        raise TemplateProblem("limit-loop", None, "recursion") from None
    except Exception as error:  # noqa: BLE001 - e.g. 1/0, 'a' + 1: the template's own mistake
        raise TemplateProblem("error", None, f"{type(error).__name__}: {error}"[:200]) from None


def text_to_html(text: str) -> Markup:
    """Plain text with blank-line paragraphs → HTML; everything escaped, links clickable."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    html = []
    for paragraph in paragraphs:
        escaped = str(escape(paragraph))
        escaped = re.sub(r"(https?://[^\s<]+)", r'<a href="\1">\1</a>', escaped)
        # Each paragraph's text ends in a line break inside its <p>: text running from one
        # element into the next with no space between (every Chinese paragraph: 。 then 本…)
        # is what spam filters count as words split by tags (HTML_OBFUSCATE_*).
        html.append("<p>" + escaped.replace("\n", "<br>\n") + "\n</p>")
    return Markup("\n".join(html))
