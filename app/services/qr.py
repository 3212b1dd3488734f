"""QR codes drawn here, as inline SVG: no outside service sees the links, and no image request
is needed (the page's content security policy allows none from elsewhere)."""

from __future__ import annotations

import segno
from markupsafe import Markup, escape


def svg(data: str, *, title: str, description: str, css_class: str = "app-qr") -> Markup:
    """An <svg> element that scales to its box, with a text alternative for screen readers.

    Error correction "M" survives a poster that is creased or a little smudged; segno raises it
    further when the code has room to spare.
    """
    code = segno.make(data, error="m", micro=False)
    drawing = code.svg_inline(
        scale=1,
        border=4,
        dark="#000",
        light="#fff",
        omitsize=True,
        svgclass=css_class,
        lineclass=None,
        title=title,
        desc=description,
    )
    # role="img" with a name makes it one image to assistive technology, not a drawing of paths.
    labelled = drawing.replace(
        "<svg ", f'<svg role="img" aria-label="{escape(description)}" focusable="false" ', 1
    )
    # Safe to mark up: segno escapes the title and description it writes, the label is escaped
    # above, and the rest is numbers and path commands.
    return Markup(labelled)  # noqa: S704
