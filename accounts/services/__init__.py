"""Business logic for users' mail accounts; views, commands and tasks call these.

Naming: `check_*` takes a user and untrusted ids and authorises (404 for anybody else's);
`do_*` assumes both are fine and writes.
"""
