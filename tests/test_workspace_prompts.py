"""PromptStore: the prompts table (migration v3) keyed by version."""

from __future__ import annotations

import pytest

from humortune.errors import CorpusError
from humortune.prompts import DEFAULT_PROMPT, Prompt
from humortune.settings import Settings
from humortune.workspace import Corpus
from humortune.workspace.stores import PromptStore, StoredPrompt


def _stored(prompt: Prompt) -> StoredPrompt:
    return StoredPrompt(version=prompt.version, text=prompt.text, system_instruction=prompt.system_instruction)


def test_put_once_and_read_back_the_exact_text(corpus: Corpus) -> None:
    store = PromptStore(corpus.db)
    custom = Prompt("Berätta om klippet.", system_instruction="Svara på svenska.")
    assert store.put(_stored(custom)) is True
    assert store.put(_stored(custom)) is False
    got = store.get(custom.version)
    assert got is not None
    assert Prompt(got.text, got.system_instruction) == custom
    assert Prompt(got.text, got.system_instruction).version == custom.version
    assert store.get(DEFAULT_PROMPT.version) is None


def test_a_version_is_never_reused_for_another_text(corpus: Corpus) -> None:
    store = PromptStore(corpus.db)
    store.put(_stored(DEFAULT_PROMPT))
    with pytest.raises(CorpusError, match="recorded with a different text") as info:
        store.put(StoredPrompt(version=DEFAULT_PROMPT.version, text="something else"))
    assert info.value.item == DEFAULT_PROMPT.version
    got = store.get(DEFAULT_PROMPT.version)
    assert got is not None and got.text == DEFAULT_PROMPT.text  # the recorded text is untouched


def test_all_lists_in_recording_order(corpus: Corpus) -> None:
    store = PromptStore(corpus.db)
    first, second = Prompt("Ett."), Prompt("Två.")
    store.put(_stored(first))
    store.put(_stored(second))
    assert [p.version for p in store.all()] == [first.version, second.version]


def test_prompts_survive_reopening_the_workspace(corpus: Corpus, settings: Settings) -> None:
    PromptStore(corpus.db).put(_stored(Prompt("Kvar.")))
    corpus.close()
    with Corpus.open(settings=settings) as again:
        assert PromptStore(again.db).get(Prompt("Kvar.").version) is not None
