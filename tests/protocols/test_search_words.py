"""A message's search words: what the index holds on both databases, split as queries are."""

from mailbox.protocols.mime_text import MAX_SEARCH_WORDS_CHARS, search_words


def test_words_are_distinct_lowercase_and_in_first_seen_order() -> None:
    assert search_words("Budget: budget, BUDGET!", "Re: budget Q3") == "budget re q3"


def test_addresses_numbers_and_underscores_split_as_a_query_would() -> None:
    words = search_words("Anna <anna@example.test>", "v3.14 report_2026 Grüße").split()

    assert words == ["anna", "example", "test", "v3", "14", "report_2026", "gruße"]


def test_accents_go_whether_the_letters_come_composed_or_decomposed() -> None:
    composed, decomposed = "Café Müller", "Cafe\u0301 Mu\u0308ller"

    assert search_words(composed) == search_words(decomposed) == "cafe muller"
    assert search_words("Ελληνικά Привет") == "ελληνικα привет"


def test_a_long_run_of_letters_is_several_words_none_over_200() -> None:
    words = search_words("x" * 450).split()

    assert words == ["x" * 200, "x" * 50]


def test_the_words_end_at_a_word_within_the_limit() -> None:
    text = " ".join(f"word{n}" for n in range(30_000))

    words = search_words(text)

    assert len(words) <= MAX_SEARCH_WORDS_CHARS < len(text)
    assert words.split() == [f"word{n}" for n in range(len(words.split()))]


def test_no_text_no_words() -> None:
    assert search_words("", "  \n -- ") == ""
