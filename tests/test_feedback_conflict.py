"""Two review tabs on one clip: a stale save writes nothing and gets 409 with both versions (issue 15.3)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from humortune.errors import StaleReviewError
from humortune.feedback import ReviewSecurity, ReviewStore, create_review_app
from humortune.feedback.review import NO_REVISION
from humortune.feedback.security import loopback_hosts
from humortune.schema import HumorRecord, VideoAsset
from humortune.settings import Settings
from humortune.storage import LocalStorage
from humortune.workspace import Corpus
from tests._feedback_support import RECORD, add_analysis, copy_clips, make_clips, store_clip

TOKEN = "t0ken-for-the-conflict-tests-0123456789"
ORIGIN = "http://testserver"
MODEL = "gemini-2.5-flash"


@pytest.fixture(scope="module")
def clip_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return make_clips(tmp_path_factory.mktemp("clips"), count=1)


@pytest.fixture
def video(corpus: Corpus, tmp_path: Path, clip_files: list[Path]) -> tuple[LocalStorage, VideoAsset]:
    storage = LocalStorage(tmp_path / "storage")
    return storage, store_clip(corpus, storage, copy_clips(clip_files, tmp_path / "in")[0])


@pytest.fixture
def client(settings: Settings, corpus: Corpus, video: tuple[LocalStorage, VideoAsset]) -> Iterator[TestClient]:
    security = ReviewSecurity(token=TOKEN, allowed_hosts=loopback_hosts() | {"testserver"})
    app = create_review_app(settings, corpus=corpus, storage=video[0], security=security, standalone=True)
    with TestClient(app) as c:
        assert c.get(f"/review/?token={TOKEN}", follow_redirects=False).status_code == 303
        yield c


def _hidden(page: str, form_id: str) -> dict[str, str]:
    """The hidden inputs of one form on a page."""
    form = page[page.index(f'id="{form_id}"') :]
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form[: form.index("</form>")]))


def _form(page: str) -> dict[str, str]:
    """What a browser would submit from the clip page's editor, untouched."""
    form = page[page.index('id="review-form"') :]
    values = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form[: form.index("</form>")]))
    values["narrative"] = re.search(r'id="f-narrative"[^>]*>([^<]*)</textarea>', form).group(1)  # type: ignore[union-attr]
    for name, value in RECORD.items():
        values[name] = str(value).lower() if isinstance(value, bool) else str(value)
    return values


def _post(client: TestClient, url: str, data: dict[str, str]) -> object:
    return client.post(url, data=data, headers={"Origin": ORIGIN}, follow_redirects=False)


def test_two_tabs_the_stale_save_gets_409_and_nothing_is_lost(
    client: TestClient, corpus: Corpus, video: tuple[LocalStorage, VideoAsset]
) -> None:
    aid = add_analysis(corpus, video[1], MODEL, record=RECORD)
    tab_a = _form(client.get(f"/review/clip/{aid}").text)
    tab_b = _form(client.get(f"/review/clip/{aid}").text)
    assert tab_a["revision"] == tab_b["revision"] == NO_REVISION

    tab_a["narrative"] = "A: ägarens nya berättelse."
    assert _post(client, f"/review/clip/{aid}/save", tab_a).status_code == 303  # type: ignore[attr-defined]

    tab_b["summary"] = "B: en ny sammanfattning."
    stale = _post(client, f"/review/clip/{aid}/save", tab_b)
    assert stale.status_code == 409  # type: ignore[attr-defined]
    html = stale.text  # type: ignore[attr-defined]
    assert "A: ägarens nya berättelse." in html and "B: en ny sammanfattning." in html  # side by side
    [saved] = corpus.corrections(source="review")
    assert saved.human_said == "A: ägarens nya berättelse."  # A's save is intact
    assert saved.record is not None and saved.record.summary == RECORD["summary"]
    assert corpus.db.query_one("SELECT COUNT(*) FROM reviews")[0] == 1  # type: ignore[index]

    # The owner chooses B's version: the conflict page's form carries the new revision.
    choice = _hidden(html, "keep-mine")
    assert choice["revision"] != NO_REVISION and choice["summary"] == "B: en ny sammanfattning."
    choice["csrf_token"] = tab_b["csrf_token"]
    assert _post(client, f"/review/clip/{aid}/save", choice).status_code == 303  # type: ignore[attr-defined]
    [saved] = corpus.corrections(source="review")
    assert saved.record is not None and saved.record.summary == "B: en ny sammanfattning."
    # The review row diffs B's save against the model output and keeps A's row to undo to.
    assert ReviewStore(corpus).undo() is not None
    assert corpus.corrections(source="review")[0].human_said == "A: ägarens nya berättelse."


def test_accept_from_a_stale_tab_does_not_overwrite_an_edit(
    client: TestClient, corpus: Corpus, video: tuple[LocalStorage, VideoAsset]
) -> None:
    aid = add_analysis(corpus, video[1], MODEL, record=RECORD)
    stale_page = client.get(f"/review/clip/{aid}").text
    tab_a = _form(client.get(f"/review/clip/{aid}").text)
    tab_a["narrative"] = "A: ägarens ord."
    assert _post(client, f"/review/clip/{aid}/save", tab_a).status_code == 303  # type: ignore[attr-defined]
    data = _hidden(stale_page, "accept-form")
    response = _post(client, f"/review/clip/{aid}/accept", data)
    assert response.status_code == 409  # type: ignore[attr-defined]
    assert corpus.corrections(source="review")[0].human_said == "A: ägarens ord."


def test_same_content_from_two_tabs_is_not_a_conflict(corpus: Corpus, video: tuple[LocalStorage, VideoAsset]) -> None:
    aid = add_analysis(corpus, video[1], MODEL, record=RECORD)
    store = ReviewStore(corpus)
    opened = store.clip(aid)
    assert opened is not None
    record = HumorRecord.from_mapping(RECORD)
    store.save(aid, narrative="Samma.", record=record, revision=opened.revision)
    assert store.save(aid, narrative="Samma.", record=record, revision=opened.revision).outcome == "unchanged"
    with pytest.raises(StaleReviewError) as excinfo:
        store.save(aid, narrative="Annat.", record=record, revision=opened.revision)
    assert excinfo.value.saved is not None and excinfo.value.revision == store.revision(opened.analysis)
