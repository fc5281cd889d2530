"""Attachments on the compose page (static/compose-attach.js): upload one file for the page's
Message-ID (?message_id=, and ?identity= for the From the page has chosen), answered with its
row (templates/mail/compose/_upload.html); remove one. The logic is in
mailbox/services/uploads.py and upload_limits.py.

A file too big is refused before its body is read: the Content-Length is checked first
(413), and `_Limit`, the first upload handler, stops reading as soon as the file's bytes pass
what the message may still take. Django reads no body without a Content-Length (its request
stream is cut at that length, 0 when there is none), so such a request is refused too (411).
For the limit to act before the body, the CSRF check waits until the handler is in place
(CsrfViewMiddleware would read the body first): Django's "modifying upload handlers on the
fly" recipe, csrf_exempt outside and csrf_protect inside.
"""

from django.contrib.auth.decorators import login_required
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from accounts.models import MailAccount
from accounts.services.mail_accounts import check_identity_for_user
from mailbox.services import uploads as service
from mailbox.services.upload_limits import allowance, size_problem, too_big

# Multipart boundaries, the part's headers (a long file name) and a CSRF field, at most.
ENVELOPE_SLACK = 16 * 1024


class _Limit(FileUploadHandler):
    """Counts the file's bytes as they arrive and stops reading past `room`."""

    def __init__(self, request: HttpRequest, room: int) -> None:
        super().__init__(request)
        self.room, self.received, self.exceeded = room, 0, False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.room:
            self.exceeded = True
            raise StopUpload(connection_reset=True)  # read no further
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler keeps the file


@csrf_exempt
@login_required
@require_POST
def upload(request: HttpRequest) -> HttpResponse:
    message_id = request.GET.get("message_id", "")
    if not service.is_message_id(message_id):
        raise Http404("No such message.")
    service.check_message_id_for_user(request.user, message_id)
    account = _account(request)
    attached = service.staged_total(request.user, message_id)
    room = allowance(attached, account)
    length = request.META.get("CONTENT_LENGTH", "")
    if not (length.isascii() and length.isdigit()):
        return _refused(411, "The upload did not say how big the file is; try again.")
    if int(length) > room + ENVELOPE_SLACK:
        return _refused(413, too_big("", int(length), attached, account))
    limit = _Limit(request, room)
    request.upload_handlers.insert(0, limit)
    return _receive(request, message_id, account, attached, limit)


@csrf_protect
def _receive(
    request: HttpRequest,
    message_id: str,
    account: MailAccount | None,
    attached: int,
    limit: _Limit,
) -> HttpResponse:
    sent = request.FILES.get("file")
    if limit.exceeded:
        return _refused(413, too_big("", limit.received, attached, account))
    if sent is None:
        return _refused(400, "No file came with the upload; choose it again.")
    if size_problem(attached + (sent.size or 0), account):
        return _refused(413, too_big(sent.name or "", sent.size or 0, attached, account))
    service.do_forget_stale(request.user)
    staged = service.do_stage_file(request.user, message_id, sent)
    return render(request, "mail/compose/_upload.html", {"upload": staged})


@login_required
@require_POST
def remove(request: HttpRequest, upload_id: int) -> HttpResponse:
    service.do_remove(service.check_upload_for_user(request.user, upload_id))
    return HttpResponse("")  # the row goes (compose-attach.js removes it)


def _account(request: HttpRequest) -> MailAccount | None:
    """The account of the From the page has chosen (404 unless it is the person's)."""
    identity_id = request.GET.get("identity", "")
    if not identity_id:
        return None
    if not (identity_id.isascii() and identity_id.isdigit()):
        raise Http404("No such identity.")
    return check_identity_for_user(request.user, int(identity_id)).account


def _refused(status: int, words: str) -> HttpResponse:
    return HttpResponse(words, status=status, content_type="text/plain; charset=utf-8")
