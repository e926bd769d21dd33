"""Merge templates that cannot stall the shop: Jinja's sandbox plus bounds on what one render
may cost (output size, loop iterations, numbers, time) and no template-loading statements.

Jinja's sandbox keeps templates away from Python's internals but not from spending: a
`'%999999999d' % 1`, `name.center(10**9)`, `'a' * 10**8` or nested `range(99999)` loops
would hold a web worker or the outbox for minutes. Every such path is bounded here and
raises LimitExceeded, which the caller turns into a clear message (compose time) or a failed
delivery (send time).
"""

import contextvars
import functools
import time
from collections.abc import Iterable, Iterator

from jinja2 import nodes
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import pass_context

MAX_OUTPUT = 50_000  # characters a rendered subject or body may have
MAX_ITERATIONS = 5_000  # loop steps in one render, all loops together
MAX_NUMBER = 5_000  # largest whole number a call or filter may be given (widths, counts)
MAX_SECONDS = 1.0  # wall time for one render
MAX_INT_BITS = 128  # results of * and ** on whole numbers

ALLOWED_FILTERS = (
    "abs capitalize center default d e escape first float int join last length count list "
    "lower replace reverse round string title trim truncate upper wordcount"
).split()
# Methods a merge template may call; everything else callable is refused.
ALLOWED_METHODS = {
    str: {
        "upper", "lower", "title", "capitalize", "casefold", "swapcase", "strip", "lstrip",
        "rstrip", "startswith", "endswith", "split", "replace", "center", "ljust", "rjust",
        "zfill", "count", "find", "isdigit", "isalpha", "isspace",
    },
    dict: {"get", "keys", "values", "items"},
    list: {"index", "count"},
}  # fmt: skip
FORBIDDEN_NODES = {
    nodes.Extends: "extends",
    nodes.Include: "include",
    nodes.Import: "import",
    nodes.FromImport: "import",
    nodes.Macro: "macro",
    nodes.CallBlock: "call",
}


class LimitExceeded(Exception):
    """A render went past a bound; `what` names which: output, loop, number, time, statement."""

    def __init__(self, what: str, detail: str = ""):
        super().__init__(f"{what}: {detail}")
        self.what = what
        self.detail = detail


class _Budget:
    def __init__(self):
        self.deadline = time.monotonic() + MAX_SECONDS
        self.iterations = 0

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise LimitExceeded("time", f"{MAX_SECONDS:g} s")


_budget: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar(
    "merge_budget", default=None
)


def _current() -> _Budget:
    budget = _budget.get()
    if budget is None:  # rendered outside render_bounded(): bound it anyway
        budget = _Budget()
        _budget.set(budget)
    return budget


def _check_number(value) -> None:
    if isinstance(value, bool):
        return
    if isinstance(value, int) and abs(value) > MAX_NUMBER:
        raise LimitExceeded("number", str(value)[:20])
    if isinstance(value, float) and abs(value) > MAX_NUMBER * 1000:
        raise LimitExceeded("number", f"{value:.3g}")


def _check_size(value) -> None:
    if isinstance(value, str | list | tuple | dict) and len(value) > MAX_OUTPUT:
        raise LimitExceeded("output", f"{len(value)} characters")


def _check_arguments(args: tuple, kwargs: dict) -> None:
    for value in (*args, *kwargs.values()):
        _check_number(value)


@pass_context
def _bounded_iterable(_context, iterable: Iterable) -> Iterator:
    """Wraps every {% for %}: counts steps against the render's budget."""
    budget = _current()
    for item in iterable:
        budget.iterations += 1
        if budget.iterations > MAX_ITERATIONS:
            raise LimitExceeded("loop", f"{MAX_ITERATIONS} steps")
        if budget.iterations % 100 == 0:
            budget.check_time()
        yield item


def _bounded_range(*args) -> range:
    _check_arguments(args, {})
    numbers = range(*args)
    if len(numbers) > MAX_ITERATIONS:
        raise LimitExceeded("loop", f"range of {len(numbers)}")
    return numbers


def _bounded_filter(function):
    # The value filtered comes first (after the context/environment some filters take):
    # only the arguments after it are widths and counts.
    skip = 2 if getattr(function, "jinja_pass_arg", None) else 1

    @functools.wraps(function)
    def wrapped(*args, **kwargs):
        _check_arguments(args[skip:], kwargs)
        _current().check_time()
        result = function(*args, **kwargs)
        _check_size(result)
        return result

    return wrapped


def _product_size(left, right) -> int | None:
    for sequence, count in ((left, right), (right, left)):
        if isinstance(sequence, str | list | tuple) and isinstance(count, int):
            return len(sequence) * max(count, 0)
    return None


class BoundedEnvironment(SandboxedEnvironment):
    intercepted_binops = frozenset({"*", "%", "**", "//", "/"})

    def __init__(self, **options):
        super().__init__(**options)
        self.filters = {
            name: _bounded_filter(self.filters[name])
            for name in ALLOWED_FILTERS
            if name in self.filters
        }
        self.filters["hearth_bounded"] = _bounded_iterable
        self.globals = {"range": _bounded_range}

    def call_binop(self, context, operator, left, right):
        _current().check_time()
        if operator == "%" and isinstance(left, str):
            raise LimitExceeded("statement", "% formatting")
        if operator == "*":
            size = _product_size(left, right)
            if size is not None and size > MAX_OUTPUT:
                raise LimitExceeded("output", f"{size} characters")
            if isinstance(left, int) and isinstance(right, int):
                if left.bit_length() + right.bit_length() > MAX_INT_BITS:
                    raise LimitExceeded("number", "too large a product")
        if operator == "**":
            if not isinstance(right, int | float) or abs(right) > 64:
                raise LimitExceeded("number", "too large a power")
            if isinstance(left, int) and left.bit_length() * abs(right) > MAX_INT_BITS:
                raise LimitExceeded("number", "too large a power")
        result = super().call_binop(context, operator, left, right)
        _check_size(result)
        return result

    def wrap_str_format(self, value):
        # str.format / format_map take widths inside the string ("{:>999999999}"): refused
        # like every other method not in ALLOWED_METHODS.
        return None

    def is_safe_attribute(self, obj, attr: str, value) -> bool:
        if not super().is_safe_attribute(obj, attr, value):
            return False
        if not callable(value):
            return True
        for kind, names in ALLOWED_METHODS.items():
            if isinstance(obj, kind):
                return attr in names
        return attr == "cycle"  # loop.cycle(…)

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 - Jinja's signature
        _check_arguments(args, kwargs)
        _current().check_time()
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str) and getattr(__obj, "__name__", "") == "replace" and args:
            growth = max(len(str(args[1])) if len(args) > 1 else 0, 1)
            if len(owner) * growth > MAX_OUTPUT:
                raise LimitExceeded("output", "replace")
        result = super().call(__context, __obj, *args, **kwargs)
        _check_size(result)
        return result


def forbidden_statement(parsed: nodes.Template) -> tuple[str, int | None] | None:
    """The first statement merge templates may not use (loading templates, macros, recursive
    loops), with its line."""
    for node in parsed.find_all((nodes.Stmt,)):
        for kind, name in FORBIDDEN_NODES.items():
            if isinstance(node, kind):
                return name, node.lineno
        if isinstance(node, nodes.For) and node.recursive:
            return "recursive", node.lineno
    return None


def bound_loops(parsed: nodes.Template) -> nodes.Template:
    """Every {% for %} iterates through the budget counter."""
    for loop in parsed.find_all(nodes.For):
        loop.iter = nodes.Filter(
            loop.iter, "hearth_bounded", [], [], None, None, lineno=loop.lineno
        )
    return parsed


def render_bounded(template, values: dict) -> str:
    """Renders within the bounds: at most MAX_OUTPUT characters, MAX_SECONDS."""
    token = _budget.set(_Budget())
    try:
        budget = _budget.get()
        pieces: list[str] = []
        size = 0
        for piece in template.generate(**values):
            size += len(piece)
            if size > MAX_OUTPUT:
                raise LimitExceeded("output", f"more than {MAX_OUTPUT} characters")
            budget.check_time()
            pieces.append(piece)
        return "".join(pieces)
    finally:
        _budget.reset(token)
