"""The zh_Hant catalog is complete and every template string is extracted."""

from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent


def test_zh_hant_catalog_is_complete_and_not_fuzzy():
    with open(ROOT / "app/translations/zh_Hant/LC_MESSAGES/messages.po", "rb") as handle:
        catalog = read_po(handle, locale="zh_Hant")
    missing = [
        m.id
        for m in catalog
        if m.id and not (m.string if isinstance(m.string, str) else all(m.string))
    ]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not missing, f"untranslated: {missing}"
    assert not fuzzy, f"fuzzy: {fuzzy}"


def test_catalog_covers_every_string_in_the_code():
    from babel.messages.extract import extract_from_dir

    with open(ROOT / "app/translations/zh_Hant/LC_MESSAGES/messages.po", "rb") as handle:
        known = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    method_map = [
        ("**.py", "python"),
        ("templates/**.html", "jinja2"),
        ("templates/**.txt", "jinja2"),
    ]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None,
                "lazy_pgettext": ((1, "c"), 2)}  # fmt: skip
    found = set()

    def every_folder(path: str) -> bool:
        # Babel's default skips folders starting with "_" (templates/_macros!), as the
        # Makefile's `pybabel extract --ignore-dirs` no longer does.
        name = Path(path).name
        return not name.startswith(".") and name != "__pycache__"

    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT / "app"), method_map=method_map, keywords=keywords, directory_filter=every_folder
    ):
        found.add(message if isinstance(message, str) else message[0])
    assert not (found - known), f"run `make i18n-update` and translate: {sorted(found - known)}"


def test_chinese_words_are_consistent():
    """One word for customers (顧客, never 客戶), and Timeline and Feed not both 動態."""
    with open(ROOT / "app/translations/zh_Hant/LC_MESSAGES/messages.po", "rb") as handle:
        catalog = read_po(handle, locale="zh_Hant")
    strings = {
        m.id if isinstance(m.id, str) else m.id[0]: m.string
        if isinstance(m.string, str)
        else m.string[0]
        for m in catalog
        if m.id
    }
    assert not [s for s in strings.values() if "客戶" in s]
    assert strings["Timeline"] != strings["Feed"]
