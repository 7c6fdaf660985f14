"""A URL converter for database ids. Django's `int` accepts any number of digits,
and a lookup through a foreign key with a number beyond 64 bits is a server error
on SQLite (OverflowError); `id` takes at most 18 digits, so such a URL is a 404.
Registered when the learning app is ready; every id in our URLs uses it."""

from django.urls import register_converter
from django.urls.converters import IntConverter


class IdConverter(IntConverter):
    regex = "[0-9]{1,18}"


register_converter(IdConverter, "id")
