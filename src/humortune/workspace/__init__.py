"""The SQLite workspace: corrections, videos and lineage."""

from humortune.workspace.corpus import Corpus, Entry, ImportReport, SourceLink
from humortune.workspace.db import Database
from humortune.workspace.stores import Stores

__all__ = ["Corpus", "Database", "Entry", "ImportReport", "SourceLink", "Stores"]
