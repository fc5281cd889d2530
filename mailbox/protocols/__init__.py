"""The protocol layer: IMAP, POP3, SMTP and MIME, knowing nothing of Django.

Functions here take explicit arguments (host, port, security, credentials, timeouts) and return
frozen dataclasses; they raise the typed errors of `errors.py`. Nothing below this package may
import django: a test checks it.
"""
