"""The network families; importing this package registers each of them."""

from . import ctsdg, deepfill, isfrnet, lama, mdrn, migan, opencv_engines, progressive, psp  # noqa: F401
