"""Pixels to faces: decode, detect (through backends), quality, align."""
