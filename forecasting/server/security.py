"""Cookies, CSRF tokens and security headers of the team server.

The browser holds one signed cookie (``forecast_session``): ``{"s": session id or null,
"c": CSRF token}``.  The session id is random, made fresh at every sign-in, and valid only
while the journal's ``auth_events`` say so (signed in, not signed out, not expired): the
signature only stops tampering, it grants nothing by itself.  Every POST form carries the
CSRF token in a hidden field ``csrf_token``; a request whose token does not match is refused.
The JSON API takes ``Authorization: Bearer TOKEN`` and ignores cookies, so it needs no CSRF
token.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

__all__ = [
    "COOKIE_NAME",
    "CookieCodec",
    "content_security_policy",
    "csrf_ok",
    "new_csrf",
    "security_headers",
]

COOKIE_NAME = "forecast_session"
#: a cookie older than this is ignored whatever it says (sessions themselves expire sooner)
COOKIE_MAX_AGE = 30 * 24 * 3600


class CookieCodec:
    """Sign and check the session cookie."""

    def __init__(self, key: str) -> None:
        self._s = URLSafeTimedSerializer(key, salt="forecast-session")

    def dump(self, data: dict[str, Any]) -> str:
        return str(self._s.dumps(data))

    def load(self, raw: str | None) -> dict[str, Any] | None:
        if not raw or len(raw) > 4096:
            return None
        try:
            data = self._s.loads(raw, max_age=COOKIE_MAX_AGE)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("c"), str):
            return None
        sid = data.get("s")
        return {"s": sid if isinstance(sid, str) else None, "c": data["c"]}


def new_csrf() -> str:
    return secrets.token_urlsafe(24)


def csrf_ok(expected: str | None, given: Any) -> bool:
    return (
        isinstance(expected, str)
        and isinstance(given, str)
        and bool(given)
        and hmac.compare_digest(expected.encode(), given.encode())
    )


def content_security_policy(nonce: str) -> str:
    """No inline script except under this request's nonce; styles and images from here."""
    return (
        "default-src 'none'; "
        f"script-src 'nonce-{nonce}'; "
        "style-src 'self'; "
        "img-src 'self' data:; "
        "connect-src 'self'; "
        "form-action 'self'; "
        "frame-ancestors 'none'; "
        "base-uri 'none'"
    )


#: the served team report is a self-contained page with inline styles and SVG
REPORT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
#: charts are served as images; their inline <style> applies only inside them
SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'"


def security_headers(nonce: str, csp: str | None = None) -> dict[str, str]:
    return {
        "Content-Security-Policy": csp or content_security_policy(nonce),
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    }
