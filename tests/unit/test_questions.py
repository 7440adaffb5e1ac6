"""Question schema, dates with timezones, and the registry's file:line problem reports."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from forecasting import load_registry
from forecasting.errors import QuestionError, UnknownQuestionError
from forecasting.questions import Question, parse_datetime

BASE = {
    "id": "q1",
    "type": "binary",
    "title": "T?",
    "resolution_criteria": "R",
    "resolution_sources": ["S"],
    "open_at": "2024-01-01T00:00:00Z",
    "close_at": "2025-01-01T00:00:00Z",
    "resolve_by": "2025-02-01T00:00:00Z",
}


# --------------------------------------------------------------------------- dates
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2025-06-30", datetime(2025, 6, 30, tzinfo=UTC)),
        ("2025-06-30T12:00:00Z", datetime(2025, 6, 30, 12, tzinfo=UTC)),
        ("2025-06-30T12:00:00z", datetime(2025, 6, 30, 12, tzinfo=UTC)),
        ("2025-06-30T21:00:00+09:00", datetime(2025, 6, 30, 12, tzinfo=UTC)),
        ("2025-06-30T09:00:00-03:00", datetime(2025, 6, 30, 12, tzinfo=UTC)),
        (date(2025, 6, 30), datetime(2025, 6, 30, tzinfo=UTC)),
        (
            datetime(2025, 6, 30, 15, tzinfo=timezone(timedelta(hours=3))),
            datetime(2025, 6, 30, 12, tzinfo=UTC),
        ),
    ],
)
def test_parse_datetime(raw: object, expected: datetime) -> None:
    got = parse_datetime(raw)
    assert got == expected
    assert got.tzinfo == UTC


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        ("2025-06-30T12:00:00", r"as_of: '2025-06-30T12:00:00' has no timezone"),
        (datetime(2025, 6, 30), r"as_of: .* has no timezone"),
        ("yesterday", r"as_of: 'yesterday' is not an ISO 8601 date"),
        ("2025-13-01", r"as_of: '2025-13-01' is not an ISO 8601 date"),
        ("2025-06-30T12:00:00+25:00", r"as_of: .* is not an ISO 8601 date"),
        (12345, r"as_of: 12345 is not a date"),
    ],
)
def test_parse_datetime_refuses(raw: object, match: str) -> None:
    with pytest.raises(QuestionError, match=match):
        parse_datetime(raw, field="as_of")


# --------------------------------------------------------------------------- schema
def test_question_round_trips_through_its_snapshot() -> None:
    q = Question.model_validate(
        {**BASE, "tags": ["a"], "base_rate": {"value": 0.1, "reference_class": "x"}}
    )
    again = Question.model_validate(q.snapshot())
    assert again == q
    assert again.content_hash == q.content_hash
    assert len(q.content_hash) == 64


def test_content_hash_changes_with_content() -> None:
    a = Question.model_validate(BASE)
    b = Question.model_validate({**BASE, "title": "Other?"})
    assert a.content_hash != b.content_hash


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"id": "Bad Id"}, r"'Bad Id' is not a valid id"),
        ({"type": "ternary"}, r"type"),
        ({"close_at": "2023-01-01T00:00:00Z"}, r"close_at .* must be after open_at"),
        ({"resolve_by": "2024-06-01T00:00:00Z"}, r"resolve_by .* must not be before close_at"),
        ({"open_at": "2024-01-01T00:00:00"}, r"has no timezone"),
        ({"options": ["A", "B"]}, r"only multiple_choice questions have options"),
        ({"type": "multiple_choice", "options": ["A"]}, r"at least 2 options"),
        ({"type": "multiple_choice", "options": ["A", "A"]}, r"has duplicates"),
        ({"unit": "troops"}, r"only numeric and date questions have them"),
        (
            {"type": "numeric", "lower": {"value": 10}, "upper": {"value": 5}},
            r"lower 10.* must be below upper 5",
        ),
        ({"base_rate": {"value": 1.5, "reference_class": "x"}}, r"base_rate"),
        ({"colour": "red"}, r"colour"),
        ({"resolution_sources": []}, r"resolution_sources"),
    ],
)
def test_question_refuses(change: dict[str, object], match: str) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=match):
        Question.model_validate({**BASE, **change})


def test_date_question_bounds_are_epoch_days() -> None:
    q = Question.model_validate(
        {
            **BASE,
            "type": "date",
            "lower": {"value": "1970-01-02"},
            "upper": {"value": "1970-01-11T00:00:00Z", "open": True},
        }
    )
    assert q.numeric_bounds() == (1.0, 10.0)


def test_status() -> None:
    q = Question.model_validate(BASE)
    assert q.status(datetime(2023, 1, 1, tzinfo=UTC)) == "upcoming"
    assert q.status(datetime(2024, 6, 1, tzinfo=UTC)) == "open"
    assert q.status(datetime(2026, 1, 1, tzinfo=UTC)) == "closed"
    assert q.status(datetime(2026, 1, 1, tzinfo=UTC), "resolved") == "resolved"


# --------------------------------------------------------------------------- registry
def test_registry_loads_every_type(collection_dir: Path, question_yaml: dict[str, str]) -> None:
    reg = load_registry(collection_dir.parent)
    assert reg.problems == []
    assert set(reg.questions) == set(question_yaml)
    assert {q.type for q in reg} == {"binary", "multiple_choice", "numeric", "date"}
    assert set(reg.collections) == {"testcoll"}
    assert all(q.collection == "testcoll" for q in reg)
    assert reg.get("mc").options == ["A", "B", "C"]


def test_unknown_question_suggests_close_ids(collection_dir: Path) -> None:
    reg = load_registry(collection_dir.parent)
    with pytest.raises(UnknownQuestionError, match=r"question: 'mu' is not a known question id"):
        reg.get("mu")
    with pytest.raises(UnknownQuestionError, match=r"did you mean num"):
        reg.get("nu")
    with pytest.raises(UnknownQuestionError) as info:
        reg.get("zzz")
    err = info.value
    assert isinstance(err, KeyError)
    assert not str(err).startswith("'")  # not quoted like a KeyError


def _problems(root: Path, tmp_path: Path) -> set[tuple[str, int, str]]:
    reg = load_registry(root, base=tmp_path)
    return {(Path(p.file).name, p.line, p.field) for p in reg.problems}


def test_every_problem_in_every_file_with_its_line(
    tmp_path: Path, question_yaml: dict[str, str], make_collection
) -> None:  # type: ignore[no-untyped-def]
    good = question_yaml["bin"]
    coll = make_collection(tmp_path / "qs" / "c1", {})
    # line 2: bad type; line 12 (after base_rate on 11): unknown field
    (coll / "a.yaml").write_text(
        good.replace("id: bin", "id: a").replace("type: binary", "type: ternary") + "colour: red\n",
        encoding="utf-8",
    )
    # line 6: no timezone; line 11: an actor that is not a stakeholder (actors.0)
    (coll / "b.yaml").write_text(
        good.replace("id: bin", "id: b")
        .replace("open_at: 2020-01-01T00:00:00Z", "open_at: 2020-01-01T00:00:00")
        .replace("actors: [north-korea]", "actors: [north-korea]"),
        encoding="utf-8",
    )
    # malformed YAML: an unclosed flow sequence opened on line 3
    (coll / "c.yaml").write_text('id: c\ntype: binary\ntags: [a, b\ntitle: "x"\n', encoding="utf-8")
    # a second folder.  d: missing title (reported at line 1; the cross-question checks run
    # only on valid questions).  e: unknown actor on line 11, unknown related id on line 14
    coll2 = make_collection(tmp_path / "qs" / "c2", {})
    (coll2 / "d.yaml").write_text(
        good.replace("id: bin", "id: d")
        .replace('title: "Question bin?"\n', "")
        .replace("actors: [north-korea]", "actors:\n  - mars")
        + "related:\n  - {id: nowhere, relation: implies}\n",
        encoding="utf-8",
    )
    (coll2 / "e.yaml").write_text(
        good.replace("id: bin", "id: e").replace("actors: [north-korea]", "actors:\n  - mars")
        + "related:\n  - {id: nowhere, relation: implies}\n",
        encoding="utf-8",
    )
    got = _problems(tmp_path / "qs", tmp_path)
    # c.yaml: PyYAML reports the unclosed '[' where it expected ',' or ']' (line 4)
    assert got == {
        ("a.yaml", 2, "type"),
        ("a.yaml", 12, "colour"),
        ("b.yaml", 6, "open_at"),
        ("c.yaml", 4, "yaml"),
        ("d.yaml", 1, "title"),
        ("e.yaml", 11, "actors.0"),
        ("e.yaml", 14, "related.0.id"),
    }


def test_problem_messages_name_value_and_allowed(
    tmp_path: Path, question_yaml: dict[str, str], make_collection
) -> None:  # type: ignore[no-untyped-def]
    coll = make_collection(tmp_path / "qs" / "c1", {})
    (coll / "a.yaml").write_text(
        question_yaml["bin"].replace("type: binary", "type: ternary"), encoding="utf-8"
    )
    reg = load_registry(tmp_path / "qs", base=tmp_path)
    (p,) = reg.problems
    assert str(p).startswith("qs/c1/a.yaml:2: type: 'ternary' is not allowed")
    for allowed in ("binary", "multiple_choice", "numeric", "date"):
        assert allowed in p.message


def test_duplicate_ids_across_collections(
    tmp_path: Path, question_yaml: dict[str, str], make_collection
) -> None:  # type: ignore[no-untyped-def]
    make_collection(tmp_path / "qs" / "c1", {"bin": question_yaml["bin"]})
    coll2 = make_collection(tmp_path / "qs" / "c2", {})
    (coll2 / "again.yaml").write_text(question_yaml["bin"], encoding="utf-8")
    reg = load_registry(tmp_path / "qs", base=tmp_path)
    (p,) = reg.problems
    assert (p.file, p.line, p.field) == ("qs/c2/again.yaml", 1, "id")
    assert "'bin' is already defined in qs/c1/bin.yaml" in p.message


def test_estimative_phrase_must_occur_in_quote(
    tmp_path: Path, question_yaml: dict[str, str], make_collection
) -> None:  # type: ignore[no-untyped-def]
    coll = make_collection(tmp_path / "qs" / "c1", {})
    (coll / "s.yaml").write_text(
        question_yaml["bin"]
        + "source:\n  document: doc\n  quote: troops could engage\n  estimative: is likely to\n",
        encoding="utf-8",
    )
    reg = load_registry(tmp_path / "qs", base=tmp_path)
    (p,) = reg.problems
    assert (p.line, p.field) == (15, "source.estimative")


def test_missing_root_is_an_empty_registry(tmp_path: Path) -> None:
    reg = load_registry(tmp_path / "nope")
    assert len(reg) == 0
    assert reg.problems == []


def test_file_that_is_not_a_mapping(
    tmp_path: Path, question_yaml: dict[str, str], make_collection
) -> None:  # type: ignore[no-untyped-def]
    coll = make_collection(tmp_path / "qs" / "c1", {})
    (coll / "list.yaml").write_text("- a\n- b\n", encoding="utf-8")
    reg = load_registry(tmp_path / "qs", base=tmp_path)
    assert [(p.file, p.line, p.field) for p in reg.problems] == [("qs/c1/list.yaml", 1, "question")]


def test_timestamps_are_not_parsed_by_yaml_without_a_timezone(
    tmp_path: Path, question_yaml: dict[str, str], make_collection
) -> None:  # type: ignore[no-untyped-def]
    """PyYAML would read a bare timestamp as naive UTC; the loader keeps it a string,
    so a missing timezone is caught."""
    coll = make_collection(tmp_path / "qs" / "c1", {})
    (coll / "x.yaml").write_text(
        question_yaml["bin"].replace(
            "close_at: 2099-01-01T00:00:00Z", "close_at: 2099-01-01 00:00:00"
        ),
        encoding="utf-8",
    )
    reg = load_registry(tmp_path / "qs", base=tmp_path)
    assert [(p.line, p.field) for p in reg.problems] == [(7, "close_at")]
    assert "has no timezone" in reg.problems[0].message


def test_empty_question_files_are_problems(tmp_path: Path, make_collection) -> None:  # type: ignore[no-untyped-def]
    """A truncated file must not drop its question in silence."""
    coll = make_collection(tmp_path / "qs" / "c1", {})
    (coll / "empty.yaml").write_text("", encoding="utf-8")
    (coll / "comment.yaml").write_text("# nothing here yet\n", encoding="utf-8")
    reg = load_registry(tmp_path / "qs", base=tmp_path)
    assert sorted(str(p) for p in reg.problems) == [
        "qs/c1/comment.yaml:1: file: is empty; it must hold one mapping (key: value)",
        "qs/c1/empty.yaml:1: file: is empty; it must hold one mapping (key: value)",
    ]


@pytest.mark.parametrize(
    ("edit", "line", "field", "message"),
    [
        (
            ("close_at: 2099-01-01T00:00:00Z", "close_at: 2019-01-01T00:00:00Z"),
            7,
            "close_at",
            "close_at 2019-01-01T00:00:00+00:00 must be after open_at 2020-01-01T00:00:00+00:00",
        ),
        (
            ("resolve_by: 2099-02-01T00:00:00Z", "resolve_by: 2098-02-01T00:00:00Z"),
            8,
            "resolve_by",
            "resolve_by 2098-02-01T00:00:00+00:00 must not be before close_at",
        ),
        (
            ("tags: [t1]", "tags: [t1]\noptions: [A, B]"),
            10,
            "options",
            "only multiple_choice questions have options, not binary",
        ),
    ],
)
def test_cross_field_problems_name_the_field_and_its_line(
    tmp_path: Path, question_yaml: dict[str, str], make_collection, edit, line, field, message
) -> None:  # type: ignore[no-untyped-def]
    coll = make_collection(tmp_path / "qs" / "c1", {})
    (coll / "q.yaml").write_text(question_yaml["bin"].replace(*edit), encoding="utf-8")
    reg = load_registry(tmp_path / "qs", base=tmp_path)
    (p,) = reg.problems
    assert (p.file, p.line, p.field) == ("qs/c1/q.yaml", line, field)
    assert p.message.startswith(message)
