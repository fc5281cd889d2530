from email import message_from_bytes

import pytest

from mailbox.conversations import Envelope, assign, group_batch, is_reply_like, subject_key
from tests.harness.messages import thread


def envelope(message_id: str, parent: str = "", refs: tuple[str, ...] = (), subject: str = "Hi"):  # type: ignore[no-untyped-def]
    return Envelope(message_id, parent, refs, subject)


@pytest.mark.parametrize(
    ("subject", "key"),
    [
        ("Re: Budget", "budget"),
        ("RE: re: Fwd: Budget  plan", "budget plan"),
        ("Aw: WG: Budget", "budget"),
        ("Re[2]: Budget", "budget"),
        ("[team-list] Re: Budget", "budget"),
        ("Budget", "budget"),
        ("", ""),
    ],
)
def test_subject_key_strips_reply_prefixes_and_list_tags(subject: str, key: str) -> None:
    assert subject_key(subject) == key


def test_reply_like_subjects() -> None:
    assert is_reply_like("Re: Budget") and is_reply_like("Fwd: x")
    assert not is_reply_like("Budget") and not is_reply_like("Re:")


def test_a_chain_arriving_out_of_order_is_one_conversation() -> None:
    batch = [
        envelope("<c>", "<b>", ("<a>", "<b>")),
        envelope("<a>"),
        envelope("<x>"),
        envelope("<b>", "<a>", ("<a>",)),
    ]

    groups = sorted(sorted(group) for group in group_batch(batch))

    assert groups == [[0, 1, 3], [2]]


def test_siblings_naming_a_missing_parent_are_one_conversation() -> None:
    batch = [envelope("<r1>", "<gone>"), envelope("<r2>", "", ("<gone>",))]

    assert len(group_batch(batch)) == 1


def test_a_batch_joins_and_merges_existing_conversations_keeping_the_oldest() -> None:
    batch = [envelope("<new>", "<old-a>", ("<old-a>", "<old-b>"))]

    [assignment] = assign(batch, {"<old-a>": 12, "<old-b>": 5}, {})

    assert assignment.thread_id == 5 and assignment.merged_thread_ids == (12,)


def test_a_reply_naming_nothing_known_joins_by_subject_only_when_reply_like() -> None:
    known_subjects = {"budget": 9}
    replies = assign([envelope("<r>", subject="Re: Budget")], {}, known_subjects)
    fresh = assign([envelope("<f>", subject="Budget")], {}, known_subjects)

    assert replies[0].thread_id == 9
    assert fresh[0].thread_id is None


def test_the_harness_thread_builder_makes_one_conversation() -> None:
    batch = []
    for raw in thread(length=4):
        parsed = message_from_bytes(raw)
        refs = tuple((parsed["References"] or "").split())
        batch.append(envelope(parsed["Message-ID"], parsed["In-Reply-To"] or "", refs))

    assert len(group_batch(batch)) == 1
