"""One error type for bad input: the message names the file/key and the fix."""


class CostlabError(RuntimeError):
    """Raised for user-fixable problems (bad config, missing file, malformed data).

    Entry points print only the message (no traceback) and exit non-zero.
    """

    def __init__(self, what: str, fix: str | None = None):
        self.what = what
        self.fix = fix
        super().__init__(what if not fix else f"{what}\n  fix: {fix}")


def report_error(e: CostlabError) -> None:
    """Print a CostlabError the way every entry point does: ``error: <what>`` and ``  fix: <fix>`` on stderr."""
    import sys

    print(f"error: {e.what}", file=sys.stderr)
    if e.fix:
        print(f"  fix: {e.fix}", file=sys.stderr)


class exit_on_error:  # noqa: N801  (used as a context manager and a decorator, like contextlib's)
    """The one error guard of every entry point (the ``costlab`` CLI, ``scripts/distill.py``): a CostlabError
    prints its message and fix (no traceback) and exits with status 2; anything else propagates unchanged."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, typ, exc, tb) -> bool:
        if isinstance(exc, CostlabError):
            report_error(exc)
            raise SystemExit(2) from None
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*a, **kw):
            with exit_on_error():
                return fn(*a, **kw)

        return wrapper
