"""The JSON API: the same operations as the pages, for scripts with an API token.

Every route needs ``Authorization: Bearer TOKEN``; cookies are ignored here, so the API needs
no CSRF token.  Library refusals come back as ``{"detail": message, "field": field}`` with the
CLI's message: 422 for a bad value, 404 for an unknown question, 403 when the role does not
allow it, 401 without a valid token.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from ..accounts import AuthError, User, require
from ..values import format_value
from .common import LoginRequired, server_of
from .views import long_value, question_status, short_value

__all__ = ["router"]

_bearer = HTTPBearer(auto_error=False, description="An API token from `forecast users token`.")


def api_user(
    request: Request, creds: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> User:
    """The token's user; 401 without a valid token."""
    if creds is None or creds.scheme.lower() != "bearer":
        raise LoginRequired("token: missing; send the header Authorization: Bearer TOKEN")
    client = request.client.host if request.client else None
    try:
        return server_of(request).accounts.user_for_token(creds.credentials, address=client)
    except AuthError as exc:
        raise LoginRequired(str(exc)) from None


_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid API token"},
    403: {"description": "The token's role does not allow this"},
    404: {"description": "Unknown question"},
    422: {"description": "Refused by the library: `detail` is the CLI's message"},
}

router = APIRouter(prefix="/api", tags=["api"], responses=_ERRORS)


# ------------------------------------------------------------------------ models
class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ForecastIn(_In):
    """A forecast; the forecaster is always the token's user (there is no field for it)."""

    question_id: str = Field(description="The question's id.")
    value: float | str | list[float | str] | dict[str, Any] = Field(
        description=(
            "binary: 0.35, '35%', '1:3' or a word such as 'likely'; multiple choice: "
            "{option: p} or a list in option order; numeric/date: {level: value} (at least "
            "3) or 'normal(mu=11000,sigma=1500)'"
        ),
        examples=["70%"],
    )
    rationale: str | None = Field(default=None, description="Why; shown in the discussion.")
    evidence_ids: list[str] = Field(default_factory=list, description="Evidence behind it.")
    as_of: str | None = Field(
        default=None, description="Information time of a back-filled forecast (ISO 8601)."
    )


class CommentIn(_In):
    question_id: str = Field(description="The question's id.")
    text: str = Field(description="The comment, as plain text.")
    reply_to: str | None = Field(default=None, description="Record id of the comment answered.")


class EvidenceIn(_In):
    question_ids: list[str] = Field(min_length=1, description="The questions it bears on.")
    title: str = Field(description="Headline of the news item.")
    source: str = Field(description="URL or reference.")
    observed_at: str = Field(description="When the news appeared (ISO 8601).")
    likelihood_ratio: float | None = Field(
        default=None, description="P(E | Yes) / P(E | No), for binary questions."
    )


class ResolutionIn(_In):
    question_id: str = Field(description="The question's id.")
    outcome: str | float | None = Field(
        default=None, description="yes/no, an option name, a number or a date."
    )
    source: str = Field(description="URL or reference that settles the question.")
    annul: bool = Field(default=False, description="Annul instead (it is then not scored).")
    supersede: bool = Field(
        default=False, description="Replace an earlier resolution (kept in the journal)."
    )


class RecordOut(BaseModel):
    """A journal record as written (with its hashes)."""

    seq: int
    kind: str
    record_id: str
    question_id: str | None
    forecaster: str | None
    recorded_at: str
    as_of: str | None
    payload: dict[str, Any]
    prev_hash: str
    hash: str
    display: str | None = Field(default=None, description="The value as the CLI prints it.")


class Estimate(BaseModel):
    forecaster: str
    value: dict[str, Any]
    display: str
    as_of: str | None = None
    n_forecasters: int | None = None
    spread: float | None = None


class QuestionOut(BaseModel):
    id: str
    title: str
    type: str
    options: list[str] | None
    unit: str | None
    status: str
    open_at: str
    close_at: str
    resolve_by: str
    team: Estimate | None = Field(description="The team's pooled estimate (and its spread).")
    model: Estimate | None = Field(description="The latest model forecast.")
    mine: Estimate | None = Field(description="Your standing forecast.")
    update_due: bool
    update_reasons: list[str]


class MeOut(BaseModel):
    name: str
    role: str


def _record(rec: Any, display: str | None = None) -> dict[str, Any]:
    d: dict[str, Any] = rec.as_dict()
    d["display"] = display
    return d


# ------------------------------------------------------------------------ routes
@router.get("/me", response_model=MeOut, summary="Who the token belongs to")
def me(user: User = Depends(api_user)) -> dict[str, Any]:
    return {"name": user.name, "role": user.role}


@router.get(
    "/questions",
    response_model=list[QuestionOut],
    summary="The open questions, with the team's estimate",
)
def questions(request: Request, user: User = Depends(api_user)) -> list[dict[str, Any]]:
    """Every open question with its id, the team's pooled estimate and spread, the latest
    model forecast, your standing forecast, and whether it is due for an update."""
    server = server_of(request)
    rows, _overdue, data = server.dashboard(require(user, "read"))
    out = []
    for r in rows:
        q = r.q
        t = data.team.get(q.id)
        m = data.model.get(q.id)
        mine = data.standing.get(q.id, {}).get(user.name)
        out.append(
            {
                "id": q.id,
                "title": q.title,
                "type": q.type,
                "options": q.options,
                "unit": q.unit,
                "status": r.status,
                "open_at": q.open_at.isoformat(),
                "close_at": q.close_at.isoformat(),
                "resolve_by": q.resolve_by.isoformat(),
                "team": (
                    {
                        "forecaster": f"team:{data.method}",
                        "value": t.value,
                        "display": long_value(t.value, q),
                        "n_forecasters": t.n_forecasters,
                        "spread": t.spread,
                    }
                    if t
                    else None
                ),
                "model": (
                    {
                        "forecaster": m.forecaster,
                        "value": m.value,
                        "display": long_value(m.value, q),
                        "as_of": m.as_of.isoformat(),
                    }
                    if m
                    else None
                ),
                "mine": (
                    {
                        "forecaster": user.name,
                        "value": mine.value,
                        "display": long_value(mine.value, q),
                        "as_of": mine.as_of.isoformat(),
                    }
                    if mine
                    else None
                ),
                "update_due": r.due,
                "update_reasons": r.due_reasons,
            }
        )
    return out


@router.get("/questions/{qid}", summary="One question: its definition and standing forecasts")
def question(request: Request, qid: str, user: User = Depends(api_user)) -> dict[str, Any]:
    server = server_of(request)
    require(user, "read")
    q = server.question(qid)
    with server.index_lock:
        idx = server.sync()
        standing = idx.standing(q.id)
        res = idx.resolution(q.id)
    return {
        "question": q.snapshot(),
        "status": question_status(q, res, server.now),
        "resolution": (
            {
                "record_id": res.record_id,
                "outcome": res.outcome,
                "annulled": res.annulled,
                "source": res.source,
                "resolver": res.resolver,
                "at": res.at.isoformat(),
            }
            if res
            else None
        ),
        "standing": [
            {
                "forecaster": f.forecaster,
                "record_id": f.record_id,
                "value": f.value,
                "display": short_value(f.value, q),
                "as_of": f.as_of.isoformat(),
                "rationale": f.rationale,
            }
            for f in standing.values()
        ],
    }


@router.get("/questions/{qid}/forecasts", summary="Every forecast on a question, in order")
def forecasts(request: Request, qid: str, user: User = Depends(api_user)) -> list[dict[str, Any]]:
    server = server_of(request)
    require(user, "read")
    q = server.question(qid)
    with server.index_lock:
        rows = server.sync().forecasts(q.id)
    return [
        {
            "seq": f.seq,
            "record_id": f.record_id,
            "forecaster": f.forecaster,
            "as_of": f.as_of.isoformat(),
            "recorded_at": f.recorded_at.isoformat(),
            "value": f.value,
            "display": format_value(f.value, q.options),
            "rationale": f.rationale,
            "evidence_ids": list(f.evidence_ids),
            "backfilled": f.backfilled,
        }
        for f in rows
    ]


@router.post(
    "/forecasts",
    status_code=201,
    response_model=RecordOut,
    summary="Record a forecast as the token's user",
)
def post_forecast(
    request: Request, body: ForecastIn, user: User = Depends(api_user)
) -> dict[str, Any]:
    """The same call as `forecast predict`: a value the CLI refuses gets 422 and its message."""
    server = server_of(request)
    rec = server.predict(
        user,
        body.question_id,
        body.value,
        rationale=body.rationale,
        evidence=body.evidence_ids,
        as_of=body.as_of,
    )
    q = server.question(body.question_id)
    return _record(rec, format_value(rec.data["value"], q.options))


@router.post("/comments", status_code=201, response_model=RecordOut, summary="Add a comment")
def post_comment(
    request: Request, body: CommentIn, user: User = Depends(api_user)
) -> dict[str, Any]:
    rec = server_of(request).comment(user, body.question_id, body.text, reply_to=body.reply_to)
    return _record(rec)


@router.post("/evidence", status_code=201, response_model=RecordOut, summary="Add an evidence item")
def post_evidence(
    request: Request, body: EvidenceIn, user: User = Depends(api_user)
) -> dict[str, Any]:
    rec = server_of(request).add_evidence(
        user,
        body.question_ids,
        title=body.title,
        source=body.source,
        observed_at=body.observed_at,
        likelihood_ratio=body.likelihood_ratio,
    )
    return _record(rec)


@router.post(
    "/resolutions",
    status_code=201,
    response_model=RecordOut,
    summary="Resolve or annul a question (admins)",
)
def post_resolution(
    request: Request, body: ResolutionIn, user: User = Depends(api_user)
) -> dict[str, Any]:
    rec = server_of(request).resolve(
        user,
        body.question_id,
        body.outcome,
        source=body.source,
        annul=body.annul,
        supersede=body.supersede,
    )
    return _record(rec)


@router.get(
    "/export",
    summary="The whole journal as JSONL or CSV",
    response_class=Response,
    responses={200: {"content": {"application/x-ndjson": {}, "text/csv": {}}}},
)
def export(
    request: Request,
    format: Literal["jsonl", "csv"] = "jsonl",
    user: User = Depends(api_user),
) -> Response:
    body = server_of(request).export(user, format)
    media = "text/csv" if format == "csv" else "application/x-ndjson"
    return Response(body, media_type=f"{media}; charset=utf-8")


@router.get("/openapi.json", include_in_schema=False)
def openapi(request: Request, user: User = Depends(api_user)) -> JSONResponse:
    return JSONResponse(request.app.openapi())
