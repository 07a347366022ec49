"""The network families; importing this package registers each of them."""

from . import deepfill, isfrnet, mdrn, opencv_engines, progressive, psp  # noqa: F401
