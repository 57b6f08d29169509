"""Test doubles shipped with the package: fakes for offline mode, tests, docs and examples."""
