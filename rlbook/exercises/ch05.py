"""Checks for the exercises of chapter 05."""

__all__: list[str] = []
