"""The package version, on the bottom floor so any module can name it without importing the root package."""

__all__ = ["__version__"]

__version__ = "0.1.0"
