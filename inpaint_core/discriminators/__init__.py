"""Discriminators used by the training objectives."""
