"""The composed message's headers, for the preview's Headers view (needs newsletter.compose)."""
from __future__ import annotations


def available() -> bool:
    """Whether composition is part of this build (the Headers view is hidden otherwise)."""
    try:
        from .. import compose  # noqa: F401
    except ImportError:
        return False
    return True
