"""The base model every domain model derives from."""

from django.db import models


class BaseModel(models.Model):
    """Creation and update times for every row; both stored in UTC."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
