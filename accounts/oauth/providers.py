"""OAuth providers from the data file (accounts/discovery/providers.json, key "oauth").

The endpoints live in the data file, not in code, so a deployment (or the tests) can point
them elsewhere by naming another file in the OAUTH_PROVIDERS_FILE setting.
"""

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class OAuthProvider:
    id: str  # what a mail provider's "oauth" names, e.g. "google"
    name: str  # for "Sign in with <name>"
    authorization_endpoint: str
    token_endpoint: str
    scopes: tuple[str, ...]
    authorization_params: tuple[tuple[str, str], ...]  # e.g. Google's access_type=offline
    client_id_setting: str
    client_secret_setting: str


@cache
def load_oauth_providers(path: Path) -> dict[str, OAuthProvider]:
    """The "oauth" table of `path`, checked once; a bad entry fails loudly at first use."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return {key: _provider(key, entry) for key, entry in data.get("oauth", {}).items()}


def _provider(key: str, entry: dict[str, Any]) -> OAuthProvider:
    for field in ("authorization_endpoint", "token_endpoint"):
        # Codes, verifiers and secrets travel to these: never over plain HTTP.
        if urlsplit(entry[field]).scheme != "https":
            raise ValueError(f"oauth {key}: {field} must be an https URL")
    if not entry["scopes"]:
        raise ValueError(f"oauth {key}: needs scopes")
    return OAuthProvider(
        id=key,
        name=entry["name"],
        authorization_endpoint=entry["authorization_endpoint"],
        token_endpoint=entry["token_endpoint"],
        scopes=tuple(entry["scopes"]),
        authorization_params=tuple(sorted(entry.get("authorization_params", {}).items())),
        client_id_setting=entry["client_id_setting"],
        client_secret_setting=entry["client_secret_setting"],
    )
