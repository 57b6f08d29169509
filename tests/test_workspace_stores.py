"""The store layer as a whole: one bundle per database, and nothing engine-specific in its public methods."""

from __future__ import annotations

import inspect
import re
import typing
from dataclasses import fields

import pytest

from humortune.workspace import Corpus, Stores
from humortune.workspace.stores import _base
from tests._workspace_support import tuned

from .conftest import REPO

_STORES = [f.name for f in fields(Stores) if f.name != "db"]


def _public_methods(store: object) -> list[typing.Callable[..., typing.Any]]:
    return [member for name, member in inspect.getmembers(type(store), inspect.isfunction) if not name.startswith("_")]


def test_every_store_shares_the_corpus_database(corpus: Corpus) -> None:
    stores = Stores.of(corpus.db)
    assert len(_STORES) == 13
    for name in _STORES:
        store = getattr(stores, name)
        assert isinstance(store, _base.Store) and store.db is corpus.db


@pytest.mark.parametrize("name", _STORES)
def test_public_methods_are_typed_and_leak_no_sqlite_types(corpus: Corpus, name: str) -> None:
    store = getattr(Stores.of(corpus.db), name)
    methods = _public_methods(store)
    assert methods, f"{name} has no public methods"
    for method in methods:
        hints = typing.get_type_hints(method)
        assert "return" in hints, f"{name}.{method.__name__} has no return annotation"
        for hint in hints.values():
            assert "sqlite3" not in repr(hint), f"{name}.{method.__name__} exposes {hint!r}"


def test_a_store_call_joins_the_callers_transaction(corpus: Corpus) -> None:
    stores = Stores.of(corpus.db)
    with pytest.raises(RuntimeError), corpus.db.transaction():
        stores.models.ensure("gemini-2.5-flash", base_model="gemini-2.5-flash")
        stores.aliases.move("current", "gemini-2.5-flash")
        raise RuntimeError("the caller fails after both writes")
    assert stores.aliases.target("current") is None and not stores.models.exists("gemini-2.5-flash")


def test_the_corpus_page_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    with Corpus.open() as corpus:  # the default workspace the page's example opens
        stores = Stores.of(corpus.db)
        stores.models.register(tuned(1))
        stores.aliases.move("current", tuned(1).id)
        stores.aliases.record("promote", name="current", model_id=tuned(1).id, previous_id=None, evidence={"g": 1})
    page = (REPO / "docs" / "corpus.md").read_text("utf-8")
    code = re.findall(r"```python\n(.*?)```", page.split("## Typed stores", 1)[1], re.DOTALL)[0]
    exec(compile(code, "docs/corpus.md", "exec"), {})
    assert capsys.readouterr().out == f"promote {tuned(1).id} {{'g': 1}}\n"
