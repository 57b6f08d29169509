"""Preflight checks before a real run: `humortune doctor`, and the first thing `prepare` and `tune` do.

Each check gives one typed `Check` (``ok``, ``warn``, ``fail`` or ``skip``) with one line saying what was found
and, when something is wrong, the fix. In order: settings parse; credentials and project; the Vertex AI API
answers in the region (reading the base model, a cheap call); the base model exists, is tunable with video
there and is not retiring (`humortune.catalog`); the bucket exists, suits the region and the caller can write
to it; the Vertex AI Service Agent can read it and write batch output; a custom service account has its roles;
yt-dlp reaches TikTok (only with ``network=True``); disk space; the workspace opens.

In offline mode (``settings.offline``, the bundled FakeGemini) only the checks that need no network run, so
`Doctor.run` stays well under two seconds. Nothing here waits on the GCE metadata server: credentials are
found on disk first (`humortune.credentials`), and every remote call has a short timeout and no retries.
No rich here: the CLI renders the report (`humortune.cli.doctor`).
"""

from __future__ import annotations

import contextlib
import datetime
import os
import shutil
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from humortune.errors import HumortuneError, PreflightError

if TYPE_CHECKING:
    from humortune.gemini import GeminiClient
    from humortune.iam import IamApi
    from humortune.settings import Settings
    from humortune.storage.gcs import GCSStorage

__all__ = [
    "CHECKS",
    "PREPARE_CHECKS",
    "TUNE_CHECKS",
    "Check",
    "Doctor",
    "DoctorReport",
    "location_suits",
    "preflight",
]

Status = Literal["ok", "warn", "fail", "skip"]

CHECKS = (
    "settings",
    "credentials",
    "vertex-api",
    "base-model",
    "bucket",
    "service-agent",
    "service-account",
    "tiktok",
    "disk",
    "workspace",
)
"""Every check, in the order they run."""
TUNE_CHECKS = tuple(c for c in CHECKS if c != "tiktok")
"""What `humortune tune` needs (the exit code of `humortune doctor` reflects these)."""
PREPARE_CHECKS = ("settings", "credentials", "bucket", "disk", "workspace")
"""What `humortune prepare` needs: storage, not Vertex (credentials only matter for gs:// storage)."""

_MULTI_REGIONS = {"us": ("us-",), "eu": ("europe-",), "asia": ("asia-",)}
_DUAL_REGIONS = {
    "nam4": ("us-central1", "us-east1"),
    "eur4": ("europe-west1", "europe-west4"),
    "eur5": ("europe-west1", "europe-west2"),
    "eur7": ("europe-west2", "europe-west3"),
    "eur8": ("europe-west3", "europe-west6"),
    "asia1": ("asia-northeast1", "asia-northeast2"),
}
_MIN_FREE_GB = 2.0  # a battery of 100 MB clips plus the dataset; less fails mid-ingest
_LOW_FREE_GB = 10.0


@dataclass(frozen=True, slots=True)
class Check:
    """One check's outcome: one line of what was found, and the fix when it is not ``ok``."""

    name: str
    status: Status
    message: str
    fix: str | None = None
    blocking: bool = True
    """Whether a ``fail`` here stops `tune` (the TikTok check only informs)."""

    @property
    def failed(self) -> bool:
        """A failure that stops tuning."""
        return self.status == "fail" and self.blocking

    def line(self) -> str:
        """``name: message — fix`` (the fix only when something is wrong)."""
        fix = f" — {self.fix}" if self.fix and self.status in ("fail", "warn") else ""
        return f"{self.name}: {self.message}{fix}"


@dataclass
class DoctorReport:
    """Every check that ran, in order."""

    checks: list[Check]
    offline: bool
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether everything `tune` needs passed (warnings and skips do not count against it)."""
        return not any(c.failed for c in self.checks)

    @property
    def first_failure(self) -> Check | None:
        """The first blocking failure, if any."""
        return next((c for c in self.checks if c.failed), None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"ok", "offline", "seconds", "checks": [{name, status, message, fix, blocking}]}``."""
        return {
            "ok": self.ok,
            "offline": self.offline,
            "seconds": round(self.seconds, 3),
            "checks": [asdict(c) for c in self.checks],
        }


@dataclass
class _Found:
    """What earlier checks learned, for the later ones."""

    settings: Settings | None = None
    project: str | None = None
    credentials_ok: bool = False
    client: GeminiClient | None = None
    model_missing: str | None = None
    gcs: GCSStorage | None = None
    bucket: dict[str, Any] = field(default_factory=dict)
    project_number: str | None = None


class Doctor:
    """Run the preflight checks.

    ``settings`` may be a loader, so a settings error is reported as the first check instead of raised.
    ``client`` (a `GeminiClient`), ``storage_client`` (a ``google.cloud.storage.Client``), ``iam`` (an
    `humortune.iam.IamApi`) and ``reach`` (TikTok probe) replace the real backends (tests, fakes).
    ``purpose="prepare"`` accepts local storage (prepare works locally; Vertex needs gs:// only for tuning).
    """

    def __init__(
        self,
        settings: Settings | Callable[[], Settings],
        *,
        network: bool = False,
        purpose: Literal["tune", "prepare"] = "tune",
        client: GeminiClient | None = None,
        storage_client: Any | None = None,
        iam: IamApi | None = None,
        reach: Callable[[Settings], None] | None = None,
        today: datetime.date | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        self._load = settings if callable(settings) else (lambda: settings)
        self.network = network
        self.purpose = purpose
        self._client = client
        self._storage_client = storage_client
        self._iam = iam
        self._reach = reach
        self.today = today
        self.timeout_s = timeout_s

    def run(self, only: Collection[str] | None = None, *, stop_at_first_failure: bool = False) -> DoctorReport:
        """Run ``only`` these checks (default: all), in order; stop early on a blocking failure if asked."""
        clock = time.monotonic()
        found = _Found()
        checks: list[Check] = []
        for check in self._checks(found, only):
            checks.append(check)
            if stop_at_first_failure and check.failed:
                break
        offline = bool(found.settings and found.settings.offline)
        if found.client is not None and self._client is None:
            found.client.close()
        return DoctorReport(checks, offline=offline, seconds=time.monotonic() - clock)

    def _checks(self, found: _Found, only: Collection[str] | None) -> Iterator[Check]:
        steps: dict[str, Callable[[_Found], Check]] = {
            "settings": self._settings,
            "credentials": self._credentials,
            "vertex-api": self._vertex_api,
            "base-model": self._base_model,
            "bucket": self._bucket,
            "service-agent": self._service_agent,
            "service-account": self._service_account,
            "tiktok": self._tiktok,
            "disk": self._disk,
            "workspace": self._workspace,
        }
        for name in CHECKS:
            if only is not None and name not in only and name != "settings":
                continue
            if name != "settings" and found.settings is None:
                yield Check(name, "skip", "needs valid settings")
                continue
            try:
                yield steps[name](found)
            except HumortuneError as exc:  # an unexpected refusal is still one line with its fix
                yield Check(name, "fail", exc.message, exc.hint)
            except OSError as exc:  # e.g. the workspace path is a file
                what = f"{exc.strerror or type(exc).__name__}: {exc.filename or ''}".strip(": ")
                yield Check(name, "fail", what, "check the path and its permissions (HUMORTUNE_WORKSPACE)")

    # -- the checks, in order ---------------------------------------------------------------------

    def _settings(self, found: _Found) -> Check:
        from pydantic import ValidationError

        try:
            settings = self._load()
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ())) or "settings"
            return Check(
                "settings", "fail", f"{where}: {first.get('msg')}", "fix humortune.toml or the HUMORTUNE_* variables"
            )
        except (HumortuneError, ValueError, OSError) as exc:
            hint = getattr(exc, "hint", None) or "fix humortune.toml or the HUMORTUNE_* variables"
            return Check("settings", "fail", str(getattr(exc, "message", exc)), hint)
        found.settings = settings
        mode = "offline (FakeGemini)" if settings.offline else f"project {settings.project or '(from credentials)'}"
        return Check("settings", "ok", f"{mode}, region {settings.location}, storage {settings.storage_uri}")

    def _credentials(self, found: _Found) -> Check:
        from humortune.credentials import find_credentials, project_of, require_credentials

        settings = _need(found)
        if settings.offline:
            found.credentials_ok = True
            return Check("credentials", "skip", "offline: the bundled FakeGemini needs no credentials")
        if self.purpose == "prepare" and not settings.storage_uri.startswith("gs://"):
            return Check("credentials", "skip", "local storage: prepare needs no Google credentials")
        if self.purpose == "prepare" and os.environ.get("STORAGE_EMULATOR_HOST"):
            found.credentials_ok = True  # google-cloud-storage talks to the emulator anonymously
            return Check("credentials", "skip", "STORAGE_EMULATOR_HOST is set: the storage emulator needs none")
        if self._client is not None:
            found.client, found.project = self._client, self._client.project
        else:
            source = require_credentials(settings.credentials_file)
            found.project = settings.project or project_of(source)
            if not found.project:
                return Check(
                    "credentials",
                    "fail",
                    f"found {source.describe()}, but no Google Cloud project",
                    "set HUMORTUNE_PROJECT (or project = … in humortune.toml)",
                )
        found.credentials_ok = True
        where = (
            "injected client" if self._client is not None else _describe(find_credentials(settings.credentials_file))
        )
        return Check("credentials", "ok", f"{where}, project {found.project}")

    def _vertex_api(self, found: _Found) -> Check:
        from humortune.errors import ModelNotFoundError

        settings = _need(found)
        if settings.offline:
            return Check("vertex-api", "skip", "offline: not contacting Vertex AI")
        if not found.credentials_ok:
            return Check("vertex-api", "skip", "needs credentials")
        client = self._gemini(found)
        try:
            client.get_base_model(settings.base_model)
        except ModelNotFoundError as exc:  # the API answered: it is the model that is missing
            found.model_missing = exc.message
        return Check("vertex-api", "ok", f"Vertex AI answers in {client.location} (project {client.project})")

    def _base_model(self, found: _Found) -> Check:
        import humortune.catalog as catalog

        settings = _need(found)
        entry = catalog.check_tunable(settings.base_model, region=settings.location, today=self.today)
        if found.model_missing:
            return Check(
                "base-model",
                "fail",
                f"Vertex AI does not serve {entry.id} in {settings.location}: {found.model_missing}",
                f"choose a current model (`humortune models catalog`), e.g. --base-model "
                f"{catalog.default_base_model(settings.location, today=self.today).id}",
            )
        state = catalog.lifecycle(entry.id, today=self.today, within_days=60)
        status: Status = "warn" if state.state == "retiring" else "ok"
        fix = f"plan the move: --base-model {state.successor}" if state.successor else None
        return Check("base-model", status, f"{state.message()}; tunable with video in {settings.location}", fix)

    def _bucket(self, found: _Found) -> Check:
        settings = _need(found)
        uri = settings.storage_uri
        if not uri.startswith("gs://"):
            return self._local_storage(settings)
        if settings.offline:
            return Check("bucket", "skip", f"offline: not contacting Cloud Storage ({uri})")
        if not found.credentials_ok:
            return Check("bucket", "skip", "needs credentials")
        from humortune.storage.gcs import GCSStorage

        gcs = GCSStorage.from_uri(uri, client=self._storage_client, settings=settings)
        gcs.attempts, gcs.timeout_s = 1, self.timeout_s
        facts = gcs.bucket_facts()
        found.gcs, found.bucket = gcs, facts
        name = f"gs://{gcs.bucket_name}"
        if "storage.objects.create" not in facts["permissions"]:
            return Check(
                "bucket",
                "fail",
                f"{name} exists, but you cannot write to it",
                f"grant your account roles/storage.objectAdmin on {name}",
            )
        where = f"{facts['location'] or '?'} ({facts['location_type'] or 'unknown type'})"
        if not location_suits(facts["location"], settings.location):
            return Check(
                "bucket",
                "warn",
                f"{name} is in {where}, the jobs run in {settings.location}: cross-region reads are slower and "
                "billed as egress",
                f"use a bucket in {settings.location} (gcloud storage buckets create gs://NAME "
                f"--location={settings.location})",
            )
        return Check("bucket", "ok", f"{name} in {where}, writable by you")

    def _local_storage(self, settings: Settings) -> Check:
        from humortune.storage import LocalStorage

        path = LocalStorage(settings.storage_uri).root
        _probe_write(path)
        if self.purpose == "tune" and not settings.offline:
            return Check(
                "bucket",
                "fail",
                f"storage is local ({path}); Vertex AI reads datasets and videos from Cloud Storage only",
                "set HUMORTUNE_STORAGE=gs://BUCKET/humortune, then `humortune prepare` again",
            )
        return Check("bucket", "ok", f"local storage {path} is writable")

    def _service_agent(self, found: _Found) -> Check:
        import humortune.iam as iam
        from humortune.errors import StorageError

        settings = _need(found)
        if settings.offline or found.gcs is None:
            why = "offline" if settings.offline else "needs a reachable gs:// bucket"
            return Check("service-agent", "skip", why)
        number = self._project_number(found)
        if number is None:
            return Check("service-agent", "skip", "cannot tell the project number, so not the service agent")
        agent = iam.vertex_service_agent(number)
        try:
            roles = iam.roles_of(found.gcs.iam_bindings(), agent)
        except StorageError as exc:
            return Check(
                "service-agent", "skip", f"cannot read the bucket's IAM policy ({exc.message})", _grant(found, agent)
            )
        same = found.bucket.get("project_number") == number
        project_roles = self._project_roles(found, agent)
        held = roles | (project_roles or set())
        read = iam.grants_read(held, same_project_agent=same)
        write = iam.grants_write(held, same_project_agent=same)
        if read and write:
            return Check("service-agent", "ok", f"{agent} can read the bucket and write batch output")
        if not read:
            status: Status = "warn" if project_roles is None else "fail"
            unsure = " (the project policy could not be read)" if project_roles is None else ""
            return Check("service-agent", status, f"{agent} cannot read the bucket{unsure}", _grant(found, agent))
        return Check(
            "service-agent",
            "warn",
            f"{agent} can read the bucket but not write the batch output prefix (analysis/batches/)",
            _grant(found, agent, role="roles/storage.objectCreator"),
        )

    def _service_account(self, found: _Found) -> Check:

        settings = _need(found)
        account = settings.service_account
        if not account:
            return Check("service-account", "skip", "none configured: jobs run as the Vertex AI Service Agent")
        if settings.offline or not found.credentials_ok:
            return Check("service-account", "skip", "offline" if settings.offline else "needs credentials")
        number = self._project_number(found)
        api = self._iam_api(found)
        if number is None or api is None or not found.project:
            return Check("service-account", "skip", f"cannot check the roles of {account}", _sa_fix(account, number))
        missing, unknown = _service_account_gaps(api, found.project, account, number)
        if missing:
            return Check("service-account", "fail", f"{account} lacks: {'; '.join(missing)}", _sa_fix(account, number))
        if unknown:
            return Check("service-account", "skip", f"could not read: {'; '.join(unknown)}", _sa_fix(account, number))
        return Check("service-account", "ok", f"{account} has the tuning roles, and you may act as it")

    def _tiktok(self, found: _Found) -> Check:
        settings = _need(found)
        if not self.network:
            return Check("tiktok", "skip", "pass --network to check that yt-dlp reaches TikTok", blocking=False)
        reach = self._reach
        if reach is None:
            from humortune.sources.ytdlp import check_reachable

            reach = check_reachable
        try:
            reach(settings)
        except HumortuneError as exc:
            return Check("tiktok", "fail", f"yt-dlp cannot reach TikTok: {exc.message}", exc.hint, blocking=False)
        return Check("tiktok", "ok", "yt-dlp reaches https://www.tiktok.com/", blocking=False)

    def _disk(self, found: _Found) -> Check:
        settings = _need(found)
        where = _existing(settings.workspace.resolve())
        free = shutil.disk_usage(where).free / 2**30
        if free < _MIN_FREE_GB:
            return Check(
                "disk", "fail", f"{free:.1f} GB free at {where}", f"free at least {_MIN_FREE_GB:.0f} GB for ingest"
            )
        if free < _LOW_FREE_GB:
            return Check("disk", "warn", f"only {free:.1f} GB free at {where}", "large batteries need more room")
        return Check("disk", "ok", f"{free:.0f} GB free at {where}")

    def _workspace(self, found: _Found) -> Check:
        from humortune.workspace import Corpus

        settings = _need(found)
        if settings.workspace.exists() and not settings.workspace.is_dir():  # on PostgreSQL the database still opens
            hint = "point --workspace (HUMORTUNE_WORKSPACE) at a folder: local storage, reports and downloads go there"
            return Check("workspace", "fail", f"{settings.workspace} is not a folder", hint)
        with Corpus.open(settings=settings) as corpus:
            total = corpus.status()["corrections"]
        return Check("workspace", "ok", f"{settings.workspace} opens ({total} corrections)")

    # -- helpers ------------------------------------------------------------------------------------

    def _gemini(self, found: _Found) -> GeminiClient:
        if found.client is None:
            from humortune.gemini import GeminiClient, RetryPolicy

            settings = _need(found).model_copy(update={"project": found.project})
            found.client = GeminiClient.from_settings(settings, retry=RetryPolicy(attempts=1), timeout_s=self.timeout_s)
        return found.client

    def _iam_api(self, found: _Found) -> IamApi | None:
        if self._iam is None:
            from humortune.credentials import load_credentials
            from humortune.iam import CloudIam

            try:
                credentials, _ = load_credentials(_need(found).credentials_file)
            except HumortuneError:
                return None  # the IAM-based checks say they could not check
            self._iam = CloudIam(credentials, timeout_s=self.timeout_s)
        return self._iam

    def _project_number(self, found: _Found) -> str | None:
        from humortune.iam import PolicyUnreadable

        if found.project_number is None and found.project:
            api = self._iam_api(found)
            with contextlib.suppress(PolicyUnreadable):  # fall back to the bucket's project below
                found.project_number = api.project_number(found.project) if api is not None else None
        if found.project_number is None:
            found.project_number = found.bucket.get("project_number")  # the bucket's project: most often the same
        return found.project_number

    def _project_roles(self, found: _Found, email: str) -> set[str] | None:
        from humortune.iam import PolicyUnreadable, roles_of

        api = self._iam_api(found)
        if api is None or not found.project:
            return None
        try:
            return roles_of(api.project_bindings(found.project), email)
        except PolicyUnreadable:
            return None


def location_suits(bucket_location: str, region: str) -> bool:
    """Whether a bucket in ``bucket_location`` (``US-CENTRAL1``, ``US``, ``NAM4`` …) is local to ``region``."""
    location, region = bucket_location.lower(), region.lower()
    if location == region:
        return True
    if location in _MULTI_REGIONS:
        return region.startswith(_MULTI_REGIONS[location])
    return region in _DUAL_REGIONS.get(location, ())


def preflight(
    settings: Settings,
    checks: Collection[str],
    *,
    purpose: Literal["tune", "prepare"] = "tune",
    client: GeminiClient | None = None,
) -> DoctorReport:
    """Run ``checks`` and raise `PreflightError` (one line, with the fix) at the first blocking failure."""
    report = Doctor(settings, purpose=purpose, client=client).run(checks, stop_at_first_failure=True)
    failure = report.first_failure
    if failure is not None:
        raise PreflightError(
            f"preflight {failure.name}: {failure.message}",
            hint=(failure.fix or "") + ("; " if failure.fix else "") + "details: humortune doctor",
        )
    return report


def _need(found: _Found) -> Settings:
    assert found.settings is not None  # _checks skips every check after a settings failure
    return found.settings


def _describe(source: Any) -> str:
    return source.describe() if source is not None else "credentials"


def _existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _probe_write(folder: Path) -> None:
    from humortune.errors import StorageError

    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".humortune-doctor"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        raise StorageError(
            f"cannot write to {folder} ({exc.strerror or type(exc).__name__})",
            hint="fix the folder's permissions or point HUMORTUNE_STORAGE elsewhere",
            item=str(folder),
        ) from None


def _grant(found: _Found, agent: str, role: str = "roles/storage.objectViewer") -> str:
    bucket = found.gcs.bucket_name if found.gcs is not None else "BUCKET"
    extra = "" if role != "roles/storage.objectViewer" else " (and roles/storage.objectCreator for batch output)"
    return (
        f"gcloud storage buckets add-iam-policy-binding gs://{bucket} --member=serviceAccount:{agent} "
        f"--role={role}{extra}"
    )


def _sa_fix(account: str, number: str | None) -> str:
    from humortune.iam import TOKEN_CREATOR_ROLE, TUNING_AGENT_ROLE, tuning_service_agent

    agent = tuning_service_agent(number or "PROJECT_NUMBER")
    return (
        f"grant {account} {TUNING_AGENT_ROLE} on the project; grant {agent} {TOKEN_CREATOR_ROLE} on {account}; "
        f"you need iam.serviceAccounts.actAs on {account} (roles/iam.serviceAccountUser)"
    )


def _service_account_gaps(api: IamApi, project: str, account: str, number: str) -> tuple[list[str], list[str]]:
    """What the custom service account (and the caller) lack, and what could not be read."""
    from humortune.iam import TOKEN_CREATOR_ROLE, TUNING_AGENT_ROLE, PolicyUnreadable, roles_of, tuning_service_agent

    missing: list[str] = []
    unknown: list[str] = []
    agent = tuning_service_agent(number)
    probes: list[tuple[str, Callable[[], bool]]] = [
        (
            f"{TUNING_AGENT_ROLE} on the project",
            lambda: TUNING_AGENT_ROLE in roles_of(api.project_bindings(project), account),
        ),
        (
            f"{TOKEN_CREATOR_ROLE} for {agent}",
            lambda: TOKEN_CREATOR_ROLE in roles_of(api.service_account_bindings(account), agent),
        ),
        ("iam.serviceAccounts.actAs for you", lambda: api.caller_can_act_as(account)),
    ]
    for what, probe in probes:
        try:
            (missing if not probe() else []).append(what)
        except PolicyUnreadable:
            unknown.append(what)
    return missing, unknown
