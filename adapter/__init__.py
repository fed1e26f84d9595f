"""kiss-esuite-adapter: KISS (Open Klant 1 + Objects API) in front of the Dimpact e-Suite."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("kiss-esuite-adapter")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+source"
