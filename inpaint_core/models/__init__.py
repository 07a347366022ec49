"""The network families; importing this package registers each of them."""

from . import (
    mdrn,  # noqa: F401
    opencv_engines,  # noqa: F401
)
