"""The team server's pages and JSON API, through FastAPI's TestClient."""

from __future__ import annotations

import html
import io
import json
import re
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from forecasting import Workspace
from forecasting.accounts import Accounts

with warnings.catch_warnings():  # Starlette warns that its test client prefers httpx2
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from fastapi.testclient import TestClient

PASSWORDS = {
    "admin": "admin-password",
    "alice": "alice-password",
    "bob": "bob-password",
    "vera": "vera-password",
}
ROLES = {"admin": "admin", "alice": "analyst", "bob": "analyst", "vera": "viewer"}


def fast_hasher():  # type: ignore[no-untyped-def]
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ws(tmp_path: Path, make_collection, question_yaml, clock: Clock) -> Iterator[Workspace]:  # type: ignore[no-untyped-def]
    qs = dict(question_yaml)
    qs["quoted"] = qs["bin"].replace("id: bin", "id: quoted") + (
        'source:\n  document: 000_doc\n  quote: "Pyongyang is likely to send more troops"\n'
        "  paragraph: 4\n  estimative: is likely to\n"
    )
    src = make_collection(tmp_path / "src" / "testcoll", qs)
    Workspace.init(tmp_path / "ws", analyst="alice", questions=[src]).close()
    w = Workspace.open(tmp_path / "ws", clock=clock)
    acc = Accounts(w, hasher=fast_hasher())
    for name, role in ROLES.items():
        acc.add_user(name, role, PASSWORDS[name])
    yield w
    w.close()


@pytest.fixture
def app(ws: Workspace, tmp_path: Path) -> Any:
    from forecasting.server import create_app

    return create_app(ws, cache_dir=tmp_path / "cache", hasher=fast_hasher())


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


def new_client(app: Any, **kw: Any) -> TestClient:
    return TestClient(app, **kw)


def csrf_of(page: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert m, "no CSRF field on the page"
    return m.group(1)


def login(c: TestClient, name: str, password: str | None = None) -> str:
    """Sign in; returns the CSRF token of the new session."""
    token = csrf_of(c.get("/login").text)
    r = c.post(
        "/login",
        data={"name": name, "password": password or PASSWORDS[name], "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return csrf_of(c.get("/").text)


def token_for(app: Any, name: str) -> dict[str, str]:
    tok = app.state.server.accounts.new_token(name)
    return {"Authorization": f"Bearer {tok}"}


def field_errors(page: str) -> dict[str, str]:
    return {k: html.unescape(v) for k, v in re.findall(r'id="err-([^"]+)"[^>]*>([^<]*)<', page)}


def journal_bytes(ws: Workspace) -> str:
    buf = io.StringIO()
    ws.export(buf)
    return buf.getvalue()


# --------------------------------------------------------------------------- anonymous
ALLOWED_ANONYMOUS = {
    ("GET", "/login"),
    ("POST", "/login"),
    ("GET", "/healthz"),
    ("GET", "/static/{name}"),
}


def _routes(app: Any) -> list[tuple[str, str]]:
    """(method, path) of every route of the app, inside included routers too."""
    from fastapi.routing import APIRoute

    out = []
    todo = list(app.routes)
    while todo:
        r = todo.pop()
        if isinstance(r, APIRoute):
            out += [(m, r.path) for m in sorted(r.methods)]
        elif hasattr(r, "original_router"):  # FastAPI >= 0.16x wraps included routers
            todo += list(r.original_router.routes)
        elif hasattr(r, "routes"):
            todo += list(r.routes)
    return sorted(set(out))


def test_every_route_refuses_an_anonymous_user(app: Any, ws: Workspace) -> None:
    routes = _routes(app)
    assert len(routes) >= 30
    before = journal_bytes(ws)
    c = new_client(app)
    for method, path in routes:
        if (method, path) in ALLOWED_ANONYMOUS:
            continue
        url = path.replace("{qid}", "bin").replace("{name}", "alice")
        kw: dict[str, Any] = {}
        if method == "POST":
            kw = (
                {"json": {"question_id": "bin", "value": "50%"}}
                if url.startswith("/api/")
                else {"data": {"value": "50%", "text": "hi"}}
            )
        r = c.request(method, url, follow_redirects=False, **kw)
        if method == "GET" and not url.startswith("/api/"):
            assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), url
        else:  # 401, or 403 for signing out (a form with no session has no CSRF token)
            assert r.status_code in ((401, 403) if url == "/logout" else (401,)), (method, url)
    assert journal_bytes(ws) == before
    assert c.get("/healthz").json() == {"status": "ok"}
    assert c.get("/static/style.css").headers["content-type"].startswith("text/css")
    assert c.get("/static/../app.py").status_code == 404


def test_sign_in_redirects_back(client: TestClient) -> None:
    r = client.get("/questions/bin", follow_redirects=False)
    assert r.headers["location"] == "/login?next=/questions/bin"
    page = client.get(r.headers["location"]).text
    r = client.post(
        "/login",
        data={
            "name": "alice",
            "password": PASSWORDS["alice"],
            "csrf_token": csrf_of(page),
            "next": "/questions/bin",
        },
        follow_redirects=False,
    )
    assert r.headers["location"] == "/questions/bin"
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil"):
        assert "evil" not in client.get(f"/login?next={evil}", follow_redirects=False).headers.get(
            "location", ""
        )


# --------------------------------------------------------------------------- sessions
def test_the_session_id_changes_at_sign_in(app: Any, client: TestClient) -> None:
    codec = app.state.codec
    client.get("/login")
    anon = codec.load(client.cookies["forecast_session"])
    assert anon["s"] is None and anon["c"]
    login(client, "alice")
    first = codec.load(client.cookies["forecast_session"])
    assert first["s"] and first["c"] != anon["c"]  # a new CSRF token too
    login(client, "alice")
    second = codec.load(client.cookies["forecast_session"])
    assert second["s"] != first["s"]


def test_a_made_up_session_id_is_refused(app: Any) -> None:
    c = new_client(app)
    forged = app.state.codec.dump({"s": "x" * 43, "c": "token"})
    c.cookies.set("forecast_session", forged)
    r = c.get("/", follow_redirects=False)
    assert r.status_code == 303
    c.cookies.set("forecast_session", "garbage.not.signed")
    assert c.get("/", follow_redirects=False).status_code == 303


def test_sign_out_ends_the_session(app: Any, client: TestClient) -> None:
    csrf = login(client, "alice")
    cookie = client.cookies["forecast_session"]
    r = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?bye=1"
    replay = new_client(app)
    replay.cookies.set("forecast_session", cookie)
    assert replay.get("/", follow_redirects=False).status_code == 303


def test_sessions_expire(app: Any, client: TestClient, clock: Clock) -> None:
    login(client, "alice")
    assert client.get("/", follow_redirects=False).status_code == 200
    clock.now += timedelta(hours=12, minutes=1)
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303 and "expired=1" in r.headers["location"]
    assert "Your session has ended" in client.get(r.headers["location"]).text


def test_cookie_and_security_headers(app: Any, ws: Workspace, tmp_path: Path) -> None:
    c = new_client(app)
    r = c.get("/login")
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http
    csp = r.headers["content-security-policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)  # type: ignore[union-attr]
    assert "script-src 'nonce-" in csp and "unsafe-inline" not in csp.split("style-src")[0]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"
    assert r.headers["cache-control"] == "no-store"
    assert nonce != re.search(
        r"'nonce-([^']+)'", c.get("/login").headers["content-security-policy"]
    ).group(1)  # type: ignore[union-attr]
    https = new_client(app, base_url="https://testserver")
    assert "Secure" in https.get("/login").headers["set-cookie"]
    from forecasting.server import create_app

    forced = new_client(create_app(ws, cache_dir=tmp_path / "c2", secure_cookies=True))
    assert "Secure" in forced.get("/login").headers["set-cookie"]


def test_inline_scripts_carry_the_nonce(client: TestClient) -> None:
    login(client, "admin")
    r = client.get("/questions/bin")
    nonce = re.search(r"'nonce-([^']+)'", r.headers["content-security-policy"]).group(1)  # type: ignore[union-attr]
    scripts = re.findall(r"<script[^>]*>", r.text)
    assert scripts and all(f'nonce="{nonce}"' in s for s in scripts)


# --------------------------------------------------------------------------- CSRF, roles
POSTS = [
    ("/questions/bin/forecast", {"value": "60%"}),
    ("/questions/bin/comment", {"text": "hello"}),
    ("/questions/bin/evidence", {"title": "t", "source": "s", "observed_at": "2024-01-01"}),
    ("/questions/bin/resolve", {"outcome": "yes", "source": "s"}),
    ("/admin/users", {"name": "zed", "role": "admin", "password": "zed-password"}),
    ("/admin/users/alice/role", {"role": "admin"}),
    ("/admin/users/alice/disable", {}),
    ("/admin/users/alice/password", {"password": "taken-over!"}),
    ("/me/token", {}),
    ("/logout", {}),
]


@pytest.mark.parametrize(("path", "data"), POSTS, ids=[p for p, _ in POSTS])
def test_a_post_without_the_csrf_token_is_refused(
    client: TestClient, ws: Workspace, path: str, data: dict[str, str]
) -> None:
    csrf = login(client, "admin")
    before = journal_bytes(ws)
    for token in (None, "", "wrong-token", csrf + "x"):
        form = dict(data) if token is None else {**data, "csrf_token": token}
        r = client.post(path, data=form, follow_redirects=False)
        assert r.status_code == 403, (path, token, r.status_code)
        assert "CSRF" in r.text
    assert journal_bytes(ws) == before
    assert client.get("/", follow_redirects=False).status_code == 200  # still signed in


def test_another_sessions_csrf_token_is_refused(app: Any, ws: Workspace) -> None:
    a, b = new_client(app), new_client(app)
    login(a, "alice")
    csrf_b = login(b, "bob")
    r = a.post("/questions/bin/forecast", data={"value": "60%", "csrf_token": csrf_b})
    assert r.status_code == 403
    assert ws.journal.records(kinds=("forecast",)) == []


def test_a_viewers_posts_are_refused(client: TestClient, ws: Workspace) -> None:
    csrf = login(client, "vera")
    before = journal_bytes(ws)
    for path, data in POSTS[:8]:
        r = client.post(path, data={**data, "csrf_token": csrf}, follow_redirects=False)
        assert r.status_code == 403, path
        assert "vera is a viewer" in html.unescape(r.text)
    assert journal_bytes(ws) == before
    page = client.get("/questions/bin").text
    assert "forecast-form" not in page and "comment-form" not in page and "resolve-form" not in page


def test_an_analyst_cannot_resolve_or_manage_users(client: TestClient, ws: Workspace) -> None:
    csrf = login(client, "alice")
    before = journal_bytes(ws)
    for path, data in POSTS[3:8]:
        r = client.post(path, data={**data, "csrf_token": csrf}, follow_redirects=False)
        assert r.status_code == 403, path
    assert client.get("/admin/users").status_code == 403
    assert journal_bytes(ws) == before
    assert client.post("/login", data={}).status_code == 403  # no CSRF on the sign-in form


def test_nobody_forecasts_under_another_name(client: TestClient, ws: Workspace, app: Any) -> None:
    csrf = login(client, "alice")
    for extra in ({"analyst": "bob"}, {"forecaster": "team:mean"}, {"author": "model:hazard"}):
        r = client.post(
            "/questions/bin/forecast", data={"value": "60%", "csrf_token": csrf, **extra}
        )
        assert r.status_code == 200
        r = client.post("/questions/bin/comment", data={"text": "hi", "csrf_token": csrf, **extra})
        assert r.status_code == 200
    who = {r.forecaster for r in ws.journal.records(kinds=("forecast", "comment"))}
    assert who == {"alice"}
    h = token_for(app, "alice")
    n = len(ws.journal)
    for extra in ({"analyst": "bob"}, {"forecaster": "team:mean"}, {"analyst": "doc:kursk"}):
        r = client.post(
            "/api/forecasts", json={"question_id": "bin", "value": 0.6, **extra}, headers=h
        )
        assert r.status_code == 422 and "Extra inputs are not permitted" in r.json()["detail"]
    assert len(ws.journal) == n


def test_reserved_names_cannot_become_users(client: TestClient, ws: Workspace) -> None:
    csrf = login(client, "admin")
    for name in ("team:mean", "model:x", "doc:kursk", "crowd:gjo"):
        r = client.post(
            "/admin/users",
            data={"name": name, "role": "analyst", "password": "long enough", "csrf_token": csrf},
        )
        assert r.status_code == 422
        assert f"analyst: '{name}' is reserved" in html.unescape(r.text)
    assert set(Accounts(ws).users()) == set(ROLES)


def test_sql_like_strings_are_stored_literally(client: TestClient, ws: Workspace) -> None:
    csrf = login(client, "alice")
    nasty = "'); DROP TABLE records; -- \" OR 1=1 /* ; DELETE FROM credentials"
    client.post(
        "/questions/bin/forecast", data={"value": "55%", "rationale": nasty, "csrf_token": csrf}
    )
    client.post("/questions/bin/comment", data={"text": nasty, "csrf_token": csrf})
    r = client.post("/login", data={"name": nasty, "password": nasty, "csrf_token": csrf})
    assert r.status_code == 401
    client.get(f"/questions/{nasty}")
    recs = ws.journal.records(kinds=("forecast", "comment"))
    assert [r.data.get("rationale") or r.data.get("text") for r in recs] == [nasty, nasty]
    assert nasty in html.unescape(client.get("/questions/bin").text)
    assert ws.verify(full=True).ok
    assert set(Accounts(ws).users()) == set(ROLES)


def test_markup_is_escaped(client: TestClient) -> None:
    csrf = login(client, "alice")
    evil = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    client.post(
        "/questions/bin/forecast", data={"value": "55%", "rationale": evil, "csrf_token": csrf}
    )
    client.post("/questions/bin/comment", data={"text": evil, "csrf_token": csrf})
    page = client.get("/questions/bin").text
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 2


# --------------------------------------------------------------------------- sign-in limits
def test_a_wrong_password_is_refused_and_limited(client: TestClient, ws: Workspace, caplog) -> None:  # type: ignore[no-untyped-def]
    import logging

    caplog.set_level(logging.DEBUG)
    csrf = csrf_of(client.get("/login").text)
    for _ in range(5):
        r = client.post(
            "/login", data={"name": "alice", "password": "guess-guess", "csrf_token": csrf}
        )
        assert r.status_code == 401 and "Wrong name or password." in r.text
    r = client.post(
        "/login", data={"name": "alice", "password": PASSWORDS["alice"], "csrf_token": csrf}
    )
    assert r.status_code == 429
    assert "Too many failed attempts for alice; try again in 15 minutes." in r.text
    assert "sign-in failed for 'alice' from testclient (wrong password)" in caplog.text
    assert "guess-guess" not in caplog.text and PASSWORDS["alice"] not in caplog.text


def test_no_password_in_the_database_or_the_logs(client: TestClient, ws: Workspace, caplog) -> None:  # type: ignore[no-untyped-def]
    import logging

    from sqlalchemy import select

    from forecasting.journal import schema

    caplog.set_level(logging.DEBUG)
    csrf = login(client, "admin")
    client.post(
        "/admin/users",
        data={
            "name": "newbie",
            "role": "analyst",
            "password": "newbie-secret-1",
            "csrf_token": csrf,
        },
    )
    client.post(
        "/admin/users/newbie/password", data={"password": "newbie-secret-2", "csrf_token": csrf}
    )
    c2 = TestClient(client.app)
    login(c2, "newbie", "newbie-secret-2")
    c2.post(
        "/login",
        data={
            "name": "newbie",
            "password": "newbie-secret-3",
            "csrf_token": csrf_of(c2.get("/login").text),
        },
    )
    with ws.journal.engine.connect() as conn:
        rows = [
            repr(tuple(r)) for t in schema.metadata.sorted_tables for r in conn.execute(select(t))
        ]
    dump = "\n".join(rows) + journal_bytes(ws) + client.get("/export.csv").text
    for secret in [*PASSWORDS.values(), "newbie-secret-1", "newbie-secret-2", "newbie-secret-3"]:
        assert secret not in dump
        assert secret not in caplog.text
    assert "newbie" in dump  # the user record is there


# --------------------------------------------------------------------------- forecasting
def test_forecast_in_percent_odds_and_words(client: TestClient, ws: Workspace) -> None:
    csrf = login(client, "alice")
    for typed, p in (("70%", 0.7), ("1:3", 0.25), ("very likely", 0.875), ("0.42", 0.42)):
        r = client.post(
            "/questions/bin/forecast",
            data={"value": typed, "csrf_token": csrf},
            follow_redirects=False,
        )
        assert r.status_code == 303 and r.headers["location"].startswith("/questions/bin?saved=f-")
        assert ws.journal.records(kinds=("forecast",))[-1].data["value"]["p"] == pytest.approx(p)
    assert ws.journal.records(kinds=("forecast",))[-2].data["value"]["word"] == "very likely"
    page = client.get("/questions/bin").text
    assert "42.0%" in page


def test_a_bad_value_gets_the_clis_message_next_to_the_field(
    client: TestClient, ws: Workspace, forecast
) -> None:  # type: ignore[no-untyped-def]
    csrf = login(client, "alice")
    cases = [
        ("bin", {"value": "150%"}, "value", ("150%",)),
        ("bin", {"value": "perhaps"}, "value", ("perhaps",)),
        (
            "mc",
            {"opt-0": "20%", "opt-1": "likely", "opt-2": "30%"},
            "options",
            ("A=20%,B=likely,C=30%",),
        ),
        ("mc", {"opt-0": "20%", "opt-1": "2", "opt-2": "30%"}, "opt-1", ("A=20%,B=2,C=30%",)),
        (
            "num",
            {"q-0.1": "100", "q-0.5": "abc", "q-0.9": "300"},
            "q-0.5",
            ("0.1=100,0.5=abc,0.9=300",),
        ),
        (
            "num",
            {"q-0.1": "-5", "q-0.5": "10", "q-0.9": "20"},
            "q-0.1",
            ("0.1=-5,0.5=10,0.9=20",),
        ),
        (
            "num",
            {"q-0.1": "100", "q-0.5": "50", "q-0.9": "300"},
            "quantiles",
            ("0.1=100,0.5=50,0.9=300",),
        ),
        ("num", {"dist": "normal(mu=1, sigma=-2)"}, "dist", ("normal(mu=1,sigma=-2)",)),
        ("closed", {"value": "50%"}, "form", ("50%",)),
    ]
    before = journal_bytes(ws)
    for qid, data, field, cli_args in cases:
        r = client.post(
            f"/questions/{qid}/forecast", data={**data, "rationale": "kept", "csrf_token": csrf}
        )
        assert r.status_code == 422, (qid, data)
        errs = field_errors(r.text)
        assert list(errs) == [field], (qid, data, errs)
        cli = forecast("-w", str(ws.root), "predict", qid, *cli_args)
        assert cli.exit_code == 2
        now = re.compile(r"\d{4}-\d\d-\d\dT[\d:.]+\+00:00")  # "now" differs by a hair
        assert now.sub("T", cli.stderr.strip()) == now.sub("T", "error: " + errs[field])
        if qid != "closed":  # a closed question shows no form
            assert ">kept</textarea>" in r.text  # what was typed stays
    assert journal_bytes(ws) == before


def test_multiple_choice_numeric_and_date_forms(client: TestClient, ws: Workspace) -> None:
    from forecasting.values import parse_forecast_value

    csrf = login(client, "alice")
    r = client.post(
        "/questions/mc/forecast",
        data={"opt-0": "20%", "opt-1": "0.5", "opt-2": "30%", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303
    r = client.post(
        "/questions/mc/forecast",
        data={"value": "A=0.1,B=0.1,C=0.8", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303
    r = client.post(
        "/questions/num/forecast",
        data={
            "q-0.1": "9000",
            "q-0.5": "11000",
            "q-0.9": "14000",
            "q-0.25": "",
            "csrf_token": csrf,
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    r = client.post(
        "/questions/num/forecast",
        data={"dist": "normal(mu=11000, sigma=1500)", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303
    r = client.post(
        "/questions/when/forecast",
        data={
            "q-0.1": "2030-01-01",
            "q-0.5": "2031-06-01",
            "q-0.9": "2035-01-01",
            "csrf_token": csrf,
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    vals = [r.data["value"] for r in ws.journal.records(kinds=("forecast",))]
    qs = ws.questions()
    assert vals[0] == parse_forecast_value(qs["mc"], "A=20%,B=0.5,C=30%")
    assert vals[1] == {"probs": [0.1, 0.1, 0.8]}
    assert vals[2] == parse_forecast_value(qs["num"], "0.1=9000,0.5=11000,0.9=14000")
    assert vals[3]["distribution"]["name"] == "normal"
    assert vals[4] == parse_forecast_value(
        qs["when"], "0.1=2030-01-01,0.5=2031-06-01,0.9=2035-01-01"
    )
    page = client.get("/questions/when").text
    assert "q0.5=2031-06-01" in page


def test_no_forecast_after_a_resolution(client: TestClient, ws: Workspace, app: Any) -> None:
    csrf = login(client, "admin")
    client.post("/questions/bin/forecast", data={"value": "60%", "csrf_token": csrf})
    r = client.post(
        "/questions/bin/resolve",
        data={"outcome": "yes", "source": "https://example.org/r", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303
    res = ws.resolution_of("bin")
    assert res is not None and res.data["resolver"] == "admin" and res.data["outcome"] == 1.0
    page = client.get("/questions/bin").text
    assert "resolved: Yes" in page and "forecast-form" not in page
    r = client.post("/questions/bin/forecast", data={"value": "60%", "csrf_token": csrf})
    assert r.status_code == 422 and "is already resolved" in field_errors(r.text)["form"]
    r = client.post(
        "/api/forecasts",
        json={"question_id": "bin", "value": "60%"},
        headers=token_for(app, "alice"),
    )
    assert r.status_code == 422 and "already resolved" in r.json()["detail"]
    r = client.post(
        "/questions/bin/resolve", data={"outcome": "no", "source": "x", "csrf_token": csrf}
    )
    assert r.status_code == 422 and "--supersede" in html.unescape(r.text)
    r = client.post(
        "/questions/mc/resolve",
        data={"annul": "1", "source": "overtaken by events", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303 and ws.resolution_of("mc").data["annulled"] is True  # type: ignore[union-attr]


def test_evidence_and_comments(client: TestClient, ws: Workspace) -> None:
    csrf = login(client, "bob")
    r = client.post(
        "/questions/bin/evidence",
        data={
            "title": "Officials confirm",
            "source": "https://example.org/a",
            "observed_at": "2024-05-01",
            "likelihood_ratio": "3",
            "csrf_token": csrf,
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    (ev,) = ws.journal.records(kinds=("evidence",))
    assert (
        ev.forecaster == "bob"
        and ev.data["kind"] == "likelihood_ratio"
        and ev.data["data"] == {"ratio": 3.0}
    )
    r = client.post(
        "/questions/bin/evidence",
        data={"title": "t", "source": "s", "observed_at": "2999-01-01", "csrf_token": csrf},
    )
    assert r.status_code == 422 and field_errors(r.text)["evidence"].startswith("observed_at: ")
    r = client.post("/questions/bin/comment", data={"text": "  ", "csrf_token": csrf})
    assert r.status_code == 422 and "empty comment" in field_errors(r.text)["comment"]
    r = client.post(
        "/questions/bin/comment",
        data={"text": "Line one\nline two", "csrf_token": csrf},
        follow_redirects=False,
    )
    (c,) = ws.journal.records(kinds=("comment",))
    assert r.headers["location"].endswith(f"#{c.record_id}")
    page = client.get("/questions/bin").text
    assert 'href="https://example.org/a"' in page and "Officials confirm" in page
    assert "Line one\nline two" in page
    assert ws.verify(full=True).ok


def test_the_question_page(client: TestClient, ws: Workspace) -> None:
    ws.predict("quoted", "30%", analyst="bob", rationale="bob's reasons")
    from forecasting.forecasters import model

    q = ws.question("quoted")
    ws.write_forecast(q, {"p": 0.45}, forecaster=model("hazard"), allowed_kinds=("model",))
    login(client, "alice")
    page = html.unescape(client.get("/questions/quoted").text)
    for text in (
        "Resolves by the test.",
        "the test suite",
        "Pyongyang is likely to send more troops",
        "000_doc, line 4",
        "is likely to",
        "bob's reasons",
        "model:hazard",
        "45.0%",
        "Base rate 20%",
    ):
        assert text in page, text
    assert client.get("/questions/nope").status_code == 404


def test_the_trajectory_chart(client: TestClient, ws: Workspace) -> None:
    ws.predict("bin", "30%", analyst="bob", as_of="2024-01-01T00:00:00Z")
    ws.predict("bin", "50%", analyst="alice", as_of="2024-02-01T00:00:00Z")
    ws.add_evidence("news", source="s", observed_at="2024-01-15", question_ids=["bin"], by="bob")
    login(client, "alice")
    r = client.get("/questions/bin/trajectory.svg")
    assert r.status_code == 200 and r.headers["content-type"] == "image/svg+xml"
    assert r.text.startswith("<?xml") and "<svg" in r.text and "team:median" in r.text
    assert "<script" not in r.text
    etag = r.headers["etag"]
    assert (
        client.get("/questions/bin/trajectory.svg", headers={"If-None-Match": etag}).status_code
        == 304
    )
    ws.predict("bin", "40%", analyst="bob")
    assert client.get("/questions/bin/trajectory.svg").headers["etag"] != etag
    for qid in ("mc", "num", "when"):
        assert client.get(f"/questions/{qid}/trajectory.svg").status_code == 200


# --------------------------------------------------------------------------- dashboard
def test_the_dashboard(client: TestClient, ws: Workspace, clock: Clock, app: Any) -> None:
    from forecasting.aggregation import team_forecasts
    from forecasting.forecasters import model

    old = (clock.now - timedelta(days=30)).isoformat()
    ws.predict("bin", "40%", analyst="alice", as_of=old)
    ws.predict("bin", "80%", analyst="bob")
    ws.predict("mc", "A=0.2,B=0.3,C=0.5", analyst="alice", as_of=clock.now - timedelta(days=3))
    ws.write_forecast(
        ws.question("mc"),
        {"probs": [0.6, 0.2, 0.2]},
        forecaster=model("hypotheses"),
        allowed_kinds=("model",),
    )
    ws.add_evidence(
        "news", source="s", observed_at=clock.now - timedelta(days=1), question_ids=["mc"], by="bob"
    )
    login(client, "alice")
    page = html.unescape(client.get("/").text)
    rows = {
        m[0]: m[1]
        for m in re.findall(r'<span class="qid">(\w+) ·.*?</span></td>(.*?)</tr>', page, re.S)
    }
    assert set(rows) == {"bin", "mc", "num", "free", "when", "quoted"}  # open ones only
    assert "60%" in rows["bin"] and "±20 pts · 2 analysts" in rows["bin"]
    assert "update due" in rows["bin"] and "your forecast is 30 days old" in rows["bin"]
    assert "update due" in rows["mc"] and "after your forecast" in rows["mc"]
    assert "A 60%" in rows["mc"]  # the model
    assert "update due" not in rows["num"] and ">forecast<" in rows["num"]
    assert "2 due for an update" in page
    only_due = html.unescape(client.get("/?due=1").text)
    assert "Question bin?" in only_due and "Question num?" not in only_due
    team = team_forecasts(ws, ["median"]).table.set_index("question_id")
    api = {q["id"]: q for q in client.get("/api/questions", headers=token_for(app, "alice")).json()}
    assert api["bin"]["team"]["value"]["p"] == pytest.approx(team.loc["bin", "p"])
    assert api["bin"]["team"]["spread"] == pytest.approx(team.loc["bin", "spread"])
    assert api["mc"]["model"]["forecaster"] == "model:hypotheses"
    assert api["bin"]["update_due"] and not api["num"]["update_due"]
    # a fresh forecast clears the flag
    ws.predict("bin", "55%", analyst="alice")
    page = html.unescape(client.get("/").text)
    rows = {
        m[0]: m[1]
        for m in re.findall(r'<span class="qid">(\w+) ·.*?</span></td>(.*?)</tr>', page, re.S)
    }
    assert "up to date" in rows["bin"] and "just now" in rows["bin"]
    # admins also see questions past resolve_by that are not resolved
    assert "Past their resolve-by date" not in page
    login(client, "admin")
    page = client.get("/").text
    assert "Past their resolve-by date, not resolved (1)" in page and "closed" in page


def test_stale_after_days_is_configurable(ws: Workspace, tmp_path: Path, clock: Clock) -> None:
    from forecasting.server import create_app

    ws.predict("bin", "40%", analyst="alice", as_of=(clock.now - timedelta(days=3)).isoformat())
    app = create_app(ws, cache_dir=tmp_path / "c3", stale_after_days=2, hasher=fast_hasher())
    c = new_client(app)
    login(c, "alice")
    assert "your forecast is 3 days old" in html.unescape(c.get("/").text)


def test_the_dashboard_is_computed_once_per_journal_state(
    client: TestClient, ws: Workspace, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from forecasting.server import state

    calls = []
    real = state.build_team_table
    monkeypatch.setattr(state, "build_team_table", lambda *a, **k: calls.append(1) or real(*a, **k))
    login(client, "alice")
    for _ in range(3):
        client.get("/")
    assert len(calls) == 1
    ws.predict("bin", "40%", analyst="bob")
    client.get("/")
    client.get("/")
    assert len(calls) == 2


# --------------------------------------------------------------------------- pages
def test_track_record_report_and_exports(client: TestClient, ws: Workspace) -> None:
    ws.predict("closed", "70%", analyst="alice", as_of="2020-06-01T00:00:00Z")
    ws.predict("closed", "30%", analyst="bob", as_of="2020-06-01T00:00:00Z")
    ws.resolve("closed", "yes", source="https://example.org")
    login(client, "alice")
    page = html.unescape(client.get("/me").text)
    assert "My track record" in page and "Time-averaged Brier" in page
    assert "too few to tell skill from luck" in page  # the report's small-sample caution
    r = client.get("/me/report")
    assert (
        r.status_code == 200 and "style-src 'unsafe-inline'" in r.headers["content-security-policy"]
    )
    r = client.get("/report")
    assert r.status_code == 200 and "Back to the dashboard" in r.text
    assert "script-src" not in r.headers["content-security-policy"]
    r = client.get("/export.csv")
    assert r.headers["content-type"].startswith("text/csv")
    assert 'filename="journal.csv"' in r.headers["content-disposition"]
    assert r.text.splitlines()[0].startswith("seq,kind,record_id")
    r = client.get("/export.jsonl")
    lines = [json.loads(x) for x in r.text.splitlines()]
    assert len(lines) == len(ws.journal) and lines[-1]["kind"] == "resolution"


def test_new_api_token_and_password_change(client: TestClient, ws: Workspace) -> None:
    csrf = login(client, "alice")
    page = client.post("/me/token", data={"csrf_token": csrf}).text
    token = re.search(r'<pre class="token">([^<]+)</pre>', page).group(1)  # type: ignore[union-attr]
    assert client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).json() == {
        "name": "alice",
        "role": "analyst",
    }
    assert token not in client.get("/me").text  # shown once
    r = client.post(
        "/me/password", data={"current": "nope-nope", "new": "a-new-password", "csrf_token": csrf}
    )
    assert r.status_code == 422 and "the current password is wrong" in r.text
    r = client.post(
        "/me/password",
        data={"current": PASSWORDS["alice"], "new": "a-new-password", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303
    login(TestClient(client.app), "alice", "a-new-password")


def test_users_page(client: TestClient, ws: Workspace, app: Any) -> None:
    bob = TestClient(app)
    login(bob, "bob")
    csrf = login(client, "admin")
    assert "vera" in client.get("/admin/users").text
    r = client.post(
        "/admin/users",
        data={"name": "Zoe", "role": "analyst", "password": "zoe-password", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303
    client.post("/admin/users/zoe/role", data={"role": "viewer", "csrf_token": csrf})
    client.post("/admin/users/bob/disable", data={"csrf_token": csrf})
    users = Accounts(ws).users()
    assert users["zoe"].role == "viewer" and users["zoe"].added_by == "admin"
    assert not users["bob"].active
    assert bob.get("/", follow_redirects=False).status_code == 303  # signed out everywhere
    recs = ws.journal.records(kinds=("user",))
    assert [r.forecaster for r in recs[-3:]] == ["admin"] * 3
    r = client.post(
        "/admin/users",
        data={"name": "shorty", "role": "analyst", "password": "short", "csrf_token": csrf},
    )
    assert r.status_code == 422 and "password: at least 8 characters are needed" in r.text
    assert "short" not in r.text.split("password: at least")[1].split("</p>")[0]


# --------------------------------------------------------------------------- JSON API
def test_api_forecasts(client: TestClient, ws: Workspace, app: Any) -> None:
    h = token_for(app, "alice")
    assert client.get("/api/questions").status_code == 401
    assert (
        client.get("/api/questions", headers={"Authorization": "Bearer fct_nope"}).status_code
        == 401
    )
    assert (
        client.get("/api/questions", headers={"Authorization": "Basic YWxpY2U6eA=="}).status_code
        == 401
    )
    qs = client.get("/api/questions", headers=h).json()
    assert {q["id"] for q in qs} == {"bin", "mc", "num", "free", "when", "quoted"}
    r = client.post(
        "/api/forecasts", json={"question_id": "bin", "value": "70%", "rationale": "why"}, headers=h
    )
    assert r.status_code == 201
    rec = r.json()
    assert rec["forecaster"] == "alice" and rec["payload"]["value"] == {"p": 0.7}
    assert rec["display"] == "70.0%" and len(rec["hash"]) == 64
    assert ws.journal.get(rec["record_id"]).hash == rec["hash"]  # type: ignore[union-attr]
    r = client.post(
        "/api/forecasts",
        json={"question_id": "mc", "value": {"A": 0.2, "B": 0.3, "C": 0.5}},
        headers=h,
    )
    assert r.status_code == 201
    r = client.post(
        "/api/forecasts",
        json={"question_id": "num", "value": {"0.1": 9000, "0.5": 11000, "0.9": 14000}},
        headers=h,
    )
    assert r.status_code == 201
    r = client.post("/api/forecasts", json={"question_id": "bin", "value": "150%"}, headers=h)
    assert r.status_code == 422
    assert r.json() == {
        "detail": "probability: '150%' is not allowed; a probability must lie strictly between 0 "
        "and 1 (e.g. 0.01 to 0.99; exact 0 and 1 are refused)",
        "field": "probability",
    }
    r = client.post("/api/forecasts", json={"question_id": "nope", "value": 0.5}, headers=h)
    assert r.status_code == 404 and "nope" in r.json()["detail"]
    r = client.post("/api/forecasts", json={"value": 0.5}, headers=h)
    assert r.status_code == 422 and "question_id" in r.json()["detail"]
    viewer = token_for(app, "vera")
    r = client.post("/api/forecasts", json={"question_id": "bin", "value": 0.5}, headers=viewer)
    assert r.status_code == 403 and "vera is a viewer" in r.json()["detail"]
    assert client.get("/api/questions", headers=viewer).status_code == 200
    hist = client.get("/api/questions/bin/forecasts", headers=h).json()
    assert [f["display"] for f in hist] == ["70.0%"]
    detail = client.get("/api/questions/bin", headers=h).json()
    assert detail["question"]["id"] == "bin" and detail["standing"][0]["forecaster"] == "alice"
    assert ws.verify(full=True).ok


def test_api_ignores_cookies(client: TestClient) -> None:
    login(client, "alice")
    r = client.post("/api/forecasts", json={"question_id": "bin", "value": 0.5})
    assert r.status_code == 401
    assert "set-cookie" not in r.headers


def test_api_comments_evidence_resolutions_export(
    client: TestClient, ws: Workspace, app: Any
) -> None:
    alice, admin = token_for(app, "alice"), token_for(app, "admin")
    r = client.post("/api/comments", json={"question_id": "bin", "text": "hello"}, headers=alice)
    assert r.status_code == 201 and r.json()["kind"] == "comment"
    r = client.post(
        "/api/evidence",
        json={
            "question_ids": ["bin", "mc"],
            "title": "t",
            "source": "s",
            "observed_at": "2024-01-01",
        },
        headers=alice,
    )
    assert r.status_code == 201 and r.json()["payload"]["question_ids"] == ["bin", "mc"]
    body = {"question_id": "bin", "outcome": "yes", "source": "https://example.org"}
    assert client.post("/api/resolutions", json=body, headers=alice).status_code == 403
    r = client.post("/api/resolutions", json=body, headers=admin)
    assert r.status_code == 201 and r.json()["payload"]["resolver"] == "admin"
    r = client.get("/api/export?format=csv", headers=alice)
    assert r.status_code == 200 and r.text.startswith("seq,kind")
    assert client.get("/api/export?format=xml", headers=alice).status_code == 422
    assert client.get("/api/me", headers=admin).json() == {"name": "admin", "role": "admin"}


def test_openapi_docs(client: TestClient, app: Any) -> None:
    assert client.get("/api/openapi.json").status_code == 401
    spec = client.get("/api/openapi.json", headers=token_for(app, "vera")).json()
    assert {"/api/questions", "/api/forecasts", "/api/comments", "/api/export"} <= set(
        spec["paths"]
    )
    assert not any(p.startswith("/questions") for p in spec["paths"])  # pages stay out
    assert "HTTPBearer" in json.dumps(spec["components"]["securitySchemes"])
    for p in ("/docs", "/redoc", "/openapi.json"):
        assert client.get(p).status_code == 404
    login(client, "vera")
    page = client.get("/api-docs").text
    assert "/api/forecasts" in page and "question_id" in page


def test_healthz_without_a_database(app: Any, ws: Workspace, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def broken() -> None:
        raise RuntimeError("down")

    monkeypatch.setattr(app.state.server.accounts.engine, "connect", broken)
    r = new_client(app).get("/healthz")
    assert r.status_code == 503 and r.json() == {"status": "database unavailable"}


UMBRELLA = """\
id: umbrella
title: Take an umbrella?
illustrative: true
questions: {rain: bin, wind: quoted}
options: [take, leave]
payoffs:
  take:
    justification: dry but encumbered
    table:
      - {when: {rain: yes, wind: yes}, value: 2}
      - {when: {rain: yes}, value: 5}
      - {value: -1}
  leave:
    justification: free hands, wet if it rains
    expr: "-6 * rain + 1"
by: team:mean
"""


def test_the_dashboard_says_what_to_forecast_first(
    client: TestClient, ws: Workspace, app: Any
) -> None:
    """Issue 13.3: with decision files, the dashboard ranks the open questions by their
    EVPPI summed over the decisions (computed in the background, once per journal state)."""
    from forecasting.decisions import voi_ranking

    server = app.state.server
    for who, rain, wind in (("alice", "30%", "50%"), ("bob", "40%", "60%")):
        ws.predict("bin", rain, analyst=who)
        ws.predict("quoted", wind, analyst=who)
    login(client, "alice")
    assert server.priorities(wait=True) is None  # no decision files yet
    assert "Forecast these first" not in client.get("/").text

    folder = ws.questions_dir / "testcoll" / "decisions"
    folder.mkdir(parents=True)
    (folder / "umbrella.yaml").write_text(UMBRELLA, encoding="utf-8")
    first = server.priorities(wait=True)
    assert first is not None and not first.stale and first.n_decisions == 1
    want = voi_ranking(ws, at=server.now)
    assert [r["question_id"] for r in first.rows] == [r["question_id"] for r in want]
    assert first.rows[0]["evppi"] == pytest.approx(want[0]["evppi"])
    page = html.unescape(client.get("/").text)
    assert "Forecast these first" in page
    assert f"{first.rows[0]['question_id']} · EVPPI {first.rows[0]['evppi']:.3g}" in page

    ws.predict("bin", "90%", analyst="bob")  # the journal moves: a new ranking follows
    again = server.priorities(wait=True)
    assert again is not None and again.seq == ws.head()[0] > first.seq and not again.stale


def test_an_analyst_retracts_their_own_forecast_while_the_question_is_open(
    client: TestClient, ws: Workspace, clock: Clock, app: Any
) -> None:
    first = ws.predict("bin", "40%", analyst="alice")
    second = ws.predict("bin", "60%", analyst="alice")
    bobs = ws.predict("bin", "20%", analyst="bob")
    csrf = login(client, "alice")
    page = client.get("/questions/bin").text
    assert page.count("Retract this forecast") == 1  # only on alice's own row
    assert f'name="record_id" value="{second.record_id}"' in page

    # no CSRF token: refused, nothing written
    n = len(ws.journal.records())
    r = client.post(
        "/questions/bin/retract",
        data={"record_id": second.record_id, "reason": "typo"},
        follow_redirects=False,
    )
    assert r.status_code == 403 and len(ws.journal.records()) == n
    # someone else's forecast: refused
    r = client.post(
        "/questions/bin/retract",
        data={"record_id": bobs.record_id, "reason": "no", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 403 and len(ws.journal.records()) == n
    # a reason is required, in the library's words, next to the field
    r = client.post(
        "/questions/bin/retract",
        data={"record_id": second.record_id, "reason": " ", "csrf_token": csrf},
    )
    assert r.status_code == 422
    assert field_errors(r.text)["retract"] == "reason: a retraction needs a reason"
    # her own: retracted; the previous forecast stands again
    r = client.post(
        "/questions/bin/retract",
        data={"record_id": second.record_id, "reason": "typed 60 for 6", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303 and "saved=x-" in r.headers["location"]
    last = ws.journal.records(kinds=("retraction",))[-1]
    assert last.data == {"target": second.record_id, "reason": "typed 60 for 6"}
    assert last.forecaster == "alice"
    mine = client.get("/questions/bin").text
    assert f'name="record_id" value="{first.record_id}"' in mine  # 40% stands again

    # once the question is resolved, its forecasts are scored as they stand
    ws.resolve("bin", "no", source="https://example.org/outcome")
    page = client.get("/questions/bin").text
    assert "Retract this forecast" not in page
    r = client.post(
        "/questions/bin/retract",
        data={"record_id": first.record_id, "reason": "after the fact", "csrf_token": csrf},
    )
    assert r.status_code == 422 and "can no longer be retracted" in html.unescape(r.text)
