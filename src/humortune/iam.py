"""Who may do what: reading IAM policies for `humortune doctor`, and the roles tuning needs.

Pure helpers (`roles_of`, `grants_read`, `grants_write`, the service-agent e-mails) plus `CloudIam`, which reads
project and service-account policies over REST with google-auth's `AuthorizedSession` (no extra client
library). Every read is bounded by a short timeout; a policy the caller may not read is reported as
`PolicyUnreadable`, so the doctor can say "cannot check" instead of guessing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from humortune.errors import HumortuneError

__all__ = [
    "BUCKET_READ_ROLES",
    "BUCKET_WRITE_ROLES",
    "TOKEN_CREATOR_ROLE",
    "TUNING_AGENT_ROLE",
    "CloudIam",
    "IamApi",
    "PolicyUnreadable",
    "grants_read",
    "grants_write",
    "roles_of",
    "tuning_service_agent",
    "vertex_service_agent",
]

BUCKET_READ_ROLES = frozenset(
    {
        "roles/storage.objectViewer",
        "roles/storage.objectUser",
        "roles/storage.objectAdmin",
        "roles/storage.admin",
        "roles/storage.legacyObjectReader",
        "roles/storage.legacyObjectOwner",
    }
)
"""Roles that let a member read objects (Vertex reads the dataset, the videos and batch inputs)."""
BUCKET_WRITE_ROLES = frozenset(
    {
        "roles/storage.objectCreator",
        "roles/storage.objectUser",
        "roles/storage.objectAdmin",
        "roles/storage.admin",
        "roles/storage.legacyBucketWriter",
        "roles/storage.legacyBucketOwner",
    }
)
"""Roles that let a member create objects (Vertex writes batch prediction output)."""
TUNING_AGENT_ROLE = "roles/aiplatform.tuningServiceAgent"
"""What a custom service account that a tuning job runs as needs (on the project)."""
TOKEN_CREATOR_ROLE = "roles/iam.serviceAccountTokenCreator"
"""What the Vertex AI tuning service agent needs on a custom service account, to act as it."""
_PROJECT_AGENT_ROLE = "roles/aiplatform.serviceAgent"  # Vertex's own agent role: covers same-project buckets


class PolicyUnreadable(HumortuneError):
    """The caller may not read this IAM policy (or the API could not be reached): the check is skipped."""


def vertex_service_agent(project_number: str) -> str:
    """The Vertex AI Service Agent that reads datasets and videos and writes batch output."""
    return f"service-{project_number}@gcp-sa-aiplatform.iam.gserviceaccount.com"


def tuning_service_agent(project_number: str) -> str:
    """The Vertex AI (secure fine-tuning) service agent that impersonates a custom service account."""
    return f"service-{project_number}@gcp-sa-vertex-tune.iam.gserviceaccount.com"


def roles_of(bindings: Iterable[Mapping[str, Any]], email: str) -> set[str]:
    """The roles a service account holds in a policy's bindings (conditional bindings count as held)."""
    member = f"serviceAccount:{email}"
    return {str(b.get("role")) for b in bindings if member in (b.get("members") or [])}


def grants_read(roles: Iterable[str], *, same_project_agent: bool = False) -> bool:
    """Whether these roles (on a bucket or its project) let the member read objects."""
    held = set(roles)
    return bool(held & BUCKET_READ_ROLES) or (same_project_agent and _PROJECT_AGENT_ROLE in held)


def grants_write(roles: Iterable[str], *, same_project_agent: bool = False) -> bool:
    """Whether these roles let the member create objects (the batch output prefix)."""
    held = set(roles)
    return bool(held & BUCKET_WRITE_ROLES) or (same_project_agent and _PROJECT_AGENT_ROLE in held)


class IamApi(Protocol):
    """What the doctor reads about IAM; `CloudIam` in production, a fake in tests."""

    def project_number(self, project: str) -> str:
        """The project's number (service-agent e-mails are built from it)."""
        ...

    def project_bindings(self, project: str) -> list[dict[str, Any]]:
        """The project's IAM policy bindings; raises `PolicyUnreadable`."""
        ...

    def service_account_bindings(self, email: str) -> list[dict[str, Any]]:
        """The IAM policy bindings on a service account (who may act as it); raises `PolicyUnreadable`."""
        ...

    def caller_can_act_as(self, email: str) -> bool:
        """Whether the caller holds ``iam.serviceAccounts.actAs`` on the service account."""
        ...


class CloudIam:
    """`IamApi` over REST (Resource Manager v1, IAM v1) with the caller's credentials."""

    _CRM = "https://cloudresourcemanager.googleapis.com/v1/projects"
    _IAM = "https://iam.googleapis.com/v1/projects/-/serviceAccounts"

    def __init__(self, credentials: Any, *, timeout_s: float = 10.0) -> None:
        from google.auth.transport.requests import AuthorizedSession

        self._session = AuthorizedSession(credentials)  # type: ignore[no-untyped-call]
        self.timeout_s = timeout_s

    def project_number(self, project: str) -> str:
        return str(self._send("GET", f"{self._CRM}/{project}", what=f"project {project}")["projectNumber"])

    def project_bindings(self, project: str) -> list[dict[str, Any]]:
        body = {"options": {"requestedPolicyVersion": 3}}
        found = self._send("POST", f"{self._CRM}/{project}:getIamPolicy", body, what=f"project {project}")
        return list(found.get("bindings") or [])

    def service_account_bindings(self, email: str) -> list[dict[str, Any]]:
        found = self._send("POST", f"{self._IAM}/{email}:getIamPolicy", {}, what=f"service account {email}")
        return list(found.get("bindings") or [])

    def caller_can_act_as(self, email: str) -> bool:
        body = {"permissions": ["iam.serviceAccounts.actAs"]}
        found = self._send("POST", f"{self._IAM}/{email}:testIamPermissions", body, what=f"service account {email}")
        return "iam.serviceAccounts.actAs" in (found.get("permissions") or [])

    def _send(self, method: str, url: str, body: dict[str, Any] | None = None, *, what: str) -> dict[str, Any]:
        import requests

        try:
            response = self._session.request(method, url, json=body, timeout=self.timeout_s)  # type: ignore[no-untyped-call]
        except requests.RequestException as exc:
            raise PolicyUnreadable(f"could not reach the IAM API for {what} ({type(exc).__name__})") from None
        if response.status_code != 200:
            error = _error_of(response)
            raise PolicyUnreadable(
                f"cannot read the IAM policy of {what}: {response.status_code} {error}",
                hint="ask for roles/iam.securityReviewer, or check the roles by hand (docs/tuning.md)",
                item=what,
            )
        found: dict[str, Any] = response.json()
        return found


def _error_of(response: Any) -> str:
    try:
        error = response.json().get("error") or {}
    except ValueError:
        return response.reason or ""
    return f"{error.get('status', '')}: {error.get('message', '')}".strip(": ")
