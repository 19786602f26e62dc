"""The AI RMF 1.0 catalog: functions, categories, subcategories (shared by all organisations)."""

from django.db import models


class Scope(models.TextChoices):
    ORGANISATION = "organisation"
    SYSTEM = "system"


class Function(models.Model):
    id = models.CharField(primary_key=True, max_length=16)
    code = models.CharField(max_length=4)
    title = models.CharField(max_length=100)
    summary = models.TextField()
    position = models.PositiveSmallIntegerField()

    def __str__(self) -> str:
        return self.id


class Category(models.Model):
    id = models.CharField(primary_key=True, max_length=16)
    function = models.ForeignKey(Function, on_delete=models.CASCADE, related_name="categories")
    summary = models.TextField()
    page = models.PositiveSmallIntegerField()
    position = models.PositiveSmallIntegerField()

    def __str__(self) -> str:
        return self.id


class Subcategory(models.Model):
    id = models.CharField(primary_key=True, max_length=16)
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="subcategories")
    outcome = models.TextField()
    page = models.PositiveSmallIntegerField()
    scope = models.CharField(max_length=16, choices=Scope.choices)
    scope_note = models.TextField(blank=True)
    characteristic = models.CharField(max_length=40, blank=True)
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return self.id
