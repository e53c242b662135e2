"""Create an active user of a dealer company.

Without ``--password`` a strong password is generated and printed alone on the last line of
stdout (a script takes it with ``tail -n 1``).
"""

from __future__ import annotations

import secrets
import string

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.management.base import CommandError
from django.core.validators import validate_email

from apps.accounts.management.commands.create_api_key import error_line, text_option
from apps.accounts.models import Customer, CustomerStatus, DealerRole, User
from apps.accounts.services.users import user_create_for_company
from apps.core.commands import OneLineErrorsCommand
from apps.core.exceptions import DomainError

PASSWORD_LENGTH = 20
PASSWORD_SYMBOLS = "-_.!@#%+="  # noqa: S105 - the alphabet, not a password


def generate_password(length: int = PASSWORD_LENGTH) -> str:
    """Random, with at least one lower-case letter, upper-case letter, digit and symbol."""
    classes = [string.ascii_lowercase, string.ascii_uppercase, string.digits, PASSWORD_SYMBOLS]
    alphabet = "".join(classes)
    while True:
        password = "".join(secrets.choice(alphabet) for _ in range(length))
        if all(any(c in cls for c in password) for cls in classes):
            return password


class Command(OneLineErrorsCommand):
    help = (
        "Create an active user of a dealer company. Without --password a strong password is "
        "generated and printed alone on the last line."
    )

    def add_arguments(self, parser):
        parser.add_argument("--customer", required=True, help="the company's code, e.g. DEMO001")
        parser.add_argument("--email", required=True)
        parser.add_argument("--role", required=True, choices=DealerRole.values)
        parser.add_argument("--password", help="default: a generated one, printed once")

    def handle(self, *args, customer, email, role, password, **options):
        email = text_option(email, "--email", max_length=User._meta.get_field("email").max_length)
        try:
            validate_email(email)
        except DjangoValidationError as exc:
            raise CommandError(f"email: {email!r} is not a valid e-mail address") from exc
        code_length = Customer._meta.get_field("code").max_length
        code = text_option(customer, "--customer", max_length=code_length)
        company = Customer.objects.filter(code=code).first()
        if company is None:
            raise CommandError(f"customer: no company with the code {customer!r}")
        if company.status == CustomerStatus.REJECTED:  # it never becomes active: no one logs in
            raise CommandError(f"customer: {company.code} was rejected; approve it first")
        generated = password is None
        if generated:
            password = generate_password()
        try:
            user = user_create_for_company(
                customer=company, email=email, role=role, password=password, is_active=True
            )
        except DomainError as exc:
            raise CommandError(error_line(exc)) from exc
        self.stdout.write(
            f"Created {user.email} ({user.get_role_display()}) for {company.code}: {company.name}"
        )
        if not company.is_active_customer:
            self.stdout.write(
                f"Note: the company is {company.get_status_display()}; "
                "the user can log in once it is active."
            )
        if generated:
            self.stdout.write("Generated password (shown once, store it now):")
            self.stdout.write(password)
