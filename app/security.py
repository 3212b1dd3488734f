"""Security headers, set in one place for every response."""

from __future__ import annotations

import secrets

from flask import Flask, Response, g, request


def _nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def _new_nonce() -> None:
    # A fresh nonce per request, even where an app context outlives requests (tests, CLI).
    g.csp_nonce = secrets.token_urlsafe(18)


def content_security_policy(nonce: str, frame_ancestors: str = "'none'") -> str:
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            f"frame-ancestors {frame_ancestors}",
        ]
    )


def init_security(app: Flask) -> None:
    app.before_request(_new_nonce)

    @app.context_processor
    def inject_nonce() -> dict[str, str]:
        return {"cspNonce": _nonce()}

    @app.after_request
    def set_security_headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = content_security_policy(_nonce())
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        # Private pages show raw feedback: keep them out of shared and back-button caches.
        if request.endpoint and not request.endpoint.startswith(("public.", "static", "assets")):
            response.headers.setdefault("Cache-Control", "no-store")
        return response
