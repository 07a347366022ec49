"""Discriminators used by the training objectives (never needed at inference)."""
