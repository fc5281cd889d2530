"""Thin views over mailbox/selectors (reading) and mailbox/services (changes)."""
