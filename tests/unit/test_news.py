"""News intake: feeds and lists into the inbox, duplicates, triage into evidence."""

from __future__ import annotations

from pathlib import Path

import pytest

from forecasting import Workspace
from forecasting.errors import ImportFormatError, InvalidEvidenceError
from forecasting.news import (
    STRENGTHS,
    Link,
    NewsItem,
    add_news,
    canonical_url,
    dismiss,
    inbox,
    link,
    parse_link_evidence,
    read_feed,
    read_list,
)

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Example Wire</title><link>https://wire.example.org</link>
<description>test feed</description>
<item><title>First item</title><link>https://wire.example.org/a?utm_source=rss</link>
<pubDate>Mon, 02 Dec 2024 10:00:00 GMT</pubDate><description>&lt;p&gt;A summary&lt;/p&gt;</description></item>
<item><title>Second item</title><link>https://wire.example.org/b</link>
<pubDate>Tue, 03 Dec 2024 11:30:00 GMT</pubDate></item>
</channel></rss>
"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom Desk</title>
<link href="https://atom.example.org/"/><updated>2024-12-05T00:00:00Z</updated><id>urn:x</id>
<entry><title>Atom entry</title><link href="https://atom.example.org/e1"/><id>urn:e1</id>
<updated>2024-12-04T08:00:00Z</updated><summary>Short</summary></entry>
</feed>
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_strength_table_ratios() -> None:
    assert {
        "makes yes much more likely": 10.0,
        "makes yes more likely": 3.0,
        "makes yes slightly more likely": 1.5,
        "no bearing": 1.0,
        "makes yes slightly less likely": pytest.approx(1 / 1.5),
        "makes yes less likely": pytest.approx(1 / 3),
        "makes yes much less likely": pytest.approx(0.1),
    } == STRENGTHS
    for word, ratio in STRENGTHS.items():
        _strength, ev = parse_link_evidence({"strength": word})
        if ratio == 1.0:
            assert ev == {"kind": "note", "data": {"strength": "no bearing"}}
        else:
            assert ev["kind"] == "likelihood_ratio" and ev["data"]["ratio"] == pytest.approx(ratio)
    # the short forms work too
    assert parse_link_evidence({"strength": "Much more likely"})[1]["data"]["ratio"] == 10.0
    with pytest.raises(InvalidEvidenceError, match="strength: 'kinda likely' is not allowed"):
        parse_link_evidence({"strength": "kinda likely"})


def test_intake_from_a_local_rss_and_atom_file(workspace: Workspace, tmp_path: Path) -> None:
    rss = read_feed(_write(tmp_path, "feed.xml", RSS))
    atom = read_feed(_write(tmp_path, "feed.atom", ATOM))
    assert [i.title for i in rss] == ["First item", "Second item"]
    assert rss[0].publisher == "Example Wire" and rss[0].summary == "A summary"
    assert rss[0].published.isoformat() == "2024-12-02T10:00:00+00:00"
    assert [i.publisher for i in atom] == ["Atom Desk"]
    res = add_news(workspace, rss + atom)
    assert len(res.added) == 3 and res.skipped == []
    assert [r["title"] for r in inbox(workspace)] == ["First item", "Second item", "Atom entry"]
    assert workspace.verify().ok


def test_a_duplicate_item_is_skipped(workspace: Workspace, tmp_path: Path, forecast) -> None:  # type: ignore[no-untyped-def]
    feed = _write(tmp_path, "feed.xml", RSS)
    assert (
        "2 item(s) added" in forecast("-w", str(workspace.root), "news", "import", str(feed)).stdout
    )
    n = len(workspace.journal)
    res = forecast("-w", str(workspace.root), "news", "import", str(feed))
    assert res.exit_code == 0 and "0 item(s) added to the inbox; 2 already there" in res.stdout
    # the same URL with tracking parameters and a trailing slash is the same item
    same = NewsItem.make("https://WIRE.example.org/a/?utm_medium=x", "X", "2024-12-02", "again")
    assert add_news(workspace, [same]).skipped == [same.id]
    assert len(workspace.journal) == n
    assert (
        canonical_url("https://wire.example.org/a?utm_source=rss") == "https://wire.example.org/a"
    )


@pytest.mark.parametrize(
    "text", ["<rss><channel><item>", "not xml at all", '<?xml version="1.0"?><html></html>']
)
def test_a_malformed_feed_exits_2_and_changes_nothing(
    workspace: Workspace, tmp_path: Path, forecast, text: str
) -> None:  # type: ignore[no-untyped-def]
    workspace.predict("bin", 0.3)
    db = workspace.root / "journal.db"
    before = db.read_bytes()
    bad = _write(tmp_path, "bad.xml", text)
    good = _write(tmp_path, "good.xml", RSS)
    res = forecast("-w", str(workspace.root), "news", "import", str(good), str(bad))
    assert res.exit_code == 2
    assert res.stderr.count("\n") == 1 and "feed" in res.stderr
    assert db.read_bytes() == before
    with pytest.raises(ImportFormatError):
        read_feed(bad)


def test_one_item_linked_to_three_questions_in_one_command(workspace: Workspace, forecast) -> None:  # type: ignore[no-untyped-def]
    item = NewsItem.make("https://example.org/x", "Example", "2024-12-02T10:00:00Z", "Seoul says")
    add_news(workspace, [item])
    res = forecast(
        "-w", str(workspace.root), "news", "link", item.id,
        "-q", "bin", "-e", "much more likely", "-r", "a direct report",
        "-q", "num", "-e", "note", "-r", "context only",
        "-q", "mc", "-e", "note", "-r", "context too",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    ev = [r for r in workspace.journal.records(kinds=("evidence",))]
    assert [r.data["question_ids"] for r in ev] == [["bin"], ["num"], ["mc"]]
    assert ev[0].data["kind"] == "likelihood_ratio" and ev[0].data["data"]["ratio"] == 10.0
    assert all(r.data["observed_at"] == "2024-12-02T10:00:00+00:00" for r in ev)
    assert all(r.data["external_id"] == item.id for r in ev)
    (tri,) = workspace.journal.records(kinds=("triage",))
    assert [x["question_id"] for x in tri.data["links"]] == ["bin", "num", "mc"]
    assert inbox(workspace)[0]["status"] == "linked"


def test_links_the_model_cannot_use_are_refused_and_nothing_is_written(
    tmp_path: Path, make_collection, question_yaml
) -> None:  # type: ignore[no-untyped-def]
    qy = (
        question_yaml["bin"]
        + "model: {name: hazard, params: {p_by_deadline: 0.3, months_equivalent: 4}}\n"
    )
    src = make_collection(tmp_path / "src" / "c", {"bin": qy, "num": question_yaml["num"]})
    ws = Workspace.init(tmp_path / "ws", questions=[src])
    item = NewsItem.make("https://example.org/y", "Example", "2024-12-02", "A count")
    add_news(ws, [item])
    n = len(ws.journal)
    with pytest.raises(
        InvalidEvidenceError, match="the hazard model of bin cannot use count evidence"
    ):
        link(ws, item.id, [Link("bin", "a tally", None, {"kind": "count", "data": {"count": 3}})])
    with pytest.raises(InvalidEvidenceError, match="applies to yes/no questions"):
        link(ws, item.id, [Link("num", "why", *parse_link_evidence({"strength": "more likely"}))])
    with pytest.raises(Exception, match="not a known question"):
        link(ws, item.id, [Link("nope", "why", None, {"kind": "note", "data": {}})])
    assert len(ws.journal) == n


def test_dismissal(workspace: Workspace, forecast) -> None:  # type: ignore[no-untyped-def]
    item = NewsItem.make("https://example.org/z", "Example", "2024-12-02", "Opinion")
    add_news(workspace, [item])
    res = forecast(
        "-w", str(workspace.root), "news", "dismiss", item.id, "--reason", "opinion only"
    )
    assert res.exit_code == 0
    row = inbox(workspace)[0]
    assert row["status"] == "dismissed" and row["reason"] == "opinion only"
    with pytest.raises(InvalidEvidenceError, match="say why"):
        dismiss(workspace, item.id, " ")
    res = forecast("-w", str(workspace.root), "news", "list", "--status", "dismissed", "--json")
    assert item.id in res.stdout


def test_yaml_and_csv_lists(workspace: Workspace, tmp_path: Path) -> None:
    y = _write(
        tmp_path,
        "items.yaml",
        "items:\n  - {url: 'https://e.org/1', publisher: E, published: 2024-12-01, title: One}\n",
    )
    c = _write(
        tmp_path,
        "items.csv",
        "url,publisher,published,title,summary\nhttps://e.org/2,E,2024-12-02,Two,\n",
    )
    items = read_list(y) + read_list(c)
    assert [i.title for i in items] == ["One", "Two"]
    bad = _write(tmp_path, "bad.csv", "url,title\nhttps://e.org/3,Three\n")
    with pytest.raises(ImportFormatError, match="missing publisher, published"):
        read_list(bad)
