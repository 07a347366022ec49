"""Converters from official release checkpoints to our safetensors layout."""
