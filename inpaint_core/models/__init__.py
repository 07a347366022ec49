"""The network families; importing this package registers each of them."""

from . import ctsdg, deepfill, isfrnet, mdrn, opencv_engines, progressive, psp  # noqa: F401
