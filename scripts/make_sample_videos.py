"""Generate the bundled sample clips in datasets/sample_videos/ (run once; the files are committed).

Each clip is a few seconds of H.264 video with an AAC tone, made with PyAV, distinct per seed and well
under 1 MB, so the main job runs offline on a fresh machine without any download.

    python scripts/make_sample_videos.py
"""

from __future__ import annotations

from pathlib import Path

from humortune.testing.videos import make_test_video

OUT = Path(__file__).resolve().parent.parent / "datasets" / "sample_videos"
COUNT = 12


def main() -> None:
    for i in range(1, COUNT + 1):
        path = make_test_video(OUT / f"clip{i:02d}.mp4", seconds=2.0 + (i % 4), seed=i)
        print(f"{path.relative_to(OUT.parent.parent)}  {path.stat().st_size:>7} bytes")


if __name__ == "__main__":
    main()
