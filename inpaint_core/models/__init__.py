"""The network families; importing this package registers each of them."""

from . import (
    ctsdg,  # noqa: F401
    opencv_engines,  # noqa: F401
)
