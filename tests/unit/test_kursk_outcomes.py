"""The Kursk set's real news timeline and real resolutions, checked as data."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from forecasting import Workspace
from forecasting.news import check_timeline, read_timeline, timeline_files
from forecasting.outcomes import INSUFFICIENT, check_resolutions, read_resolutions
from forecasting.values import parse_outcome

KURSK = Path(__file__).resolve().parents[2] / "questions" / "kursk-2024"
WINDOW = (datetime(2024, 11, 15, tzinfo=UTC), datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC))


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    w = Workspace.init(tmp_path_factory.mktemp("k") / "ws", questions=[KURSK], analyst="checker")
    return w


@pytest.fixture(scope="module")
def timeline() -> list:  # type: ignore[type-arg]
    entries, problems = [], []
    for f in timeline_files(KURSK / "news"):
        e, p = read_timeline(f)
        entries += e
        problems += p
    assert problems == []
    return entries


def test_the_timeline_has_at_least_80_items_in_the_window(timeline: list) -> None:  # type: ignore[type-arg]
    assert len(timeline) >= 80
    for e in timeline:
        assert WINDOW[0] <= e.item.published <= WINDOW[1], e.item.url
    assert len({e.item.id for e in timeline}) == len(timeline)  # no URL twice


def test_every_item_carries_a_url_publisher_summary_and_links(timeline: list) -> None:  # type: ignore[type-arg]
    for e in timeline:
        assert e.item.url.startswith(("http://", "https://"))
        assert e.item.publisher and e.item.title and e.item.summary
        assert e.links, e.item.url
        assert all(lk.reason.strip() for lk in e.links)


def test_every_link_is_to_an_existing_question_with_evidence_its_model_accepts(
    ws: Workspace,
    timeline: list,  # type: ignore[type-arg]
) -> None:
    assert check_timeline(ws, timeline) == []
    linked = {lk.question_id for e in timeline for lk in e.links}
    assert linked <= set(ws.registry.questions)


def test_every_resolution_cites_a_source_and_a_known_at_date_in_the_window(ws: Workspace) -> None:
    entries, problems = read_resolutions(KURSK / "resolutions.yaml")
    assert problems == [] and check_resolutions(ws, entries) == []
    assert {e.question_id for e in entries} == set(ws.registry.questions)
    for e in entries:
        q = ws.question(e.question_id)
        assert e.known_at >= q.open_at
        assert e.justification
        if e.settled:
            assert e.sources and all(s.url.startswith(("http://", "https://")) for s in e.sources)
            if e.outcome is not None:
                parse_outcome(q, e.outcome)  # an outcome the question's type allows
        else:
            assert e.status == INSUFFICIENT


def test_criteria_asking_for_two_outlets_get_two_sources(ws: Workspace) -> None:
    entries, _ = read_resolutions(KURSK / "resolutions.yaml")
    for e in entries:
        q = ws.question(e.question_id)
        if e.settled and "at least two" in q.resolution_criteria and e.outcome not in ("no",):
            assert len({s.publisher for s in e.sources}) >= 2, e.question_id


def test_a_bare_known_at_date_means_the_end_of_that_day(tmp_path: Path) -> None:
    """Pages give dates: an outcome known 'on 2024-11-15' is dated 23:59:59 UTC that day, so a
    forecast made that morning is scored and no resolution predates the news."""
    f = tmp_path / "resolutions.yaml"
    f.write_text(
        "resolutions:\n"
        "  - {question: a, outcome: 'yes', known_at: 2024-11-15, justification: j,\n"
        "     sources: [{url: 'https://example.org/a', publisher: P, published: 2024-11-15}]}\n"
        "  - {question: b, outcome: 'yes', known_at: '2024-11-15T09:30:00Z', justification: j,\n"
        "     sources: [{url: 'https://example.org/b', publisher: P, published: 2024-11-15}]}\n"
    )
    entries, problems = read_resolutions(f)
    assert problems == []
    by_id = {e.question_id: e.known_at for e in entries}
    assert by_id["a"] == datetime(2024, 11, 15, 23, 59, 59, tzinfo=UTC)
    assert by_id["b"] == datetime(2024, 11, 15, 9, 30, tzinfo=UTC)  # a time is kept as given
