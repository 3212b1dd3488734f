"""Cleaning text people type. Templates autoescape; bleach strips any markup on the way in."""

from __future__ import annotations

import re
import unicodedata

import bleach

_SLUG_STRIP = re.compile(r"[^a-z0-9]+")


def clean_text(value: str | None) -> str:
    """Plain text only: tags removed, whitespace tidied, line breaks kept."""
    if not value:
        return ""
    text = bleach.clean(value, tags=set(), attributes={}, strip=True, strip_comments=True)
    # bleach escapes &, < and > in what it keeps; store the plain characters (autoescape renders).
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    lines = [" ".join(line.split()) for line in text.replace("\r\n", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def slugify(value: str, max_length: int = 80) -> str:
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    slug = _SLUG_STRIP.sub("-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-") or "theme"
