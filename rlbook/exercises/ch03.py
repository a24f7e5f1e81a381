"""Checks for the exercises of chapter 03."""

__all__: list[str] = []
