#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
    settings_module = os.environ["DJANGO_SETTINGS_MODULE"]
    if settings_module == "tracker.settings" and not (
        os.environ.get("SECRET_KEY") or os.environ.get("DEBUG", "").lower() in {"1", "true", "yes"}
    ):
        # The settings refuse to start without a secret key; say so plainly, not in a traceback.
        sys.exit(
            "Set SECRET_KEY (production) or DEBUG=1 (local development; "
            "`make run` and `make test` do this for you)."
        )
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
