"""Keeping the local store in step with the mail server (IMAP; POP3 follows).

`sync_account` claims the account's lease (mailbox/services/lease.py), signs in, brings the
folder list up to date, then syncs folder by folder (imap_folder.py): new envelopes newest
first (the list is usable within seconds), flag changes and expunges (CONDSTORE/QRESYNC when
the server has them), then bodies (imap_bodies.py). Every batch is its own short transaction
and is safe to apply twice; the lease is renewed after each, and a sync that lost its lease
stops.
"""

from mailbox.services.sync.account import AccountBusy, SyncReport, sync_account, sync_folder_now

__all__ = ["AccountBusy", "SyncReport", "sync_account", "sync_folder_now"]
