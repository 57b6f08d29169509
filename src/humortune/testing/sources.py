"""`FakeDownloader`: a `Downloader` that never goes online, for tests, examples and offline runs."""

from __future__ import annotations

import shutil
import threading
import time
from collections import Counter, deque
from collections.abc import Mapping, Sequence
from pathlib import Path

from humortune._util import short_hash
from humortune.errors import PermanentSourceError
from humortune.sources.base import Download
from humortune.urls import SourceRef

__all__ = ["FakeDownloader"]


class FakeDownloader:
    """Serve sources from local files (or freshly generated clips) and raise scripted errors.

    ```python
    fake = FakeDownloader({"https://www.tiktok.com/@a/video/1": Path("clip.mp4")},
                          errors={"https://www.tiktok.com/@a/video/1": [TransientSourceError("503")]})
    ```

    ``files`` maps a source URL or canonical key to a file; ``generate=True`` makes a small distinct clip
    for any other source; ``errors`` are raised one per call, in order, before the file is served;
    ``video_ids`` says what a short link resolves to; ``delay`` simulates network time. ``calls`` counts
    calls per source key.
    """

    def __init__(
        self,
        files: Mapping[str, str | Path] | None = None,
        *,
        generate: bool = False,
        errors: Mapping[str, Sequence[BaseException]] | None = None,
        video_ids: Mapping[str, str] | None = None,
        delay: float = 0.0,
    ) -> None:
        self.files = {k: Path(v) for k, v in (files or {}).items()}
        self.generate = generate
        self._errors = {k: deque(v) for k, v in (errors or {}).items()}
        self.video_ids = dict(video_ids or {})
        self.delay = delay
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def download(self, source: SourceRef, dest_dir: Path) -> Download:
        with self._lock:
            self.calls[source.key] += 1
            queue = self._errors.get(source.url) or self._errors.get(source.key)
            error = queue.popleft() if queue else None
        if self.delay:
            time.sleep(self.delay)
        if error is not None:
            raise error
        target = dest_dir / "video.mp4"
        original = self.files.get(source.url) or self.files.get(source.key)
        if original is not None:
            shutil.copyfile(original, target)
        elif self.generate:
            from humortune.testing.videos import make_test_video

            seed = int(short_hash(source.key, 8), 16) % 100_000
            make_test_video(target, seconds=1.0, seed=seed)
        else:
            raise PermanentSourceError("no such video", item=source.url, category="removed")
        video_id = self.video_ids.get(source.url) or self.video_ids.get(source.key) or source.video_id
        return Download(path=target, video_id=video_id, bytes_downloaded=target.stat().st_size)
