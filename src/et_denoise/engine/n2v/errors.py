"""The error a Noise2Void model raises when it cannot be trained, saved, loaded or exported."""


class ModelError(ValueError):
    """A model folder is missing or corrupt, training diverged, or an export failed.

    The message is meant to be shown to the user as it is.
    """
