"""Hole masks: operations on them (``ops``) and random generators for training (``generators``). 1 = hole."""

from .generators import MASK_GENERATORS, NTIRE_TYPES, generate_mask, load_mask_file
from .ops import bounding_boxes, feather, grow, hole_extent, shrink

__all__ = ["bounding_boxes", "feather", "grow", "hole_extent", "shrink"]
__all__ += ["MASK_GENERATORS", "NTIRE_TYPES", "generate_mask", "load_mask_file"]
