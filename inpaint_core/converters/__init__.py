"""Converters of official release checkpoints into our state-dict layouts (``torch.load(weights_only=True)`` only)."""
