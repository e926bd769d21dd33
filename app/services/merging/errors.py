"""Why a merge (or its undo) was refused: a code the page turns into words, and its status."""

# code -> HTTP status: 409 when the records' state forbids it, 422 when the request is wrong.
STATUSES = {
    "same": 422,
    "choice": 422,
    "missing": 404,
    "erased": 409,
    "merged": 409,
    "changed": 409,
    "undone": 409,
    "merged_again": 409,
}


class MergeError(ValueError):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code
        self.status = STATUSES.get(code, 422)
