"""Checks for the exercises of chapter 04."""

__all__: list[str] = []
