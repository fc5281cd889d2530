"""A message's body frame, its inline images and its attachments, each under headers that keep
whatever they hold from running or being read as something else.

- frame: the sanitised HTML in a document of its own, for a sandboxed iframe (no scripts, an
  opaque origin). A second wall behind the sanitiser: its CSP loads nothing but inline styles
  and images from its own signed path (and, when allowed, remote images), and forbids forms,
  <base> and framing by other sites. Authenticated by the signed token in its path, since the
  browser may fetch it without the session cookie.
- inline_part: a `part/<id>` image of that frame, under the same token; raster images only.
- attachment: with the session; always a download (application/octet-stream unless a raster
  image), except ?inline=1 previews of raster images.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET

from mailbox.selectors.message import framed_message, has_part, location_for_user
from mailbox.services.frames import FrameGrant, read_frame_token
from mailbox.services.message_html import BodyNotStored, message_html
from mailbox.services.parts import content_disposition, part_content, raster_type

FILE_POLICY = "default-src 'none'; sandbox"
NOSNIFF = "nosniff"


def frame_policy(own_path: str, *, images: bool) -> str:
    """The frame's CSP. `own_path` is the frame's absolute URL, under which its `part/<id>`
    images load: narrower than 'self' (no other path of the app can be asked for anything),
    and independent of how a browser reads 'self' in a document whose origin is opaque
    (Chromium 156 matches it against the URL; the explicit source does not depend on it)."""
    remote = " https: http:" if images else ""
    return (
        "default-src 'none'; style-src 'unsafe-inline'; "
        f"img-src {own_path} data:{remote}; "
        "form-action 'none'; base-uri 'none'; frame-ancestors 'self'"
    )


def _refused(text: str, status: int) -> HttpResponse:
    response = HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")
    response["Content-Security-Policy"] = FILE_POLICY
    response["X-Content-Type-Options"] = NOSNIFF
    response["Cache-Control"] = "private, no-store"
    return response


def _grant(token: str) -> FrameGrant | HttpResponse:
    grant = read_frame_token(token)
    if grant is None:
        return _refused("This link has expired or is not valid: reload the page.", 403)
    return grant


@require_GET
@xframe_options_sameorigin
def frame(request: HttpRequest, token: str) -> HttpResponse:
    grant = _grant(token)
    if isinstance(grant, HttpResponse):
        return grant
    message = framed_message(grant.message_id, grant.user_id)
    if message is None:
        return _refused("This message is no longer here.", 404)
    try:
        html = message_html(message, images=grant.images)
    except BodyNotStored:
        return _refused("This message is still being downloaded.", 404)
    # No request: the frame's document needs no context processors (nor the session).
    response = HttpResponse(render_to_string("mail/frame.html", {"html": html}))
    own_path = request.build_absolute_uri(request.path)
    response["Content-Security-Policy"] = frame_policy(own_path, images=grant.images)
    response["Referrer-Policy"] = "no-referrer"
    response["X-Content-Type-Options"] = NOSNIFF
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def inline_part(request: HttpRequest, token: str, part_id: str) -> HttpResponse:
    grant = _grant(token)
    if isinstance(grant, HttpResponse):
        return grant
    message = framed_message(grant.message_id, grant.user_id)
    if message is None or not has_part(message, part_id):
        return _refused("No such image.", 404)
    try:
        info, data = part_content(message, part_id)
    except KeyError:
        return _refused("No such image.", 404)
    kind = raster_type(info.content_type)
    if kind is None:
        return _refused("No such image.", 404)
    response = HttpResponse(data, content_type=kind)
    response["X-Content-Type-Options"] = NOSNIFF
    response["Content-Security-Policy"] = FILE_POLICY
    response["Cache-Control"] = "private"
    return response


@login_required
@require_GET
def attachment(request: HttpRequest, location_id: int, part_id: str) -> HttpResponse:
    location = location_for_user(request.user, location_id)
    if not has_part(location.message, part_id):
        return _refused("No such attachment.", 404)
    try:
        info, data = part_content(location.message, part_id)
    except KeyError:
        return _refused("No such attachment.", 404)
    kind = raster_type(info.content_type)
    inline = kind is not None and request.GET.get("inline") == "1"
    return file_response(
        data, kind or "application/octet-stream", name=info.filename, inline=inline
    )


def file_response(
    data: bytes, content_type: str, *, name: str | None, inline: bool = False
) -> HttpResponse:
    """A file for the browser to save (or, for a raster image, to show): never to render."""
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = content_disposition(name, inline=inline)
    response["X-Content-Type-Options"] = NOSNIFF
    response["Content-Security-Policy"] = FILE_POLICY
    response["Cache-Control"] = "private"
    return response
