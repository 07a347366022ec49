"""The network families; importing this package registers each of them."""

from . import isfrnet, mdrn, opencv_engines, psp  # noqa: F401
