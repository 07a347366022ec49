"""The network families; importing this package registers each of them."""

from . import opencv_engines  # noqa: F401
from . import deepfill  # noqa: F401
from . import progressive  # noqa: F401
