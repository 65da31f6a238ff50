"""The pure parts of an answer: sources in the prompt, citations checked and renumbered, attribution."""

import uuid

from spek.chat.answer import attributed, checked_citations, language_of, prompt
from spek.chat.service import title_of
from spek.search.models import SearchKind
from spek.search.service import SearchHit


def hit(title: str, kind: SearchKind = SearchKind.DOCUMENT, **where: float | int) -> SearchHit:
    return SearchHit(
        kind=kind,
        id=uuid.uuid4(),
        parent_id=uuid.uuid4(),
        title=title,
        snippet="",
        score=1.0,
        start=where.get("start"),
        end=where.get("end"),
        page=where.get("page"),  # type: ignore[arg-type]
        heading=None,
    )


def test_citations_are_renumbered_in_the_order_first_cited_and_strays_dropped() -> None:
    a, b, c = hit("A"), hit("B"), hit("C")
    text, cited = checked_citations("First [3]. Then [1][3]. Nowhere [7] . Zero [0].", [a, b, c])
    assert cited == [c, a]
    assert text == "First [1]. Then [2][1]. Nowhere. Zero."


def test_an_answer_without_markers_is_attributed_by_the_words_it_uses() -> None:
    harbour, garden = hit("Harbour"), hit("Garden")
    sources = [
        (garden, "Plant the tulip bulbs in October, six inches deep."),
        (harbour, "The northern channel is dredged every spring by the harbour committee."),
    ]
    assert attributed("The harbour committee does it every spring.", sources) == [harbour]
    assert attributed("France won the cup that year.", sources) == []
    assert attributed("Plant them deep.", sources) == []  # too little to go on


def test_the_prompt_numbers_sources_says_where_they_are_and_keeps_to_its_budget() -> None:
    call = hit("Support call", SearchKind.TRANSCRIPT, start=75.0, end=80.0)
    report = hit("Report", page=3)
    sources = [(call, "x" * 1000), (report, "y" * 1000), (hit("Extra"), "z" * 1000)]
    messages, shown = prompt("Когда?", [], sources, budget=1600)
    assert [h for h, _ in shown] == [call, report] and len(shown[1][1]) == 600
    system = messages[0].content
    assert "[1] recording “Support call”, at 1:15:" in system and "[2] document “Report”, page 3:" in system
    assert "in Russian" in system and "z" not in system
    assert messages[-1].content == "Когда?"


def test_language_and_title() -> None:
    assert (language_of("Как на Марсе называют Солнце?"), language_of("What about Mars?")) == ("ru", "en")
    assert title_of("  When   is the channel dredged? ") == "When is the channel dredged?"
    long = title_of("Which of the harbour committee's plans for the northern channel will be done first, and why?")
    assert long.endswith("…") and len(long) <= 61 and not long[:-1].endswith(" ")
