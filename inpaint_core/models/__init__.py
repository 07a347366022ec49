"""The network families; importing this package registers each of them."""

from . import opencv_engines  # noqa: F401
from . import ctsdg  # noqa: F401
