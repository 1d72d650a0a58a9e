"""User-facing errors: anything a user can fix (a bad file, a bad setting) raises `LexituneError`.

The CLI turns it into one line on stderr and exit code 2; everything else is a bug and keeps its
traceback. Messages name the file and the line, element or field at fault.
"""


class LexituneError(Exception):
    """A problem with the user's input or configuration, explained in one line."""
