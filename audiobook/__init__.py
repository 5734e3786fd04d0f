"""audiobook: turn a written essay into a podcast-style audio edition."""

__version__ = "0.1.0"
