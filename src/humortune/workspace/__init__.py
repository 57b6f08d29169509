"""The SQLite workspace: corrections, videos and lineage."""

from humortune.workspace.corpus import Corpus, Entry, ImportReport
from humortune.workspace.db import Database

__all__ = ["Corpus", "Database", "Entry", "ImportReport"]
