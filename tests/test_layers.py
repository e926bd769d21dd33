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


def test_the_database_layer_does_not_reach_up_into_services():
    problems = [
        f"{path.relative_to(APP.parent)}: imports {module}"
        for path in sorted((APP / "db").rglob("*.py"))
        for module, _name in _imports(path)
        if module.startswith("app.services")
    ]
    assert not problems, "\n".join(problems)


def test_no_blueprint_imports_another_blueprints_views():
    """Helpers several areas' pages use live in app/blueprints/shared.py; a view of one area
    is never called from another (that hides cycles and who owns a page)."""
    problems = []
    for path in sorted((APP / "blueprints").rglob("*.py")):
        parts = path.relative_to(APP / "blueprints").parts
        own = parts[0] if len(parts) > 1 else None
        for module, name in _imports(path):
            pieces = module.split(".")
            if module.startswith("app.blueprints.") and len(pieces) > 2 and pieces[2] != own:
                imported = pieces[3] if len(pieces) > 3 else name
                if imported == "routes":
                    problems.append(f"{path.relative_to(APP.parent)}: imports {module}")
    assert not problems, "\n".join(problems)


# What reads the database: views ask a service instead (identity lookups by primary key,
# db.get_or_404 and db.session.get, stay: they are how a view turns a URL's id into a row).
QUERY_CALLS = {"select", "execute", "scalars", "scalar", "paginate", "query"}


def _queries(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            if name in QUERY_CALLS:
                yield node.lineno, name


def test_views_do_not_query_the_database():
    """Views parse the request, call one service, commit and render (CONVENTIONS.md)."""
    problems = [
        f"{path.relative_to(APP.parent)}:{line}: {name}(…)"
        for path in sorted((APP / "blueprints").rglob("*.py"))
        for line, name in _queries(path)
    ]
    assert not problems, "\n".join(problems)


def test_the_check_sees_a_violation(tmp_path):
    """The check itself works: a service importing a view or the request is caught."""
    bad = tmp_path / "bad.py"
    bad.write_text("from flask import request\nfrom app.blueprints.customers import bp\n")
    found = list(_imports(bad))
    assert ("flask", "request") in found and ("app.blueprints.customers", "bp") in found
    view = tmp_path / "view.py"
    view.write_text("import sqlalchemy as sa\nrows = db.session.scalars(sa.select(X)).all()\n")
    assert {name for _line, name in _queries(view)} == {"scalars", "select"}
