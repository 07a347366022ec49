"""Loss terms and the per-family training objectives (used by the trainer; no import of accelerate here)."""

from .objective import GanObjective

__all__ = ["GanObjective"]
