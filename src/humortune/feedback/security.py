"""Security of the review web app: a token for every request, CSRF protection, size limits, safe headers.

The review UI shows the owner's data and writes to the corpus, so even on 127.0.0.1 it trusts nobody:

* **A random token** (printed with the URL by ``humortune review``) is required for every request,
  video bytes and static files included. A first visit with ``?token=…`` sets an HttpOnly, SameSite=Strict
  session cookie and redirects to the same URL without the token, so the token does not stay in the
  address bar or the history. Scripts may instead send ``Authorization: Bearer <token>`` or
  ``X-Humortune-Token``. Missing or wrong credentials give **401**.
* **Cross-site requests** cannot write: every POST made with the session cookie must come from the same
  origin (``Origin``, else ``Referer``) *and* carry the per-session CSRF token (form field ``csrf_token``
  or header ``X-CSRF-Token``); otherwise **403**. Header-token clients need neither (a browser cannot
  send a custom header cross-site without a CORS preflight, which this app never grants).
* **Host check** against DNS rebinding: requests whose ``Host`` is not an allowed name are refused (400).
  `guard_app` extends the token and Host checks to the routes the review server shares with the JSON API
  (``/docs``, ``/openapi.json``, unknown paths); only ``/healthz`` and the ``/`` redirect answer without it.
* **One cookie per server**: its name is derived from the token, so two review servers on one machine
  (different ports, same host name) keep separate sessions.
* **Size limits**: a POST body larger than ``max_body_bytes`` gets **413**, a POST without a
  ``Content-Length`` gets **411**; field lengths are checked again by the handlers.
* **Headers**: a strict Content-Security-Policy (scripts and styles only from this app, no inline code),
  ``nosniff``, no framing, ``Referrer-Policy: same-origin``.

Model output is rendered by Jinja2 with autoescaping on (see `humortune.feedback.router`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import HTTPException, Request, Response
from fastapi.routing import APIRoute

__all__ = [
    "CSRF_FIELD",
    "SECURITY_HEADERS",
    "ReviewSecurity",
    "SecureRoute",
    "Session",
    "guard_app",
    "loopback_hosts",
    "secure_route_class",
]

CSRF_FIELD = "csrf_token"
"""Name of the hidden form field (and, as ``X-CSRF-Token``, the header) that carries the CSRF token."""

SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # Not no-referrer: with it, browsers send ``Origin: null`` on POSTs and the same-origin check fails.
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
"""Headers added to every response of the review app (video responses override ``Cache-Control``)."""


def loopback_hosts() -> set[str]:
    """Host names that always mean this machine."""
    return {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True, slots=True)
class Session:
    """Who is asking: a browser session (cookie) or a script holding the token (header)."""

    via: str
    """``cookie`` or ``header``."""
    sid: str | None = None
    """The session id, for cookie sessions (the CSRF token is derived from it)."""


@dataclass
class ReviewSecurity:
    """The review app's secret and limits. One instance per running app.

    ```python
    security = ReviewSecurity()            # random token
    print(f"http://127.0.0.1:8765/review/?token={security.token}")
    ```
    """

    token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    """The secret every request must prove it knows. Never logged."""
    allowed_hosts: set[str] | None = field(default_factory=loopback_hosts)
    """Accepted ``Host`` names (without port); ``None`` accepts any (only behind a trusted proxy)."""
    max_body_bytes: int = 256 * 1024
    """Largest POST body accepted: a 20,000-character Swedish narrative is up to 120 KB form-encoded."""
    cookie_name: str = ""
    """The session cookie's name; default ``humortune_review_<hash of the token>``. Browsers do not bind
    cookies to a port, so each server (each token) needs its own name, or two review servers on one host
    would overwrite each other's session."""
    secure_cookie: bool = False
    """Set the cookie's ``Secure`` flag (only when served over HTTPS)."""

    def __post_init__(self) -> None:
        if len(self.token) < 16:
            raise ValueError("the review token must be at least 16 characters")
        # Sessions are signed with a key derived from the token: a new token invalidates old cookies.
        self._key = hashlib.sha256(b"humortune-review-session\x00" + self.token.encode()).digest()
        if not self.cookie_name:
            self.cookie_name = "humortune_review_" + hashlib.sha256(b"cookie\x00" + self._key).hexdigest()[:12]

    def __repr__(self) -> str:  # never show the token
        return f"ReviewSecurity(allowed_hosts={self.allowed_hosts!r}, max_body_bytes={self.max_body_bytes})"

    # -- tokens -----------------------------------------------------------------------------------

    def _sign(self, purpose: str, value: str) -> str:
        return hmac.new(self._key, f"{purpose}\x00{value}".encode(), hashlib.sha256).hexdigest()[:32]

    def token_ok(self, candidate: str | None) -> bool:
        """Whether ``candidate`` is the token (constant-time)."""
        return bool(candidate) and hmac.compare_digest(str(candidate).encode(), self.token.encode())

    def new_session_cookie(self) -> str:
        """A fresh signed session cookie value."""
        sid = secrets.token_urlsafe(16)
        return f"{sid}.{self._sign('session', sid)}"

    def session_from_cookie(self, value: str | None) -> str | None:
        """The session id of a valid cookie value, else ``None``."""
        if not value or "." not in value:
            return None
        sid, _, signature = value.rpartition(".")
        if not sid or not hmac.compare_digest(signature.encode(), self._sign("session", sid).encode()):
            return None
        return sid

    def csrf_token(self, session: Session) -> str:
        """The CSRF token to embed in this session's forms (empty for header sessions)."""
        return self._sign("csrf", session.sid) if session.sid else ""

    # -- request checks ---------------------------------------------------------------------------

    def check_host(self, request: Request) -> None:
        """Refuse requests addressed to a host name we do not serve (DNS rebinding)."""
        if self.allowed_hosts is None:
            return
        host = request.headers.get("host", "")
        name = urlsplit(f"//{host}").hostname or ""
        if name not in self.allowed_hosts:
            raise HTTPException(400, "this host name is not served here; use the URL humortune printed")

    def authenticate(self, request: Request) -> Session:
        """The request's session, or an `HTTPException` (401; or 303 to set the cookie on a first visit)."""
        self.check_host(request)
        auth = request.headers.get("authorization", "")
        bearer = auth[7:].strip() if auth[:7].lower() == "bearer " else None
        header_token = bearer or request.headers.get("x-humortune-token")
        if header_token is not None:
            if self.token_ok(header_token):
                return Session("header")
            raise HTTPException(401, "wrong token", headers={"WWW-Authenticate": "Bearer"})
        sid = self.session_from_cookie(request.cookies.get(self.cookie_name))
        query_token = request.query_params.get("token")
        if query_token is not None:
            if not self.token_ok(query_token):
                raise HTTPException(401, "wrong token: open the URL printed by `humortune review`")
            if request.method in ("GET", "HEAD"):
                raise self._login_redirect(request)
            return Session("header")
        if sid is not None:
            return Session("cookie", sid)
        raise HTTPException(401, "this page needs the review token: open the URL printed by `humortune review`")

    def _login_redirect(self, request: Request) -> HTTPException:
        # Drop the token from the URL and hand the browser a session cookie instead.
        rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
        location = request.url.path + (f"?{urlencode(rest)}" if rest else "")
        response = Response()
        response.set_cookie(
            self.cookie_name,
            self.new_session_cookie(),
            httponly=True,
            samesite="strict",
            secure=self.secure_cookie,
            path="/",
        )
        headers = {"Location": location, "set-cookie": response.headers["set-cookie"]}
        return HTTPException(303, "signed in", headers=headers)

    def check_csrf(self, request: Request, session: Session, submitted: str | None) -> None:
        """Refuse a cookie-authenticated POST that is cross-origin or lacks this session's CSRF token."""
        if session.via == "header":
            return
        host = request.headers.get("host", "")
        expected = f"{request.url.scheme}://{host}"
        origin = request.headers.get("origin")
        if origin is None:
            referer = request.headers.get("referer")
            if referer:
                parts = urlsplit(referer)
                origin = f"{parts.scheme}://{parts.netloc}"
        if origin is None or origin != expected:
            raise HTTPException(403, "cross-origin request refused")
        token = submitted or request.headers.get("x-csrf-token") or ""
        if not hmac.compare_digest(token.encode(), self.csrf_token(session).encode()):
            raise HTTPException(403, "missing or stale form token: reload the page and try again")


_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _plain(status: int, message: str) -> Response:
    response = Response(message, status_code=status, media_type="text/plain; charset=utf-8")
    return _add_headers(response, SECURITY_HEADERS.items())


def _add_headers(response: Response, extra: Iterable[tuple[str, str]]) -> Response:
    for name, value in extra:
        if name.lower() not in response.headers:
            response.headers[name] = value
    return response


class SecureRoute(APIRoute):
    """An `APIRoute` that enforces the body-size limit before parsing and adds `SECURITY_HEADERS`.

    Use `secure_route_class` to get a subclass bound to one limit and one error renderer (which turns
    the `HTTPException` raised by handlers and dependencies into a small page).
    """

    max_body_bytes: int = 256 * 1024
    error_renderer: Callable[[Request, HTTPException], Response] | None = None

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()
        renderer = type(self).error_renderer

        async def handler(request: Request) -> Response:
            if request.method in _WRITE_METHODS:
                limit = self.body_limit(request)
                length = request.headers.get("content-length")
                if length is None:
                    return _plain(411, "Content-Length required")
                if not length.isdigit() or int(length) > limit:
                    return _plain(413, f"request body too large (limit {limit} bytes)")
            try:
                response = await original(request)
            except HTTPException as exc:
                if renderer is None:
                    raise
                response = renderer(request, exc)
            return _add_headers(response, SECURITY_HEADERS.items())

        return handler

    def body_limit(self, request: Request) -> int:
        """The largest request body accepted (a subclass may read it from the app serving ``request``)."""
        return self.max_body_bytes


def secure_route_class(
    max_body_bytes: int, error_renderer: Callable[[Request, HTTPException], Response] | None = None
) -> type[SecureRoute]:
    """A `SecureRoute` subclass with this body limit and error renderer, for ``APIRouter(route_class=…)``."""
    attrs: dict[str, Any] = {"max_body_bytes": max_body_bytes}
    if error_renderer is not None:
        attrs["error_renderer"] = staticmethod(error_renderer)
    return type("ReviewRoute", (SecureRoute,), attrs)


_OWN_AUTH = ("/review/", "/v1/")  # these routers check the token themselves (and render their own errors)


class _Guard:
    """ASGI middleware: the Host check on every request, the review token on every path not under
    `_OWN_AUTH` except ``/healthz`` and ``/`` (a redirect to the queue)."""

    def __init__(self, app: Any, security: ReviewSecurity) -> None:
        self.app = app
        self.security = security

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        path = request.url.path
        try:
            if path in ("/healthz", "/") or path.startswith(_OWN_AUTH):  # "/" only forwards to /review/
                self.security.check_host(request)
            else:
                self.security.authenticate(request)
        except HTTPException as exc:
            response = _guard_response(exc)
            await _add_headers(response, SECURITY_HEADERS.items())(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _guard_response(exc: HTTPException) -> Response:
    from fastapi.responses import JSONResponse

    headers = dict(exc.headers or {})
    if exc.status_code == 303:  # first visit with ?token=: set the cookie, drop the token from the URL
        return Response(status_code=303, headers=headers)
    names = {400: "BadHost", 401: "Unauthorized"}
    body = {"error": names.get(exc.status_code, "HTTPError"), "message": str(exc.detail)}
    return JSONResponse(body, status_code=exc.status_code, headers=headers)


def guard_app(app: Any, security: ReviewSecurity) -> None:
    """Put every route of ``app`` (a FastAPI app serving the review UI) behind ``security``'s checks."""
    app.add_middleware(_Guard, security=security)
