from __future__ import annotations

from fastapi import FastAPI


def install_pages(app: FastAPI) -> None:
    """Pages are mounted here."""
