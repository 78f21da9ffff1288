"""One error type for bad input: the message names the file/key and the fix."""


class CostlabError(RuntimeError):
    """Raised for user-fixable problems (bad config, missing file, malformed data).

    Entry points print only the message (no traceback) and exit non-zero.
    """

    def __init__(self, what: str, fix: str | None = None):
        self.what = what
        self.fix = fix
        super().__init__(what if not fix else f"{what}\n  fix: {fix}")
