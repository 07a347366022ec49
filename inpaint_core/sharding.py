"""Splitting a list of jobs across processes started by ``accelerate launch`` or ``torchrun``.

Both set ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK`` in each process's environment; reading them here keeps the
library free of an ``accelerate`` import. Outside a launcher there is one process, which takes every job.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TypeVar

from .errors import InputError

T = TypeVar("T")


def process_rank() -> tuple[int, int]:
    """``(rank, world_size)`` of this process: ``(0, 1)`` unless a launcher set ``RANK`` and ``WORLD_SIZE``."""
    try:
        rank, world = int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))
    except ValueError as error:
        raise InputError(f"RANK and WORLD_SIZE must be integers: {error}") from error
    if world < 1 or not 0 <= rank < world:
        raise InputError(f"RANK={rank} and WORLD_SIZE={world} do not describe a process of a launch")
    return rank, world


def share(jobs: Sequence[T]) -> list[tuple[int, T]]:
    """This process's jobs with their indices in ``jobs``: every ``world_size``-th, from its rank (so the shares
    differ by at most one job and their union is every job once)."""
    rank, world = process_rank()
    return [(index, jobs[index]) for index in range(rank, len(jobs), world)]


def process_device(device: str) -> str:
    """``device``, with a bare ``"cuda"`` pinned to this process's GPU (``LOCAL_RANK``) under a launcher."""
    if device == "cuda" and "LOCAL_RANK" in os.environ:
        return f"cuda:{int(os.environ['LOCAL_RANK'])}"
    return device
