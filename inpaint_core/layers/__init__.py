"""Shared network blocks (partial convolution, attention, ...)."""
