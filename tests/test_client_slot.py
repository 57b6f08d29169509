"""ClientSlot: a client is built on first use and closed only by the slot that built it."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from humortune._client_slot import ClientSlot
from humortune.settings import Settings


class _Client:
    def __init__(self) -> None:
        self.closed = 0

    def close(self) -> None:
        self.closed += 1


def _factory(built: list[_Client]) -> Any:
    def build() -> Any:
        built.append(_Client())
        return built[-1]

    return build


def test_builds_once_on_first_use_and_closes_what_it_built() -> None:
    built: list[_Client] = []
    slot = ClientSlot(None, _factory(built))
    assert slot.peek() is None and built == []
    assert slot.get() is slot.get() and len(built) == 1
    slot.close()
    slot.close()
    assert built[0].closed == 1 and slot.peek() is None
    assert slot.get() is not built[0]  # a later use builds a fresh client


def test_a_given_client_is_borrowed_and_never_closed() -> None:
    given = _Client()
    slot = ClientSlot(given, _factory([]))  # type: ignore[arg-type]
    assert not slot.owned and slot.get() is given
    slot.close()
    assert given.closed == 0 and slot.get() is given


def test_borrowed_factory_is_lazy_and_not_closed() -> None:
    built: list[_Client] = []
    slot = ClientSlot.borrowed(_factory(built))
    assert built == []
    client = slot.get()
    slot.close()
    assert client.closed == 0 and not slot.owned  # type: ignore[attr-defined]


def test_concurrent_first_use_builds_one_client() -> None:
    built: list[_Client] = []
    gate = threading.Barrier(8)

    def build() -> Any:
        built.append(_Client())
        return built[-1]

    slot = ClientSlot(None, build)

    def use() -> None:
        gate.wait()
        slot.get()

    threads = [threading.Thread(target=use) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(built) == 1


def test_for_settings_uses_the_composition_root(tmp_path: Path) -> None:
    slot = ClientSlot.for_settings(None, Settings(workspace=tmp_path / "ws", offline=True))
    client = slot.get()
    assert client.offline and client.fake is not None
    slot.close()


def test_for_settings_without_offline_needs_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from humortune.errors import CredentialsError

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    with pytest.raises(CredentialsError):
        ClientSlot.for_settings(None, Settings(workspace=tmp_path / "ws", project="p")).get()
