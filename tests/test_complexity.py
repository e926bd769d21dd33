"""No function in app/ that a newcomer cannot hold in their head: radon's cyclomatic
complexity, which counts `and`/`or` (ruff's mccabe does not), at most 15 for every function.
Split by table or by step beyond this."""

from pathlib import Path

from radon.complexity import cc_visit

APP = Path(__file__).resolve().parent.parent / "app"
MAX_COMPLEXITY = 15


def test_no_function_is_over_the_complexity_limit():
    over = []
    for path in sorted(APP.rglob("*.py")):
        for block in cc_visit(path.read_text(encoding="utf-8")):
            if block.complexity > MAX_COMPLEXITY:
                where = path.relative_to(APP.parent)
                over.append(f"{where}:{block.lineno} {block.fullname} {block.complexity}")
    assert not over, "\n".join(over)


def test_the_counter_counts_boolean_operators():
    source = "def f(a, b, c, d):\n    if a and b or c and d:\n        return 1\n    return 0\n"
    assert cc_visit(source)[0].complexity > 2


MAX_MODULE_LINES = 500


def test_no_module_is_longer_than_a_newcomer_reads_in_one_go():
    """A module over 500 lines holds more than one job: split it by job (issue 28)."""
    long = [
        f"{path.relative_to(APP.parent)} {count}"
        for path in sorted(APP.rglob("*.py"))
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    ]
    assert not long, "\n".join(long)
