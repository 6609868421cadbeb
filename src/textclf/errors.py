"""The one exception type stages turn into a single ``error: ...`` line."""


class TextclfError(Exception):
    """A problem with the user's input (data, params, paths), not a bug."""
