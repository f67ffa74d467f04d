"""Dates in the API are ISO 8601 strings only (see :mod:`benzotaper.isodate`)."""

from benzotaper.isodate import ISODate

__all__ = ["ISODate"]
