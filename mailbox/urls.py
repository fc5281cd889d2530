"""The reading side: lists, messages, search and actions (issue 5). Every view needs a
signed-in user and scopes every id to that user (another person's ids answer 404)."""

from django.urls import path

from mailbox.views import (
    actions,
    compose,
    drafts,
    lists,
    message,
    outbox,
    parts,
    responses,
    suggestions,
    uploads,
)

app_name = "mail"

urlpatterns = [
    # Lists (mailbox/views/lists.py): the unified inbox, one folder, search.
    path("mail/", lists.unified_inbox, name="inbox"),
    path("mail/folder/<int:folder_id>/", lists.folder, name="folder"),
    path("mail/search/", lists.search, name="search"),
    path("mail/sidebar/", lists.sidebar, name="sidebar"),
    # One message (mailbox/views/message.py), by its location (folder + UID); a conversation.
    path("mail/m/<int:location_id>/", message.message, name="message"),
    path("mail/m/<int:location_id>/source/", message.source, name="source"),
    path("mail/m/<int:location_id>/print/", message.printable, name="print"),
    path("mail/thread/<int:thread_id>/", message.thread, name="thread"),
    path("mail/senders/trusted/", message.trust_sender, name="trust_sender"),
    # Parts (mailbox/views/parts.py): attachments with the session; the message frame and
    # its inline images under a signed, short-lived path (the frame has an opaque origin).
    path("mail/m/<int:location_id>/part/<str:part_id>", parts.attachment, name="attachment"),
    path("mail/frame/<str:token>/", parts.frame, name="frame"),
    path("mail/frame/<str:token>/part/<str:part_id>", parts.inline_part, name="inline_part"),
    # Changes (mailbox/views/actions.py).
    path("mail/actions/", actions.apply, name="actions"),
    # Writing (mailbox/views/compose.py): new, reply, reply all, forward; Send queues it.
    path("mail/compose/", compose.compose, name="compose"),
    path("mail/outbox/<int:outgoing_id>/undo/", compose.undo_send, name="undo_send"),
    # The Outbox (mailbox/views/outbox.py): what is on its way, failed or undecided; the
    # person takes a message back to compose, or settles an undecided one.
    path("mail/outbox/", outbox.outbox, name="outbox"),
    path("mail/outbox/<int:outgoing_id>/withdraw/", outbox.withdraw, name="outbox_withdraw"),
    path("mail/outbox/<int:outgoing_id>/arrived/", outbox.mark_arrived, name="outbox_arrived"),
    path("mail/outbox/<int:outgoing_id>/send-again/", outbox.send_again, name="outbox_send_again"),
    # Attachments (mailbox/views/uploads.py): one file staged for the page's Message-ID.
    path("mail/compose/attachments/", uploads.upload, name="compose_upload"),
    path(
        "mail/compose/attachments/<int:upload_id>/remove/",
        uploads.remove,
        name="compose_upload_remove",
    ),
    # Drafts (mailbox/views/drafts.py): the list, compose's autosave; Save and Discard go
    # through compose.
    path("mail/drafts/", drafts.listing, name="drafts"),
    path("mail/drafts/save/", drafts.save, name="draft_save"),
    # Address suggestions for To, Cc, Bcc (mailbox/views/suggestions.py).
    path("mail/compose/suggestions/", suggestions.suggestions, name="suggestions"),
    # Saved responses (mailbox/views/responses.py): the page, add, edit, delete; the picker
    # compose's tools row loads.
    path("mail/responses/", responses.responses, name="responses"),
    path("mail/responses/add/", responses.add, name="response_add"),
    path("mail/responses/<int:response_id>/", responses.edit, name="response_edit"),
    path("mail/responses/<int:response_id>/delete/", responses.delete, name="response_delete"),
    path("mail/responses/picker/", responses.picker, name="response_picker"),
]
