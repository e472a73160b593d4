"""The package version (its own module, so anything can import it without importing the package's API)."""
__version__ = "0.1.0"
