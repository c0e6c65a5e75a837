"""Exception types the engine raises and the GUI and command line show to users."""


class ImageError(ValueError):
    """An input file or array cannot be used as an image.

    The message says what is wrong and, when known, which file: it is meant to
    be shown to the user as it is, without a traceback.
    """

    def __init__(self, message, path=None):
        self.path = None if path is None else str(path)
        super().__init__(f"{self.path}: {message}" if self.path else message)


class ParameterError(ValueError):
    """A method parameter is out of range or of the wrong kind."""


class ModelError(ValueError):
    """A Noise2Void model cannot be trained, saved, loaded or exported.

    A model folder is missing or corrupt, training diverged, or an export
    failed; the message is meant to be shown to the user as it is.
    """


class Cancelled(Exception):
    """Raised inside a long computation when its cancel token was set."""


class OutputExistsError(ImageError):
    """An output file or folder exists and replacing it was not allowed.

    ``path`` names it; the GUI and the command line word how to allow it.
    """

    def __init__(self, path, message="the file already exists; choose another name or allow overwriting"):
        super().__init__(message, path)
