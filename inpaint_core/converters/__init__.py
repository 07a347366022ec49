"""Converters of official release checkpoints to our layout (read with ``torch.load(weights_only=True)``)."""
