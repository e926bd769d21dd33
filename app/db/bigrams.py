"""CJK bigram tokens for the short-query search index (only the standard library: loaded
by every connection)."""

import re

# Runs of str.isalnum() characters: \w is exactly isalnum() plus "_", so "[^\W_]" is
# isalnum(). (The index must keep tokenising exactly as before: the delete triggers
# recompute the old tokens.)
_RUN = re.compile(r"[^\W_]+")


def text_runs(text: str) -> list[str]:
    """Maximal runs of letters and digits, lower-cased: "Amy 花生!" -> ["amy", "花生"]."""
    return _RUN.findall(text.lower())


def bigrams(text: str | None) -> str:
    """ "小明對花生過敏 Amy" -> "小明 明對 對花 花生 生過 過敏 敏 am my y".

    Every pair of neighbouring letters/digits, plus the last one of each run, so a
    2-character query is one exact token and a 1-character query a prefix token. The
    triggers that keep the index in sync call this as hearth_bigrams(): keep it deterministic.
    """
    tokens: list[str] = []
    for run in text_runs(text or ""):
        tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
        tokens.append(run[-1])
    return " ".join(tokens)
