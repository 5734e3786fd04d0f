"""Keeping long builds flat: hand freed heap back to the system."""
from __future__ import annotations

import ctypes


def release_free_memory() -> None:
    """Return freed heap to the system (glibc keeps it otherwise).

    A long clip's arrays are tens of MB, and a book's plan and build key a
    few more; without this a worker's RSS stays at its largest clip, and the
    main process at its largest moment, for the rest of a book.
    """
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc: nothing to do
