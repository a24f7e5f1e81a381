"""Checks for the exercises of chapter 06."""

__all__: list[str] = []
