"""Business logic of the local store: sync, local actions, compose and send."""
