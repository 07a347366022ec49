"""The network families; importing this package registers each of them."""

from . import (
    isfrnet,  # noqa: F401
    opencv_engines,  # noqa: F401
    psp,  # noqa: F401
)
