"""Usernames unique without regard to case: a unique index on lower(username).

A database made before this may hold accounts whose names differ only in case ("name" and
"NAME"). The oldest keeps its name; each later one is renamed with a number ("NAME-2"), as
the migration prints, so that the index can be made; its password, saves and everything
else stay as they were, and the admin can give it another name.
"""

from django.db import migrations
from django.db.models import Count, Value
from django.db.models.functions import Lower

INDEX = "auth_user_username_any_case"


def free_name(User, username, taken_pk):
    """`username` with the first number that makes it free in any case (within 150)."""
    number = 2
    while True:
        suffix = f"-{number}"
        candidate = username[: 150 - len(suffix)] + suffix
        clash = User.objects.alias(folded=Lower("username")).filter(
            folded=Lower(Value(candidate))
        )
        if not clash.exclude(pk=taken_pk).exists():
            return candidate
        number += 1


def rename_case_twins(apps, schema_editor):
    User = apps.get_model("auth", "User")
    folded = User.objects.annotate(folded=Lower("username"))
    twins = folded.values("folded").annotate(n=Count("pk")).filter(n__gt=1).order_by()
    for group in twins:
        same = folded.filter(folded=group["folded"]).order_by("date_joined", "pk")
        for user in list(same)[1:]:
            new = free_name(User, user.username, user.pk)
            print(
                f"\n  Usernames are now unique in any case: account {user.pk} "
                f"{user.username!r} is renamed {new!r}.",
                end="",
            )
            User.objects.filter(pk=user.pk).update(username=new)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("media", "0010_import"),
    ]

    operations = [
        migrations.RunPython(rename_case_twins, migrations.RunPython.noop),
        migrations.RunSQL(
            f"CREATE UNIQUE INDEX {INDEX} ON auth_user (lower(username))",
            f"DROP INDEX {INDEX}",
        ),
    ]
