"""Search inside a transcript: case, accents and punctuation ignored, phrases, highlights."""

import unicodedata

import pytest

from spek.errors import BadUserInput
from spek.transcripts.search import normalize, search


def segments(*texts: str) -> list[tuple[str, list[str]]]:
    """Segments as the pipeline stores them: the text is its words joined by spaces."""
    return [(text, text.split()) for text in texts]


def highlighted(found: list, texts: list[tuple[str, list[str]]]) -> list[list[str]]:
    return [[texts[hit.segment][0][start:end] for start, end in hit.ranges] for hit in found]


def test_folding() -> None:
    assert normalize("Ёлка, Café — DON'T stop!") == "елка cafe dont stop"
    assert normalize("Straße ﬁnal №5") == "strasse final no5"
    # "й" is a letter of its own in Russian, whether written as one character or as и + breve.
    assert normalize("Йогурт и мой") == "йогурт и мой"
    assert normalize(unicodedata.normalize("NFD", "Йогурт и мой")) == "йогурт и мой"


@pytest.mark.parametrize(
    ("text", "query", "highlight"),
    [
        ("Hello World", "hello", "Hello"),
        ("hello world", "WORLD", "world"),
        ("Le café est fermé.", "cafe", "café"),
        ("LE CAFE EST FERME", "Café fermé", None),  # not consecutive: "est" is between
        ("LE CAFE EST FERME", "café est fermé", "CAFE EST FERME"),
        ("Ёлка стоит в зале.", "елка", "Ёлка"),
        ("Елка стоит в зале.", "ЁЛКА", "Елка"),
        ("Мой дом.", "мой", "Мой"),
        ("Мой дом.", "МОЙ", "Мой"),
        ("Мои дома.", "мой", None),
        ("Мой дом.", "мои", None),
        (unicodedata.normalize("NFD", "Ёлка и мой дом"), "елка", unicodedata.normalize("NFD", "Ёлка")),
        (unicodedata.normalize("NFD", "Ёлка и мой дом"), "мой дом", unicodedata.normalize("NFD", "мой дом")),
    ],
)
def test_case_and_accents_are_ignored_in_latin_and_cyrillic(text: str, query: str, highlight: str | None) -> None:
    texts = segments(text)
    found = search(texts, query)
    assert highlighted(found, texts) == ([[highlight]] if highlight else [])


def test_a_phrase_matches_consecutive_words_across_punctuation() -> None:
    texts = segments(
        "Hi, is this the support line?", "Yes: support. Line two is busy.", "The line for support is open."
    )
    found = search(texts, "support line")
    assert [hit.segment for hit in found] == [0, 1]
    assert highlighted(found, texts) == [["support line"], ["support. Line"]]
    assert found[0].words == [4, 5] and found[1].words == [1, 2]
    # A query in quotes is the same query.
    assert search(texts, '"support line"') == found
    assert search(texts, "«support, line»") == found


def test_results_come_in_the_order_given_with_every_match() -> None:
    texts = segments("Budget first.", "No match here.", "The budget, the BUDGET and budgets.")
    found = search(texts, "budget")
    assert [hit.segment for hit in found] == [0, 2]
    # The last query word may be the start of a word: results appear while typing.
    assert highlighted(found, texts) == [["Budget"], ["budget", "BUDGET", "budget"]]
    assert found[1].words == [1, 3, 5]
    assert highlighted(search(texts, "the budg"), texts) == [["The budg", "the BUDG"]]


def test_a_phrase_can_run_across_segments() -> None:
    texts = segments("We will meet on", "Tuesday morning at nine.")
    found = search(texts, "meet on tuesday")
    assert [(hit.segment, hit.words) for hit in found] == [(0, [2, 3]), (1, [0])]
    assert highlighted(found, texts) == [["meet on"], ["Tuesday"]]


def test_matched_words_follow_the_timed_words() -> None:
    # Word texts carry their punctuation, as Whisper gives them; a text with no timed words has none to match.
    texts = [("Ну, что ж — начнём.", ["Ну,", "что", "ж", "—", "начнём."]), ("Начнём без слов.", [])]
    found = search(texts, "начнем")
    assert highlighted(found, texts) == [["начнём"], ["Начнём"]]
    assert found[0].words == [4] and found[1].words == []


def test_overlapping_matches_highlight_once() -> None:
    texts = segments("la la la lo")
    found = search(texts, "la la")
    assert found[0].ranges == [(0, 8)] and found[0].words == [0, 1, 2]


@pytest.mark.parametrize("query", ["", "   ", '""', "?!", "— …"])
def test_a_query_without_words_is_refused(query: str) -> None:
    with pytest.raises(BadUserInput, match="Type a word"):
        search(segments("anything"), query)
