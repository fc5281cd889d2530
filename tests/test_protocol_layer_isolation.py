"""The protocol layer (IMAP, POP3, SMTP, MIME) must not know Django."""

import ast
from pathlib import Path

PROTOCOLS = Path(__file__).resolve().parents[1] / "mailbox" / "protocols"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_no_protocol_module_imports_django_or_our_apps() -> None:
    files = sorted(PROTOCOLS.rglob("*.py"))
    assert files, "the protocol package is missing"
    for path in files:
        for name in imported_modules(path):
            root = name.split(".")[0]
            assert root not in {"django", "accounts", "webmail", "celery"}, f"{path}: {name}"
            if root == "mailbox":
                assert name.startswith("mailbox.protocols"), f"{path}: {name}"
