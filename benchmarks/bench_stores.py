"""What the typed stores cost against the queries they replace, on one workspace file (offline, < 30 s).

    python benchmarks/bench_stores.py [--n 2000]

Each figure is a store method against today's caller doing the same read or write, measured in the same run
(wave 2 of issue 14 switches the callers; a ratio near 1.00 means the switch costs nothing):

* ``ModelStore.all`` vs ``tuner.registry.ModelRegistry.models`` and ``ModelStore.find`` vs ``.model``;
* ``AliasStore.target`` vs ``evaluator.registry.AliasRegistry.current``;
* ``AnalysisStore.get``/``recent``/``put`` vs ``analyzer.cache.AnalysisCache.by_id``/``list``/``put``;
* ``DatasetStore.examples`` vs ``dataset.registry.load_examples``;
* ``CorrectionStore.sources`` vs ``dataset.registry.load_sources`` (the builder's one big read).
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from humortune.analyzer.cache import AnalysisCache, analysis_id
from humortune.dataset.registry import load_examples, load_sources
from humortune.evaluator.registry import AliasRegistry
from humortune.schema import Analysis, Correction, DatasetVersion, TunedModel, VideoAsset
from humortune.tuner.registry import ModelRegistry
from humortune.workspace import Corpus, Stores
from humortune.workspace.stores import DatasetExample, DatasetRecord


def paired(store: Callable[[], object], today: Callable[[], object], n: int) -> tuple[float, float]:
    """Seconds per call of each, median of 7 alternating batches (so load drift hits both alike)."""
    store(), today()
    times: dict[int, list[float]] = {0: [], 1: []}
    for _ in range(7):
        for side, fn in enumerate((store, today)):
            start = time.perf_counter()
            for _ in range(n):
                fn()
            times[side].append((time.perf_counter() - start) / n)
    return statistics.median(times[0]), statistics.median(times[1])


def sha(i: int) -> str:
    return hashlib.sha256(str(i).encode()).hexdigest()


def populate(corpus: Corpus, stores: Stores, clips: int) -> None:
    for i in range(clips):
        url = f"https://www.tiktok.com/@o/video/{7300000000000000000 + i}"
        corpus.add_correction(Correction(id=f"c{i:05d}", video_url=url, human_said=f"Ägaren om {i}.", niche="gym"))
        corpus.add_video(
            VideoAsset(
                sha256=sha(i),
                source_id=str(7300000000000000000 + i),
                size_bytes=1,
                duration_s=5,
                width=1,
                height=1,
                codec="h264",
                fps=30,
                has_audio=True,
                uri=f"file:///v/{sha(i)}.mp4",
            )
        )
        corpus.link_video(f"tiktok:{7300000000000000000 + i}", sha(i))
        stores.analyses.put(analysis(i))
    examples = [
        DatasetExample(correction_id=f"c{i:05d}", video_sha256=sha(i), split="train", row_hash="r")
        for i in range(clips)
    ]
    stores.datasets.save(
        DatasetRecord(
            id="ds-a",
            created_at=DatasetVersion(
                id="x", prompt_version="p", media_resolution="m", storage_prefix="s", train_uri="t"
            ).created_at,
            prompt_version="p",
            target_format="narrative",
            media_resolution="LOW",
            storage_prefix="file:///ds",
        ),
        examples,
        new_splits={},
        moved_splits={},
        seed="s",
    )
    for m in range(50):
        stores.models.register(TunedModel(id=f"projects/p/models/{m}@1", endpoint=f"e{m}", base_model="b"))
    stores.aliases.move("current", "projects/p/models/7@1")


def analysis(i: int, model: str = "m") -> Analysis:
    key = analysis_id(
        video_sha256=sha(i), video_uri=f"file:///v/{sha(i)}.mp4", model=model, prompt_version="p", mode="two-stage"
    )
    return Analysis(
        id=key,
        video_sha256=sha(i),
        video_uri=f"file:///v/{sha(i)}.mp4",
        narrative="n" * 400,
        model=model,
        prompt_version="p",
    )


def row(name: str, figures: tuple[float, float]) -> None:
    store, today = figures
    print(f"{name:<44} store {store * 1e6:9.1f} µs   today {today * 1e6:9.1f} µs   ratio {store / today:5.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000, help="calls per batch for the cheap reads")
    parser.add_argument("--clips", type=int, default=1000, help="corrections, videos and analyses in the workspace")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, Corpus.open(Path(tmp) / "ws.db") as corpus:
        stores = Stores.of(corpus.db)
        populate(corpus, stores, args.clips)
        models, aliases, cache = ModelRegistry(corpus), AliasRegistry(corpus), AnalysisCache(corpus.db)
        n, big = args.n, max(args.n // 100, 5)
        aid = analysis(3).id or ""
        # each side inserts its own new rows (a shared list would make the second side update, not insert)
        mine = iter([analysis(i, model="w-store") for i in range(n)])
        theirs = iter([analysis(i, model="w-today").model_copy(update={"id": None}) for i in range(n)])
        spare = analysis(0, model="w-spare")
        print(f"workspace: {args.clips} clips, 50 models; median of 7 alternating batches")
        row("models: all (50 rows)", paired(stores.models.all, models.models, big))
        row("models: find by endpoint", paired(lambda: stores.models.find("e7"), lambda: models.model("e7"), n))
        row("aliases: target('current')", paired(lambda: stores.aliases.target("current"), aliases.current, n))
        row("analyses: get by id", paired(lambda: stores.analyses.get(aid), lambda: cache.by_id(aid), n))
        row("analyses: recent (100 rows)", paired(stores.analyses.recent, cache.list, big))
        row(
            "analyses: put (upsert)",
            paired(
                lambda: stores.analyses.put(next(mine, spare)),
                lambda: cache.put(next(theirs, spare.model_copy(update={"id": None}))),
                n // 20,
            ),
        )
        row(
            f"datasets: examples ({args.clips} rows)",
            paired(lambda: stores.datasets.examples("ds-a"), lambda: load_examples(corpus, "ds-a"), big),
        )
        row(
            f"corrections: sources ({args.clips} rows)",
            paired(stores.corrections.sources, lambda: load_sources(corpus), big),
        )


if __name__ == "__main__":
    main()
