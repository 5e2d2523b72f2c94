"""One exception type for every mistake a user can make; the CLI prints it as one line."""


class AtlasError(Exception):
    """A user-facing error: bad input, missing weights, unwritable output, corrupt cache.

    The CLI prints ``atlas: error: <message>`` and exits non-zero, never a traceback.
    """
