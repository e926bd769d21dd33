"""The layers stay apart: services, models, jobs and the database layer never reach up into
blueprints (views) or request-bound helpers, so they run the same from a view, the worker,
the command line and a test."""

import ast
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app"
LOWER_LAYERS = [
    *sorted((APP / "services").rglob("*.py")),
    *sorted((APP / "models").rglob("*.py")),
    *sorted((APP / "db").rglob("*.py")),
    APP / "tasks.py",
]
# Modules that only make sense inside a web request.
FORBIDDEN_MODULES = ("app.blueprints", "app.security", "app.htmx", "app.errors", "app.templating")
# Names that read the current request or signed-in user.
FORBIDDEN_NAMES = {
    "flask": {"request", "session"},
    "flask_login": {"current_user", "login_user", "logout_user"},
}
# The database layer decides the write lock from the request's method, when there is one.
ALLOWED = {("app/db/__init__.py", "flask", "request")}


def _imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                yield node.module, alias.name


def test_lower_layers_do_not_import_views_or_request_helpers():
    problems = []
    for path in LOWER_LAYERS:
        where = str(path.relative_to(APP.parent))
        for module, name in _imports(path):
            if module.startswith(FORBIDDEN_MODULES):
                problems.append(f"{where}: imports {module}")
            elif name in FORBIDDEN_NAMES.get(module, ()) and (where, module, name) not in ALLOWED:
                problems.append(f"{where}: imports {name} from {module}")
    assert not problems, "\n".join(problems)


def test_the_check_sees_a_violation(tmp_path):
    """The check itself works: a service importing a view or the request is caught."""
    bad = tmp_path / "bad.py"
    bad.write_text("from flask import request\nfrom app.blueprints.customers import bp\n")
    found = list(_imports(bad))
    assert ("flask", "request") in found and ("app.blueprints.customers", "bp") in found
