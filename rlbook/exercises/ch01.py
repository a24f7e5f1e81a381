"""Checks for the exercises of chapter 01."""

__all__: list[str] = []
