"""Video sources: URL normalisation, downloading (yt-dlp), local files, and probing (PyAV).

```python
from humortune.sources import YtDlpDownloader, parse_source, probe_video

ref = parse_source("https://www.tiktok.com/@someone/video/7301234567890123456?lang=en")
ref.key                                            # 'tiktok:7301234567890123456'
download = YtDlpDownloader().download(ref, tmp_dir)
info = probe_video(download.path)                  # duration, size, codec, resolution, fps, audio
```

Importing this package is cheap: yt-dlp and PyAV load on first download / probe.
"""

from __future__ import annotations

from humortune.sources.base import CATEGORY_FIXES, Download, Downloader, open_local, redact, suggested_fix
from humortune.sources.classify import classify_error, error_for_category, error_for_status
from humortune.sources.probe import ProbeInfo, probe_video
from humortune.sources.ytdlp import YtDlpDownloader
from humortune.urls import SourceRef, canonical_key, parse_source

__all__ = [
    "CATEGORY_FIXES",
    "Download",
    "Downloader",
    "ProbeInfo",
    "SourceRef",
    "YtDlpDownloader",
    "canonical_key",
    "classify_error",
    "error_for_category",
    "error_for_status",
    "open_local",
    "parse_source",
    "probe_video",
    "redact",
    "suggested_fix",
]
