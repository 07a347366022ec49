"""The network families; importing this package registers each of them."""

from . import ctsdg  # noqa: F401
from . import opencv_engines  # noqa: F401
