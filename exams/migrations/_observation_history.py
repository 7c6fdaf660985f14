"""What migration 0003 named in exams/models/observations.py, frozen for the history.

Court observations moved to their own app (exams.observations: migration 0013 here
and observations 0001, state only). Historical models are still built from 0003, and
the exams app must not import the observations app, so the field class and the
callables 0003 serialized live on here as they were. The migration loader skips this
module (its name starts with "_"). Never change them: only the history uses them."""

import uuid

from django.core.exceptions import ValidationError
from django.db import models


class MultipleChoiceJSONField(models.JSONField):
    """A JSON list of choices (the live one is exams.observations.models')."""

    def __init__(self, *args, item_choices=(), **kwargs):
        self.item_choices = list(item_choices)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["item_choices"] = self.item_choices
        return name, path, args, kwargs


def default_attendee_fields():
    return ["department", "position"]


def validate_reflection_size(file):
    if file.size > 10 * 1024 * 1024:
        raise ValidationError("The file is too large (at most 10 MB).")


def reflection_upload_to(instance, filename):
    return f"observations/reflections/{uuid.uuid4().hex}/{filename}"
