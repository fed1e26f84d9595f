"""The simulator's one error value: an e-Suite error answer (esuite.md §8.3)."""

from __future__ import annotations


class SimError(Exception):
    """An e-Suite error answer: HTTP status, ``Fout.code`` and a value-free ``detail``."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail


def invalid(detail: str) -> SimError:
    return SimError(400, "VALIDATION", detail)


def not_found(detail: str) -> SimError:
    return SimError(404, "NOT_FOUND", detail)
