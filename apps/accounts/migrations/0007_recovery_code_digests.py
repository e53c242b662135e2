"""Recovery codes are kept as digests: the codes made before (8 characters, stored as typed)
get theirs, so they still sign in once each."""

import base64
import hashlib

from django.db import migrations


def _digest(code: str) -> str:
    # apps.accounts.services.two_factor.recovery_code_digest, frozen here
    normalised = "".join(ch for ch in code if ch not in " -\t").lower()
    return base64.b32encode(hashlib.sha256(normalised.encode()).digest()[:10]).decode().lower()


def digest_stored_codes(apps, schema_editor):
    StaticToken = apps.get_model("otp_static", "StaticToken")
    # a digest is 16 characters; every code made before this migration is shorter (8)
    for token in StaticToken.objects.all().iterator():
        if len(token.token) < 16:
            token.token = _digest(token.token)
            token.save(update_fields=["token"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_two_factor"),
        ("otp_static", "0003_add_timestamps"),
    ]

    # no way back: a digest does not give the code again
    operations = [migrations.RunPython(digest_stored_codes, migrations.RunPython.noop)]
