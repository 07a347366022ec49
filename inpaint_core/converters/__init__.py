"""Converters of official release checkpoints to our state-dict layout (read with ``torch.load(weights_only=True)``)."""
