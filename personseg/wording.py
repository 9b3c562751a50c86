"""Words in the summaries every stage prints: counts with the right plural ("1 image", "2 images")."""

from __future__ import annotations


def plural(count: int, word: str, many: str | None = None) -> str:
    """`count` and `word`, plural unless the count is exactly 1: plural(1, "image") -> "1 image".

    `many` is the plural form when it is not `word + "s"` (plural(2, "person", "people"))."""
    return f"{count} {word if count == 1 else many or word + 's'}"
