from __future__ import annotations

import secrets
import time
from dataclasses import fields
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from oversight import scale


class Command(BaseCommand):
    help = (
        "Fill an empty database with production-scale data (the register, models, results, "
        "releases, signed approvals and decisions, people, and a valid audit chain), the same "
        "for the same options. For measuring; never on a database that holds real data."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--scale",
            type=float,
            default=1.0,
            help="multiply every default size (e.g. 0.01); sizes given below win",
        )
        defaults = scale.Sizes()
        for item in fields(scale.Sizes):
            parser.add_argument(
                f"--{item.name.replace('_', '-')}",
                type=int,
                metavar="N",
                help=f"default {getattr(defaults, item.name):,}",
            )
        parser.add_argument("--seed", type=int, default=0, help="another seed, other data")
        parser.add_argument(
            "--password",
            help="every seeded person's password (default: a random one, printed at the end)",
        )
        parser.add_argument(
            "--digest",
            action="store_true",
            help="print a digest of the seeded content, to compare two seeds",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        given = {item.name: options[item.name] for item in fields(scale.Sizes)}
        try:
            sizes = scale.Sizes.scaled(options["scale"], **given)
            password = options["password"] or secrets.token_urlsafe(12)
            started = time.perf_counter()
            self.stdout.write(
                "Seeding: "
                + ", ".join(f"{item.name.replace('_', ' ')} {getattr(sizes, item.name):,}"
                            for item in fields(sizes))
            )  # fmt: skip
            report = scale.seed(
                sizes,
                seed=options["seed"],
                password=password,
                progress=lambda message: self.stdout.write(f"  {message}"),
            )
        except scale.ScaleError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(self.style.SUCCESS(f"Seeded in {time.perf_counter() - started:.1f} s:"))
        for label, count in report.counts.items():
            self.stdout.write(f"  {label:<26} {count:>12,}")
        self.stdout.write(f"Audit chain head: seq {report.head_seq}, hash {report.head_hash}")
        if options["digest"]:
            self.stdout.write(f"Content digest: {scale.content_digest()}")
        logins = ", ".join(f"{name} {username}" for name, username in report.first_logins.items())
        self.stdout.write(f"Sign in as, e.g.: {logins} (and the numbers after)")
        shown = "as given" if options["password"] else password
        self.stdout.write(f"Every seeded person's password: {shown}")
