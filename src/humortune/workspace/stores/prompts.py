"""The ``prompts`` table: every training prompt by version, so inference uses exactly the text a model learnt."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from humortune.errors import CorpusError
from humortune.workspace.stores._base import Store, now_text, parse_time

__all__ = ["PromptStore", "StoredPrompt"]


class StoredPrompt(BaseModel):
    """A prompt as recorded: its version (`humortune.prompts.Prompt.version`) and its exact text."""

    model_config = ConfigDict(frozen=True)

    version: str
    text: str
    system_instruction: str | None = None
    created_at: datetime | None = None


class PromptStore(Store):
    """Record prompts once, by version; read them back for inference."""

    def put(self, prompt: StoredPrompt) -> bool:
        """Record a prompt unless its version is there; whether it was added.

        A version already recorded with a different text is refused: versions are content hashes, so that
        means the caller computed the version wrongly, and serving a model the wrong prompt must not happen.
        """
        with self.db.transaction():
            known = self.get(prompt.version)
            if known is not None:
                if (known.text, known.system_instruction) != (prompt.text, prompt.system_instruction):
                    raise CorpusError(
                        f"prompt version {prompt.version} is recorded with a different text",
                        hint="derive the version from the text (Prompt(text, system).version); never reuse one",
                        item=prompt.version,
                    )
                return False
            self.db.execute(
                "INSERT INTO prompts (version, text, system_instruction, created_at) VALUES (?, ?, ?, ?)",
                (prompt.version, prompt.text, prompt.system_instruction, now_text()),
            )
            return True

    def get(self, version: str) -> StoredPrompt | None:
        """The prompt recorded under ``version``."""
        row = self.db.query_one("SELECT * FROM prompts WHERE version = ?", (version,))
        return _prompt(row) if row is not None else None

    def all(self) -> list[StoredPrompt]:
        """Every recorded prompt, oldest first."""
        return [_prompt(r) for r in self.db.query("SELECT * FROM prompts ORDER BY created_at, version")]


def _prompt(row: Any) -> StoredPrompt:
    return StoredPrompt(
        version=row["version"],
        text=row["text"],
        system_instruction=row["system_instruction"],
        created_at=parse_time(row["created_at"]),
    )
