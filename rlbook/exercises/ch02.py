"""Checks for the exercises of chapter 02."""

__all__: list[str] = []
