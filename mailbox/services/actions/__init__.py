"""What a person does to their mail, applied here at once and replayed on the server.

    locations = check_locations_for_user(request.user, ids)   # 404 for anybody else's
    do_set_flag(locations, Flag.SEEN, True)

`check_*` turns a user and untrusted ids into that user's rows (Http404 otherwise); `do_*`
trusts its arguments and refuses only what cannot be done (ActionNotPossible, in words for
the person). Each `do_*` changes the store and appends PendingAction rows in one transaction,
and asks for the replay task once it commits (queue.py). The replay (replay.py) runs under the
account's sync lease, in order, and settles every action: done, failed (the local change put
back and `PendingAction.error` saying why, in words for the person) or postponed (connection
problems: tried again with growing delays, nothing lost).

Rules that keep the store and the server from undoing each other:
- One waiting row per key (queue.py): the same change twice is one row, and the person's
  latest click wins: read → unread → read is one row setting \\Seen; a second move changes
  the first's destination, and a move back to where the server has the message cancels it.
  Renames are not merged (what was queued between two renames used the name in between); a
  folder created and deleted before the replay never reaches the server.
- A sync never overwrites the flags of a location with a waiting action (sync/flags.py), so a
  sync that was already running does not flip a change made here back.
- A moved location gets a negative placeholder UID (local.placeholder_uid) until the server
  says where the message went: COPYUID (UIDPLUS) at once; without it, or when a replay that
  died halfway left the message in the target already, the replay finds it among the target's
  newest unknown UIDs by Message-ID, size (and Gmail's id). If even that fails, the location is
  dropped and the target is fetched again (local.fetch_again): a second download at worst,
  never a duplicate or a lost message. The content row (Message) is shared, so nothing is
  downloaded again when the UID is known.
- A message deleted for good is hidden (`is_deleted`, as IMAP's \\Deleted) until the server
  confirms, then forgotten; a refusal unhides it.
- Actions replay in order, and each is sent with the names and UID the server has at that
  point (positions.py): a flag set before a move is stored in the source folder, one set after
  it in the target, under the UID the move returned.
- Local folders (POP3 accounts) change here only: nothing is queued for them.
"""

from mailbox.services.actions.access import (
    ActionNotPossible,
    check_folder_for_user,
    check_locations_for_user,
    check_move_target_for_user,
)
from mailbox.services.actions.folders import do_create_folder, do_delete_folder, do_rename_folder
from mailbox.services.actions.messages import (
    Flag,
    do_archive,
    do_delete,
    do_empty_folder,
    do_mark_folder_read,
    do_mark_not_spam,
    do_mark_spam,
    do_move,
    do_set_flag,
)
from mailbox.services.actions.replay import (
    ReplayReport,
    accounts_with_due_actions,
    replay_account,
    waiting_actions,
)

__all__ = [
    "ActionNotPossible",
    "Flag",
    "ReplayReport",
    "accounts_with_due_actions",
    "check_folder_for_user",
    "check_locations_for_user",
    "check_move_target_for_user",
    "do_archive",
    "do_create_folder",
    "do_delete",
    "do_delete_folder",
    "do_empty_folder",
    "do_mark_folder_read",
    "do_mark_not_spam",
    "do_mark_spam",
    "do_move",
    "do_rename_folder",
    "do_set_flag",
    "replay_account",
    "waiting_actions",
]
