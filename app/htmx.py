"""htmx helpers: partial-or-page rendering, client redirects, Vary on HX-Request."""

from flask import Flask, Response, make_response, render_template

from app.extensions import htmx


def is_partial(target: str | None = None) -> bool:
    """True for an htmx request aimed at a part of the page (not hx-boost navigation)."""
    if not htmx or htmx.boosted:
        return False
    return target is None or htmx.target == target


def render_page_or_partial(page: str, partial: str, target: str | None = None, **context):
    """The whole page for a normal visit, only the partial for an htmx swap."""
    return render_template(partial if is_partial(target) else page, **context)


def client_redirect(url: str) -> Response:
    """Full-page navigation from an htmx request (HX-Redirect), a 303 otherwise."""
    if htmx:
        response = make_response("", 204)
        response.headers["HX-Redirect"] = url
        return response
    response = make_response("", 303)
    response.headers["Location"] = url
    return response


def install_vary_header(app: Flask) -> None:
    @app.after_request
    def _vary(response):
        response.vary.add("HX-Request")
        return response
