"""An in-process Cloud Storage emulator (``gcp-storage-emulator``, a dev dependency) on a loopback port.

```python
with GCSEmulator() as emulator:
    client = emulator.client()                    # google.cloud.storage.Client, anonymous credentials
    client.create_bucket("vids")
    storage = GCSStorage("vids", "humortune", client=client)
```

``emulator.environ()`` gives ``STORAGE_EMULATOR_HOST``, which makes a plain ``storage.Client()`` (and so
``HUMORTUNE_STORAGE=gs://…``) talk to it. Known gaps (see the offline-testing reference): it does not
enforce ``if_generation_match`` preconditions, does not check signed-URL signatures, and serves one
request at a time.
"""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Any

__all__ = ["GCSEmulator"]


class GCSEmulator:
    """Start/stop the emulator; `client` builds a client pointed at it."""

    def __init__(self, project: str = "test-project") -> None:
        self.project = project
        self._server: Any = None

    def start(self) -> GCSEmulator:
        from gcp_storage_emulator.server import create_server

        logging.getLogger("gcp_storage_emulator").setLevel(logging.WARNING)
        self._server = create_server("127.0.0.1", 0, in_memory=True)
        self._server.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def wipe(self) -> None:
        """Delete every bucket and object."""
        self._server.wipe()

    @property
    def endpoint(self) -> str:
        """``http://127.0.0.1:<port>``."""
        port = self._server._api._httpd.server_address[1]  # the emulator does not expose its port otherwise
        return f"http://127.0.0.1:{port}"

    def environ(self) -> dict[str, str]:
        """Environment variables that point google-cloud-storage at the emulator."""
        return {"STORAGE_EMULATOR_HOST": self.endpoint, "GOOGLE_CLOUD_PROJECT": self.project}

    def client(self) -> Any:
        """A ``google.cloud.storage.Client`` with anonymous credentials, talking to the emulator."""
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage  # type: ignore[attr-defined,import-untyped,unused-ignore]

        return storage.Client(
            project=self.project,
            credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
            client_options={"api_endpoint": self.endpoint},
        )

    def __enter__(self) -> GCSEmulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
