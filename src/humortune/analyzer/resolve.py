"""Which model an `Analyzer` calls, and with which prompt and media resolution.

A model can be named five ways; `resolve_model` turns each into a `ResolvedModel`:

| given | looked up in | called as |
|---|---|---|
| an alias (``"current"``, ``"niche:restaurant"``) | ``aliases`` → ``models`` | the model's endpoint |
| a registered model id, endpoint or short id (``1629…@1``) | ``models`` | the model's endpoint |
| a `TunedModel` | itself | its endpoint |
| an unregistered ``projects/…/endpoints/…`` name | — | as given |
| a base model (``gemini-3.5-flash``) | ``models`` if registered | as given |

Before anything is promoted, ``current`` means the newest tuned model and `ResolvedModel.note` says so
(`humortune.workspace.stores.model_match.match_model` is the one lookup behind every command that names a model).

Registered models carry the prompt version and media resolution they were tuned with (directly, or through
their dataset version), and inference must use exactly those: `prompt_for_version` reads the prompt text of
a version from the ``prompts`` table (workspaces built before it are searched once and backfilled).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, Literal

from humortune.errors import AnalysisError, ModelNotFoundError
from humortune.prompts import DEFAULT_PROMPT, Prompt
from humortune.schema import TunedModel
from humortune.workspace.db import Database
from humortune.workspace.stores import Stores
from humortune.workspace.stores.datasets import DatasetRecord
from humortune.workspace.stores.model_match import match_model
from humortune.workspace.stores.prompts import StoredPrompt

__all__ = ["ResolvedModel", "endpoint_location", "prompt_for_version", "resolve_model"]

_BASE_MODEL = re.compile(r"^(?:publishers/google/models/)?(gemini-[A-Za-z0-9.\-]+)$")
_LOCATION = re.compile(r"^projects/[^/]+/locations/([^/]+)/(?:endpoints|models)/[^/]+$")


@dataclass(frozen=True, slots=True)
class ResolvedModel:
    """A model name resolved to what is called and what it was tuned with."""

    requested: str
    """What the caller passed (alias, id, endpoint or base model name)."""
    call_name: str
    """The ``model`` sent to generate_content: an endpoint resource name or a base model name."""
    model_id: str
    """The id analyses are recorded under: the registry id when known, else ``call_name``."""
    kind: Literal["tuned", "base"]
    base_model: str | None = None
    prompt_version: str | None = None
    """The prompt version the model was tuned with (``None``: unknown, the default prompt is used)."""
    media_resolution: str | None = None
    """The media resolution it was tuned with (``None``: unknown, the settings' value is used)."""
    target_format: str | None = None
    """``narrative`` or ``narrative+record`` when the dataset version is known."""
    alias: str | None = None
    dataset_id: str | None = None
    note: str | None = None
    """Said out loud by callers: ``current`` fell back to the newest tuned model."""

    @property
    def location(self) -> str | None:
        """The region in the endpoint's resource name, if it has one."""
        return endpoint_location(self.call_name)


def endpoint_location(name: str) -> str | None:
    """``us-central1`` from ``projects/p/locations/us-central1/endpoints/123``; ``None`` for other names."""
    match = _LOCATION.match(name)
    return match.group(1) if match else None


def resolve_model(model: str | TunedModel, *, db: Database | None = None) -> ResolvedModel:
    """Resolve an alias, registry id, endpoint, `TunedModel` or base model name.

    Raises `ModelNotFoundError` for a name that is none of these (an alias that was never promoted, a typo).
    """
    if isinstance(model, TunedModel):
        return _from_tuned(model, requested=model.endpoint or model.id, alias=None, db=db)
    name = model.strip()
    if not name:
        raise ModelNotFoundError("no model given", hint="pass an alias such as 'current' or a model name")
    if db is not None:
        found = match_model(db, name)
        if found is not None:
            resolved = _from_tuned(found.model, requested=name, alias=found.alias, db=db)
            return replace(resolved, note=found.note) if found.note else resolved
    if name.startswith("projects/"):
        if _LOCATION.match(name.split("@", 1)[0]) is None:
            raise ModelNotFoundError(
                f"{name!r} is not a model or endpoint resource name",
                hint="expected projects/<p>/locations/<region>/endpoints/<id> (or …/models/<id>)",
                item=name,
            )
        return ResolvedModel(requested=name, call_name=name, model_id=name, kind="tuned")
    base = _BASE_MODEL.match(name)
    if base is not None:
        return ResolvedModel(
            requested=name, call_name=base.group(1), model_id=base.group(1), kind="base", base_model=base.group(1)
        )
    hint = "pass a base model name (e.g. gemini-3.5-flash), an endpoint resource name, or a promoted alias"
    if name == "current":
        hint = "no model has been promoted yet: promote one (humortune promote) or pass a base model name"
    raise ModelNotFoundError(f"no alias or model named {name!r} in the registry", hint=hint, item=name)


def _from_tuned(model: TunedModel, *, requested: str, alias: str | None, db: Database | None) -> ResolvedModel:
    dataset = _dataset_row(db, model.dataset_id)
    prompt_version = model.prompt_version or (dataset.prompt_version if dataset else None)
    media_resolution = model.media_resolution or (dataset.media_resolution if dataset else None)
    is_base = _BASE_MODEL.match(model.id) is not None and model.endpoint is None
    return ResolvedModel(
        requested=requested,
        call_name=model.endpoint or model.id,
        model_id=model.id,
        kind="base" if is_base else "tuned",
        base_model=model.base_model,
        prompt_version=prompt_version,
        media_resolution=media_resolution,
        target_format=dataset.target_format if dataset else None,
        alias=alias,
        dataset_id=model.dataset_id,
    )


def _dataset_row(db: Database | None, dataset_id: str | None) -> DatasetRecord | None:
    if db is None or dataset_id is None:
        return None
    return Stores.of(db).datasets.get(dataset_id)


def prompt_for_version(version: str | None, *, db: Database | None = None) -> Prompt:
    """The prompt whose version is ``version`` (the default prompt when ``version`` is ``None``).

    Looks at the default prompt, then at the ``prompts`` table the dataset builder fills. A workspace built
    before that table existed is searched once (the settings and manifests recorded with dataset versions of
    that prompt version) and the text found is recorded there. Raises `AnalysisError` when the text cannot be
    found: guessing would break the rule that inference uses exactly the training prompt.
    """
    if version is None or version == DEFAULT_PROMPT.version:
        return DEFAULT_PROMPT
    if db is not None:
        stores = Stores.of(db)
        stored = stores.prompts.get(version)
        if stored is not None:
            return Prompt(stored.text, stored.system_instruction)
        found = _legacy_prompt(stores, version)
        if found is not None:
            stores.prompts.put(
                StoredPrompt(version=version, text=found.text, system_instruction=found.system_instruction)
            )
            return found
    raise AnalysisError(
        f"the model was tuned with prompt version {version}, whose text is not recorded in this workspace",
        hint="pass the training prompt explicitly: Analyzer(model, prompt=Prompt(text, system_instruction))",
        item=version,
    )


def _legacy_prompt(stores: Stores, version: str) -> Prompt | None:
    """The prompt text kept only in the blobs of dataset versions built before the ``prompts`` table."""
    for record in stores.datasets.with_prompt_version(version):
        for blob in (record.settings, record.manifest):
            found = _find_prompt(blob, version)
            if found is not None:
                return found
    return None


def _find_prompt(value: Any, version: str) -> Prompt | None:
    """Search a JSON value for a prompt (a string, or a {text, system_instruction} object) of ``version``."""
    if isinstance(value, str):
        return Prompt(value) if Prompt(value).version == version else None
    if isinstance(value, dict):
        system = value.get("system_instruction") or value.get("system")
        for key in ("text", "prompt_text", "prompt"):
            text = value.get(key)
            if isinstance(text, str):
                candidate = Prompt(text, system if isinstance(system, str) else None)
                if candidate.version == version:
                    return candidate
        children: Any = value.values()
    elif isinstance(value, list):
        children = value
    else:
        return None
    for child in children:
        found = _find_prompt(child, version)
        if found is not None:
            return found
    return None
