"""The content package knows nothing of Django, and its rules hang together."""

import ast
from pathlib import Path

from bleach.html5lib_shim import constants

from mailbox.content.nesting import P_CLOSERS, TABLE_PARENTS
from mailbox.content.rules import ALLOWED_TAGS, DROPPED_TAGS, TAG_ATTRIBUTES
from mailbox.content.serialize import VOID_ELEMENTS

CONTENT = Path(__file__).resolve().parents[2] / "mailbox" / "content"
RAW_TEXT_ELEMENTS = {"script", "style", "textarea", "title", "xmp", "iframe", "noembed"}
RAW_TEXT_ELEMENTS |= {"noframes", "noscript", "plaintext"}


def imported_roots(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_no_content_module_imports_django_or_our_apps() -> None:
    files = sorted(CONTENT.rglob("*.py"))
    assert len(files) >= 5, "the content package is missing"
    for path in files:
        assert not imported_roots(path) & {"django", "accounts", "webmail", "celery"}, path


def test_kept_and_dropped_elements_do_not_overlap() -> None:
    assert not ALLOWED_TAGS & DROPPED_TAGS
    assert set(TAG_ATTRIBUTES) <= ALLOWED_TAGS


def test_no_raw_text_element_is_kept() -> None:
    # The serialiser escapes all text: inside these elements that would show entities, and
    # their content is where mutation XSS lives.
    assert not ALLOWED_TAGS & RAW_TEXT_ELEMENTS
    assert RAW_TEXT_ELEMENTS <= DROPPED_TAGS


def test_the_serialiser_knows_every_void_element_we_keep() -> None:
    assert ALLOWED_TAGS & frozenset(constants.voidElements) == VOID_ELEMENTS


def test_the_nesting_rules_only_name_elements_we_keep() -> None:
    assert P_CLOSERS <= ALLOWED_TAGS
    assert set(TABLE_PARENTS) <= ALLOWED_TAGS
