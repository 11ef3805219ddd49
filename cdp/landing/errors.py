"""The one exception the landing package raises to its callers."""

from __future__ import annotations


class LandingError(Exception):
    """Bad input that stops a landing run before it starts.

    The message is one line naming the offending path (a missing input folder, a
    malformed source declaration, a warehouse file another process holds). Bad
    *rows* and bad *files* never raise: they are rejected or recorded as failed.
    """


class FileFailed(Exception):
    """A whole file cannot be landed (unreadable, not UTF-8, broken header, ...).

    Internal: the loader records the file as failed with this reason and the run
    goes on with the next file.
    """
