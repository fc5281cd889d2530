"""`manage.py mailsettings ADDRESS`: what discovery finds for an address, as JSON."""

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.services.discovery import find_settings
from accounts.validation import normalise_address


class Command(BaseCommand):
    help = "Prints the mail servers discovery finds for ADDRESS as JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("address")

    def handle(self, *args: Any, address: str, **options: Any) -> None:
        try:
            address = normalise_address(address)
        except ValidationError as exc:
            raise CommandError(exc.messages[0]) from None
        found = find_settings(address)
        if found is None:
            raise CommandError(f"No mail settings found for {address}.")
        self.stdout.write(json.dumps(found.to_json(), indent=2))
