"""The preflight checks (`humortune.doctor`) against FakeGemini, the GCS emulator and a fake IAM, one failure
injected at a time."""

from __future__ import annotations

import datetime
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from humortune import catalog
from humortune.doctor import TUNE_CHECKS, Check, Doctor, DoctorReport, location_suits, preflight
from humortune.errors import PreflightError, TransientSourceError
from humortune.gemini import GeminiClient
from humortune.iam import PolicyUnreadable, tuning_service_agent, vertex_service_agent
from humortune.settings import Settings
from humortune.testing.fake_gemini import FakeGemini
from tests._analyzer_support import fake_client
from tests.rigs.gcs_emulator import GCSEmulator

TODAY = datetime.date(2026, 12, 1)
BUCKET = "humortune-doctor"
NUMBER = "1234"  # the emulator's default project number (buckets say so too)
AGENT = vertex_service_agent(NUMBER)
ACCOUNT = "tuner@demo-proj.iam.gserviceaccount.com"


class FakeIam:
    """`humortune.iam.IamApi` with policies set per test; ``None`` means the policy cannot be read."""

    def __init__(self) -> None:
        self.project: list[dict[str, Any]] | None = []
        self.account: list[dict[str, Any]] | None = []
        self.act_as = True

    def project_number(self, project: str) -> str:
        return NUMBER

    def project_bindings(self, project: str) -> list[dict[str, Any]]:
        return _or_unreadable(self.project)

    def service_account_bindings(self, email: str) -> list[dict[str, Any]]:
        return _or_unreadable(self.account)

    def caller_can_act_as(self, email: str) -> bool:
        return self.act_as


def _or_unreadable(bindings: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    if bindings is None:
        raise PolicyUnreadable("403 PERMISSION_DENIED: getIamPolicy")
    return bindings


class Env(NamedTuple):
    settings: Settings
    fake: FakeGemini
    client: GeminiClient
    emulator: GCSEmulator
    iam: FakeIam


@pytest.fixture(scope="module")
def emulator() -> Iterator[GCSEmulator]:
    with GCSEmulator() as emu:
        yield emu


@pytest.fixture
def env(tmp_path: Path, emulator: GCSEmulator) -> Iterator[Env]:
    emulator.wipe()
    emulator.client().create_bucket(BUCKET)
    settings = Settings(
        workspace=tmp_path / "ws",
        project="demo-proj",
        storage=f"gs://{BUCKET}/h",
        base_model=catalog.default_base_model(today=TODAY).id,
    )
    fake = FakeGemini(strict=True)
    client = fake_client(settings, fake)
    yield Env(settings, fake, client, emulator, FakeIam())
    client.close()


def grant(emulator: GCSEmulator, role: str, member: str = AGENT) -> None:
    bucket = emulator.client().bucket(BUCKET)
    policy = bucket.get_iam_policy()
    policy.bindings.append({"role": role, "members": {f"serviceAccount:{member}"}})
    bucket.set_iam_policy(policy)


def run(env: Env, settings: Settings | None = None, **kw: Any) -> DoctorReport:
    return Doctor(
        settings or env.settings,
        client=env.client,
        storage_client=env.emulator.client(),
        iam=env.iam,
        today=TODAY,
        **kw,
    ).run()


def by_name(report: DoctorReport) -> dict[str, Check]:
    return {c.name: c for c in report.checks}


def test_everything_passes_with_the_agent_granted(env: Env) -> None:
    grant(env.emulator, "roles/storage.objectAdmin")
    report = run(env)
    checks = by_name(report)
    assert [c.name for c in report.checks][:3] == ["settings", "credentials", "vertex-api"]
    assert report.ok, [c.line() for c in report.checks]
    assert checks["vertex-api"].status == "ok" and len(env.fake.calls("publishers/google/models/")) == 1
    assert checks["bucket"].status == "ok" and "writable" in checks["bucket"].message
    assert checks["service-agent"].status == "ok" and AGENT in checks["service-agent"].message
    assert checks["tiktok"].status == "skip" and "--network" in checks["tiktok"].message
    assert report.to_dict()["ok"] is True and report.to_dict()["checks"][0]["name"] == "settings"


def test_vertex_permission_denied_names_the_role(env: Env) -> None:
    env.fake.inject("403", match="publishers/")
    check = by_name(run(env))["vertex-api"]
    assert check.status == "fail" and "403" in check.message and "roles/aiplatform.user" in (check.fix or "")


def test_a_retired_base_model_is_refused_with_its_successor(env: Env) -> None:
    report = run(env, env.settings.model_copy(update={"base_model": "gemini-2.5-flash"}))
    check = by_name(report)["base-model"]
    assert check.status == "fail" and "retired" in check.message and not report.ok
    assert "gemini-3.5-flash" in (check.fix or "")


def test_a_missing_bucket_fails_with_the_create_command(env: Env) -> None:
    report = run(env, env.settings.model_copy(update={"storage": "gs://no-such-bucket/h"}))
    check = by_name(report)["bucket"]
    assert check.status == "fail" and "not found" in check.message
    assert "gcloud storage buckets create" in (check.fix or "")
    assert by_name(report)["service-agent"].status == "skip"


def test_a_bucket_the_caller_cannot_write(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    from google.cloud.storage import Bucket

    monkeypatch.setattr(Bucket, "test_iam_permissions", lambda self, perms, **kw: ["storage.objects.get"])
    check = by_name(run(env))["bucket"]
    assert check.status == "fail" and "cannot write" in check.message and "objectAdmin" in (check.fix or "")


def test_a_bucket_in_another_region_warns(env: Env) -> None:
    grant(env.emulator, "roles/storage.objectAdmin")
    report = run(env, env.settings.model_copy(update={"location": "europe-west4"}))
    check = by_name(report)["bucket"]
    assert check.status == "warn" and "europe-west4" in check.message and "--location=europe-west4" in (check.fix or "")
    assert location_suits("US-CENTRAL1", "us-central1") and location_suits("NAM4", "us-central1")
    assert location_suits("EU", "europe-west4") and not location_suits("US", "europe-west4")


def test_service_agent_without_read_access_fails(env: Env) -> None:
    report = run(env)
    check = by_name(report)["service-agent"]
    assert check.status == "fail" and "cannot read" in check.message and not report.ok
    assert f"--member=serviceAccount:{AGENT}" in (check.fix or "") and "roles/storage.objectViewer" in (check.fix or "")


def test_service_agent_that_cannot_write_batch_output_warns(env: Env) -> None:
    grant(env.emulator, "roles/storage.objectViewer")
    report = run(env)
    check = by_name(report)["service-agent"]
    assert check.status == "warn" and "batch output" in check.message and report.ok  # tuning only reads
    assert "roles/storage.objectCreator" in (check.fix or "")


def test_project_level_agent_role_covers_a_same_project_bucket(env: Env) -> None:
    env.iam.project = [{"role": "roles/aiplatform.serviceAgent", "members": [f"serviceAccount:{AGENT}"]}]
    assert by_name(run(env))["service-agent"].status == "ok"


def test_unreadable_policies_are_skipped_with_a_clear_line(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    from google.api_core.exceptions import Forbidden
    from google.cloud.storage import Bucket

    def denied(self: Bucket, **kw: Any) -> Any:
        raise Forbidden("storage.buckets.getIamPolicy denied")

    monkeypatch.setattr(Bucket, "get_iam_policy", denied)
    check = by_name(run(env))["service-agent"]
    assert check.status == "skip" and "cannot read the bucket's IAM policy" in check.message
    assert AGENT in (check.fix or "")
    monkeypatch.undo()
    env.iam.project = None  # the bucket policy lacks the agent and the project policy is unreadable
    check = by_name(run(env))["service-agent"]
    assert check.status == "warn" and "could not be read" in check.message


def test_without_iam_access_the_agent_is_named_from_the_bucket(env: Env) -> None:
    report = Doctor(env.settings, client=env.client, storage_client=env.emulator.client(), today=TODAY).run()
    check = by_name(report)["service-agent"]  # no credentials for the IAM API here: the bucket's project number
    assert check.status == "warn" and AGENT in check.message and "could not be read" in check.message


def test_custom_service_account_roles(env: Env) -> None:
    grant(env.emulator, "roles/storage.objectAdmin")
    settings = env.settings.model_copy(update={"service_account": ACCOUNT})
    check = by_name(run(env, settings))["service-account"]
    assert check.status == "fail"
    for missing in ("roles/aiplatform.tuningServiceAgent", "roles/iam.serviceAccountTokenCreator"):
        assert missing in check.message and missing in (check.fix or "")
    assert tuning_service_agent(NUMBER) in check.message
    env.iam.project = [{"role": "roles/aiplatform.tuningServiceAgent", "members": [f"serviceAccount:{ACCOUNT}"]}]
    env.iam.account = [
        {"role": "roles/iam.serviceAccountTokenCreator", "members": [f"serviceAccount:{tuning_service_agent(NUMBER)}"]}
    ]
    env.iam.act_as = False
    check = by_name(run(env, settings))["service-account"]
    assert check.status == "fail" and check.message.endswith("iam.serviceAccounts.actAs for you")
    env.iam.act_as = True
    report = run(env, settings)
    assert by_name(report)["service-account"].status == "ok" and report.ok
    env.iam.account = None
    assert by_name(run(env, settings))["service-account"].status == "skip"


def test_tiktok_only_with_network_and_never_blocking(env: Env) -> None:
    grant(env.emulator, "roles/storage.objectAdmin")

    def unreachable(settings: Settings) -> None:
        raise TransientSourceError("Could not resolve host: www.tiktok.com", hint="check the network")

    report = run(env, network=True, reach=unreachable)
    check = by_name(report)["tiktok"]
    assert check.status == "fail" and not check.blocking and "resolve host" in check.message
    assert report.ok  # tuning does not download
    assert by_name(run(env, network=True, reach=lambda s: None))["tiktok"].status == "ok"


def test_low_disk_space_fails(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "disk_usage", lambda p: shutil._ntuple_diskusage(100 * 2**30, 99 * 2**30, 2**29))  # type: ignore[attr-defined]
    check = by_name(run(env))["disk"]
    assert check.status == "fail" and "0.5 GB free" in check.message


def test_a_workspace_that_does_not_open_fails(env: Env, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    report = run(env, env.settings.model_copy(update={"workspace": tmp_path / "file"}))
    assert by_name(report)["workspace"].status == "fail" and not report.ok


def test_settings_that_do_not_parse_stop_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUMORTUNE_STORAGE", "gs://")
    report = Doctor(Settings).run()
    first, *rest = report.checks
    assert first.name == "settings" and first.status == "fail" and "bucket" in first.message
    assert all(c.status == "skip" for c in rest) and not report.ok


def test_offline_runs_only_local_checks_fast(tmp_path: Path) -> None:
    settings = Settings(workspace=tmp_path / "ws", offline=True, base_model=catalog.default_base_model(today=TODAY).id)
    report = Doctor(settings, today=TODAY).run()
    assert report.ok and report.offline and report.seconds < 2.0, [c.line() for c in report.checks]
    statuses = by_name(report)
    assert {statuses[n].status for n in ("credentials", "vertex-api", "service-agent")} == {"skip"}
    assert statuses["workspace"].status == "ok" and statuses["bucket"].status == "ok"


def test_online_tuning_needs_cloud_storage(env: Env) -> None:
    local = env.settings.model_copy(update={"storage": None})
    check = by_name(run(env, local))["bucket"]
    assert check.status == "fail" and "HUMORTUNE_STORAGE=gs://" in (check.fix or "")
    assert by_name(run(env, local, purpose="prepare"))["bucket"].status == "ok"  # prepare works locally


def test_preflight_raises_the_first_failure_in_one_line(env: Env) -> None:
    settings = env.settings.model_copy(update={"storage": None})
    with pytest.raises(PreflightError) as info:
        preflight(settings, TUNE_CHECKS, client=env.client)
    assert str(info.value).count("\n") == 0 and "preflight bucket" in str(info.value)
    assert "humortune doctor" in str(info.value.hint)
