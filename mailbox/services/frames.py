"""Signed, short-lived paths for a message's frame and the inline images inside it.

The body of a message is shown in an iframe sandboxed without allow-same-origin: its document
has an opaque origin, and the browser may fetch it, and the `part/<id>` images its HTML points
at, without the session cookie. So the path itself is the credential:
/mail/frame/<token>/, where the token signs (message id, user id, remote images allowed) with
a timestamp (django.core.signing, a salt of its own) and expires after
MAIL_FRAME_TOKEN_SECONDS. The views check on every request that the message is still that
person's and still shown somewhere, so a token outlives neither the account nor a delete.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "mailbox.frame"


@dataclass(frozen=True)
class FrameGrant:
    message_id: int
    user_id: int
    images: bool  # remote images allowed


def frame_token(grant: FrameGrant) -> str:
    return signing.dumps([grant.message_id, grant.user_id, int(grant.images)], salt=SALT)


def frame_url(grant: FrameGrant) -> str:
    return reverse("mail:frame", kwargs={"token": frame_token(grant)})


def read_frame_token(token: str) -> FrameGrant | None:
    """The grant a token carries; None when it is forged, malformed or expired."""
    try:
        value = signing.loads(token, salt=SALT, max_age=settings.MAIL_FRAME_TOKEN_SECONDS)
    except signing.BadSignature:  # SignatureExpired is one too
        return None
    match value:
        case [int(message_id), int(user_id), int(images)]:
            return FrameGrant(message_id, user_id, bool(images))
    return None
