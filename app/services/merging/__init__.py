"""Duplicates: finding customers who are probably one person, merging two records into one
(everything of the other moves to the survivor) and undoing a merge. Callable with two
customer ids by any caller (the duplicate finder's pages, the importer)."""

from app.services.merging.errors import MergeError
from app.services.merging.finding import (
    DuplicatePair,
    find_pairs,
    mark_not_duplicate,
    name_key,
)
from app.services.merging.moving import (
    HANDLED_TABLES,
    MERGE_FIELDS,
    merge,
    merge_preview,
    merges_into,
    undo,
)

__all__ = [
    "HANDLED_TABLES",
    "MERGE_FIELDS",
    "DuplicatePair",
    "MergeError",
    "find_pairs",
    "mark_not_duplicate",
    "merge",
    "merge_preview",
    "merges_into",
    "name_key",
    "undo",
]
