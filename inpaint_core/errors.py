"""Errors raised by inpaint_core. Each message says what went wrong and what to do about it."""


class InpaintError(Exception):
    """Base class of every error raised on purpose by inpaint_core."""


class InputError(InpaintError, ValueError):
    """An image or mask that the pipeline cannot use as given."""


class UnknownModelError(InpaintError, KeyError):
    """A model name that is neither a registered preset, a catalog entry, a file nor a Hub repo id."""

    def __str__(self) -> str:  # KeyError quotes its message; show it plainly
        return str(self.args[0]) if self.args else ""


class WeightsError(InpaintError, RuntimeError):
    """A weights file that is missing, corrupt, truncated or does not match its model."""
