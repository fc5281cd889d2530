"""Attachments staged on the compose page, by (user, the page's Message-ID): files uploaded
one by one, the original's attachments when forwarding, and those of a message taken back by
Undo (read again from the cancelled row's Sent copy, which holds exactly what was queued,
plain file-input files too, so nothing has to be kept for Undo). Send takes every staged
file with the form's own files (`draft_attachments`) and, once the message is queued, the
staged rows and their files are removed (`do_forget_staged`). Why the bytes are files of
their own: mailbox/models/uploads.py. Limits: mailbox/services/upload_limits.py.
"""

import datetime as dt
import os
import re
import uuid
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from mailbox.models import ComposeUpload, Message, OutgoingMessage
from mailbox.protocols import mime
from mailbox.protocols.mime_build import MAX_ID_LENGTH, OutgoingAttachment
from mailbox.services.parts import download_name, part_content

STALE_AFTER = dt.timedelta(days=14)  # a compose page left open longer loses its files
FALLBACK_TYPE = "application/octet-stream"
_MESSAGE_ID = re.compile(r"<[!-;=?-~]{1,200}@[!-;=?-~]{1,200}>")  # as the compose form's
# A single-part type as mime_build takes it; anything else a browser says is sent as a file.
_SINGLE_PART_TYPE = re.compile(
    r"(?!multipart/)[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*"
)


def is_message_id(value: str) -> bool:
    return len(value) <= MAX_ID_LENGTH and _MESSAGE_ID.fullmatch(value) is not None


def _root() -> Path:
    return Path(settings.MAIL_STORAGE_DIR)


def staged(user: User, message_id: str) -> list[ComposeUpload]:
    return list(ComposeUpload.objects.filter(user=user, message_id=message_id))


def staged_total(user: User, message_id: str) -> int:
    found = ComposeUpload.objects.filter(user=user, message_id=message_id).aggregate(Sum("size"))
    return int(found["size__sum"] or 0)


def check_message_id_for_user(user: User, message_id: str) -> None:
    """404 when another person has files staged under this Message-ID (ids are random, so
    only a borrowed one does)."""
    if ComposeUpload.objects.filter(message_id=message_id).exclude(user=user).exists():
        raise Http404("No such message.")


def check_upload_for_user(user: User, upload_id: int) -> ComposeUpload:
    try:
        return ComposeUpload.objects.get(pk=upload_id, user=user)
    except ComposeUpload.DoesNotExist:
        raise Http404("No such attachment.") from None


def do_stage_file(user: User, message_id: str, upload: Any) -> ComposeUpload:
    """Stores one uploaded file (a Django UploadedFile: in memory or a temporary file)."""
    return _stage(user, message_id, upload.name, upload.content_type, upload.chunks())


def do_stage_bytes(
    user: User, message_id: str, filename: str, content_type: str, data: bytes
) -> ComposeUpload:
    return _stage(user, message_id, filename, content_type, [data])


def do_remove(upload: ComposeUpload) -> None:
    path = upload.path
    upload.delete()
    transaction.on_commit(partial(_unlink, path))


def do_forget_staged(user: User, message_id: str) -> None:
    """After the message is queued (its raw holds the files now); stale ones go too."""
    _forget(ComposeUpload.objects.filter(user=user, message_id=message_id))
    do_forget_stale(user)


def do_forget_stale(user: User, now: dt.datetime | None = None) -> None:
    """Files of compose pages left and never sent."""
    cutoff = (now or timezone.now()) - STALE_AFTER
    _forget(ComposeUpload.objects.filter(user=user, created_at__lt=cutoff))


def draft_attachments(
    user: User, message_id: str, files: Iterable[Any]
) -> tuple[OutgoingAttachment, ...]:
    """What Send attaches: the staged files, then the form's own (the page without JS)."""
    found = [
        OutgoingAttachment(item.filename, item.content_type, _read(item.path))
        for item in staged(user, message_id)
    ]
    for upload in files:
        upload.seek(0)
        found.append(
            OutgoingAttachment(
                download_name(upload.name), _single_part_type(upload.content_type), upload.read()
            )
        )
    return tuple(found)


def do_stage_forwarded(user: User, message: Message, message_id: str) -> None:
    """The attachments of a message being forwarded (the caller checked it is the person's);
    inline images of its HTML stay behind with it. Not yet downloaded: nothing to carry."""
    for attachment in message.attachments.filter(is_inline=False).order_by("pk"):
        try:
            info, data = part_content(message, attachment.part_id)
        except KeyError:
            continue
        do_stage_bytes(user, message_id, info.filename, info.content_type, data)


def do_stage_cancelled(user: User, outgoing: OutgoingMessage) -> None:
    """The attachments of a message taken back (Undo), from its Sent copy; once only, so
    opening the page again neither doubles them nor brings back a file removed since."""
    if ComposeUpload.objects.filter(user=user, message_id=outgoing.message_id).exists():
        return
    raw = bytes(outgoing.sent_copy)
    for info in mime.parse_message(raw).attachments:
        if not info.is_inline:
            _, data = mime.attachment_bytes(raw, info.part_id)
            do_stage_bytes(user, outgoing.message_id, info.filename, info.content_type, data)


# Files ------------------------------------------------------------------------------------


def _stage(
    user: User,
    message_id: str,
    filename: str | None,
    content_type: str | None,
    chunks: Iterable[bytes],
) -> ComposeUpload:
    path, size = _write(user.pk, chunks)
    try:
        return ComposeUpload.objects.create(
            user=user,
            message_id=message_id,
            filename=download_name(filename),
            content_type=_single_part_type(content_type),
            size=size,
            path=path,
        )
    except BaseException:
        _unlink(path)
        raise


def _single_part_type(content_type: str | None) -> str:
    kind = (content_type or "").split(";", 1)[0].strip().lower()[:255]
    return kind if _SINGLE_PART_TYPE.fullmatch(kind) else FALLBACK_TYPE


def _write(user_id: int, chunks: Iterable[bytes]) -> tuple[str, int]:
    """A new file under a random name; written under a temporary one and renamed, so a name
    that exists always has its whole content."""
    relative = f"uploads/{user_id}/{uuid.uuid4().hex}"
    final = _root() / relative
    final.parent.mkdir(parents=True, exist_ok=True)
    partial_path = final.with_suffix(".part")
    size = 0
    try:
        with open(partial_path, "xb") as out:
            for chunk in chunks:
                out.write(chunk)
                size += len(chunk)
        os.replace(partial_path, final)
    except BaseException:
        partial_path.unlink(missing_ok=True)
        raise
    return relative, size


def _read(path: str) -> bytes:
    return (_root() / path).read_bytes()


def _unlink(path: str) -> None:
    (_root() / path).unlink(missing_ok=True)


def _forget(uploads: Any) -> None:
    paths = list(uploads.values_list("path", flat=True))
    uploads.delete()
    for path in paths:
        transaction.on_commit(partial(_unlink, path))
