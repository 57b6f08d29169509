"""What the service remembers between requests: bounded, trusted for ``recheck_s``, dropped on promotion.

The clock is a fake one moved by hand: no test waits or measures time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from humortune.gemini import GeminiClient
from humortune.schema import Analysis
from humortune.service import create_app
from humortune.service.memo import Memo, ServiceMemo
from humortune.settings import Settings
from humortune.storage import LocalStorage
from humortune.workspace import Corpus
from humortune.workspace.stores import Stores
from tests._analyzer_support import register, tuned_endpoint

TOKEN = "memo-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
VIDEO = "gs://bkt/training/videos/7301234567890123456.mp4"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# -- Memo ----------------------------------------------------------------------------------------------


def test_an_entry_is_trusted_for_ttl_seconds_from_when_it_was_read() -> None:
    clock = Clock()
    memo: Memo[str, int] = Memo(ttl=1.0, max_entries=8, clock=clock)
    memo.put("a", 1, seen_at=clock.now - 0.25)  # read a quarter of a second ago
    clock.now += 0.7
    assert memo.get("a") == 1
    clock.now += 0.05  # 1.0 s since the read
    assert memo.get("a") is None and memo.peek("a") == 1


def test_the_memo_is_a_bounded_lru() -> None:
    clock = Clock()
    memo: Memo[str, int] = Memo(ttl=10.0, max_entries=2, clock=clock)
    memo.put("a", 1, seen_at=clock.now)
    memo.put("b", 2, seen_at=clock.now)
    assert memo.get("a") == 1  # now "b" is the least recently used
    memo.put("c", 3, seen_at=clock.now)
    assert len(memo) == 2 and memo.get("b") is None and (memo.get("a"), memo.get("c")) == (1, 3)


def test_a_slow_reader_cannot_put_back_what_a_later_read_replaced() -> None:
    clock = Clock()
    memo: Memo[str, str] = Memo(ttl=10.0, max_entries=8, clock=clock)
    memo.put("id", "new row", seen_at=clock.now)
    memo.put("id", "old row", seen_at=clock.now - 0.1)  # its read started before the write
    assert memo.get("id") == "new row"


def test_ttl_zero_trusts_nothing() -> None:
    memo: Memo[str, int] = Memo(ttl=0.0, max_entries=8, clock=Clock())
    memo.put("a", 1, seen_at=0.0)
    assert memo.get("a") is None and len(memo) == 0


# -- ServiceMemo -----------------------------------------------------------------------------------------


def _analysis(analysis_id: str, narrative: str = "Det roliga i detta klipp är tajmingen.") -> Analysis:
    return Analysis(
        id=analysis_id,
        video_uri=VIDEO,
        narrative=narrative,
        model="m",
        prompt_version="p-1",
        mode="two-stage",
    )


def test_the_analyses_by_id_are_bounded() -> None:
    clock = Clock()
    memo = ServiceMemo(recheck_s=60.0, max_analyses=2, clock=clock)
    for n in range(3):
        memo.remember(_analysis(f"an-000000000000000{n}"), seen_at=clock.now)
    assert len(memo.analyses) == 2 and memo.analysis("an-0000000000000000") is None
    assert memo.analysis("an-0000000000000002") is not None


def test_an_answer_needs_its_analysis_still_trusted_and_is_as_old_as_its_model() -> None:
    clock = Clock()
    memo = ServiceMemo(recheck_s=1.0, clock=clock)
    key = (VIDEO, None, None, False)
    memo.remember(_analysis("an-0000000000000001"), seen_at=clock.now, key=key, resolved_at=clock.now - 0.5)
    hit = memo.answer(key)
    assert hit is not None and b'"cached":true' in hit
    assert b'"cached":false' in (memo.analysis("an-0000000000000001") or b"")
    clock.now += 0.5  # the model was resolved 1 s ago: the answer goes, the row stays
    assert memo.answer(key) is None and memo.analysis("an-0000000000000001") is not None
    memo.forget("an-0000000000000001")  # written again: read it the next time
    assert memo.analysis("an-0000000000000001") is None


@dataclass
class _Resolved:
    model_id: str
    call_name: str = "endpoint"
    prompt_version: str | None = None
    media_resolution: str | None = None
    base_model: str | None = None


@dataclass
class _Analyzer:
    model: _Resolved


def test_an_analyzer_is_built_again_after_recheck_and_a_new_model_drops_the_answers() -> None:
    clock = Clock()
    memo = ServiceMemo(recheck_s=1.0, clock=clock)
    models = iter(["A", "A", "B"])
    built: list[str] = []

    def build() -> Any:
        built.append(model := next(models))
        return _Analyzer(_Resolved(model))

    key = (None, None, False)
    first, _ = memo.analyzer(key, build)
    assert memo.analyzer(key, build)[0] is first and built == ["A"]  # trusted: not built again
    memo.remember(_analysis("an-0000000000000001"), seen_at=clock.now, key=(VIDEO, None, None, False))
    clock.now += 1.0
    memo.analyzer(key, build)  # resolved again, to the same model: the answers stay
    assert built == ["A", "A"] and len(memo.answers) == 1
    clock.now += 1.0
    assert memo.analyzer(key, build)[0].model.model_id == "B" and len(memo.answers) == 0


def test_healthz_seeing_another_model_drops_what_depended_on_the_old_one() -> None:
    memo = ServiceMemo(recheck_s=60.0, clock=Clock())
    memo.analyzer((None, None, False), lambda: _Analyzer(_Resolved("A")))  # type: ignore[arg-type,return-value]
    memo.served(_Resolved("A"))  # type: ignore[arg-type]
    assert len(memo.analyzers) == 1
    memo.served(_Resolved("B"))  # type: ignore[arg-type]
    assert len(memo.analyzers) == 0


@dataclass
class _Review:
    on_promotion: Any


def test_a_promotion_in_the_mounted_review_ui_drops_the_models() -> None:
    memo = ServiceMemo(recheck_s=60.0, clock=Clock())
    memo.analyzer((None, None, False), lambda: _Analyzer(_Resolved("A")))  # type: ignore[arg-type,return-value]
    review = _Review(on_promotion=lambda event_id, confirm: f"promoted {event_id}")
    memo.watch_promotions(review)  # type: ignore[arg-type]
    assert review.on_promotion(7, True) == "promoted 7" and len(memo.analyzers) == 0


# -- the served app --------------------------------------------------------------------------------------


@pytest.fixture
def client(fake_gemini_client: GeminiClient) -> GeminiClient:
    return fake_gemini_client


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _app(settings: Settings, corpus: Corpus, client: GeminiClient, *, recheck_s: float = 1.0) -> Any:
    settings = settings.model_copy(update={"storage": "gs://bkt"})
    return create_app(
        settings,
        corpus=corpus,
        client=client,
        storage=LocalStorage(settings.workspace / "storage"),
        token=TOKEN,
        recheck_s=recheck_s,
    )


@pytest.fixture
def api(settings: Settings, corpus: Corpus, client: GeminiClient, clock: Clock) -> Iterator[TestClient]:
    model_id, endpoint = tuned_endpoint(client)
    register(corpus, model_id, endpoint)
    app = _app(settings, corpus, client)
    app.state.service.memo = ServiceMemo(recheck_s=1.0, clock=clock)
    with TestClient(app) as test_client:
        yield test_client


def _promote_elsewhere(settings: Settings, client: GeminiClient) -> str:
    """Register a second tuned model and move ``current`` to it through another connection (as another
    process or machine would)."""
    model_id, endpoint = tuned_endpoint(client)
    with Corpus.open(settings=settings) as other:
        register(other, model_id, endpoint, alias=None, dataset_id="ds-second")
        Stores.of(other.db).aliases.move("current", model_id)
    return model_id


def _post(api: TestClient) -> dict[str, Any]:
    response = api.post("/v1/analyze", json={"video": VIDEO}, headers=AUTH)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_promotion_elsewhere_is_served_once_recheck_s_has_passed(
    api: TestClient, settings: Settings, client: GeminiClient, clock: Clock
) -> None:
    first = _post(api)
    assert _post(api)["cached"] is True
    promoted = _promote_elsewhere(settings, client)
    assert _post(api)["model"] == first["model"]  # within the bounded staleness: still trusted
    clock.now += 1.0
    after = _post(api)
    assert after["model"] == promoted != first["model"] and after["cached"] is False


def test_healthz_after_a_promotion_leaves_no_stale_model_behind(
    api: TestClient, settings: Settings, client: GeminiClient
) -> None:
    first = _post(api)
    _post(api)  # remembered
    promoted = _promote_elsewhere(settings, client)
    assert api.get("/healthz").json()["model"] == promoted
    assert _post(api)["model"] == promoted != first["model"]  # at once, without the clock moving


def test_an_analysis_rewritten_elsewhere_is_read_again_once_recheck_s_has_passed(
    api: TestClient, settings: Settings, clock: Clock
) -> None:
    analysis_id = _post(api)["id"]
    before = api.get(f"/v1/analyses/{analysis_id}", headers=AUTH).json()
    with Corpus.open(settings=settings) as other:  # e.g. `humortune analyze --refresh` on another machine
        store = Stores.of(other.db).analyses
        stored = store.get(analysis_id)
        assert stored is not None
        store.put(stored.model_copy(update={"narrative": "Det roliga i detta klipp är något annat nu."}))
    assert api.get(f"/v1/analyses/{analysis_id}", headers=AUTH).json() == before
    clock.now += 1.0
    after = api.get(f"/v1/analyses/{analysis_id}", headers=AUTH).json()
    assert after["narrative"] == "Det roliga i detta klipp är något annat nu."
    assert _post(api)["narrative"] == after["narrative"]


def test_a_refresh_in_this_service_is_served_at_once(api: TestClient) -> None:
    first = _post(api)
    stored = api.get(f"/v1/analyses/{first['id']}", headers=AUTH).json()  # remembered
    refreshed = api.post("/v1/analyze", json={"video": VIDEO, "refresh": True}, headers=AUTH).json()
    assert refreshed["cached"] is False and refreshed["created_at"] != stored["created_at"]
    again = api.get(f"/v1/analyses/{first['id']}", headers=AUTH).json()
    assert again["created_at"] == refreshed["created_at"] == _post(api)["created_at"]


def test_recheck_zero_reads_the_workspace_on_every_request(
    settings: Settings, corpus: Corpus, client: GeminiClient
) -> None:
    model_id, endpoint = tuned_endpoint(client)
    register(corpus, model_id, endpoint)
    with TestClient(_app(settings, corpus, client, recheck_s=0)) as api:
        first = _post(api)
        promoted = _promote_elsewhere(settings, client)
        assert _post(api)["model"] == promoted != first["model"]
        assert len(api.app.state.service.memo.analyses) == 0  # type: ignore[attr-defined]
