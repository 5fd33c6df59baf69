"""The ``trillian`` command."""

from __future__ import annotations

import argparse
import logging
import sys

from pydantic import ValidationError

__all__ = ["main"]


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from trillian.app import create_app
    from trillian.settings import Settings

    try:
        settings = Settings()
    except ValidationError as error:
        problems = "; ".join(e["msg"].removeprefix("Value error, ") for e in error.errors())
        print(f"trillian: invalid settings: {problems}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    print(
        f"Trillian on http://{args.host}:{args.port} (Ebling at {settings.ebling_url}, "
        f"sign-in: {settings.auth.value})",
        file=sys.stderr,
    )
    uvicorn.run(
        create_app(settings),
        host=args.host,
        port=args.port,
        log_level="warning",
        proxy_headers=True,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line."""
    parser = argparse.ArgumentParser(prog="trillian", description="The automation dashboard.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="Serve the dashboard.")
    serve.add_argument("--host", default="127.0.0.1", help="Address to listen on.")
    serve.add_argument("--port", type=int, default=8081, help="Port to listen on.")
    serve.set_defaults(handler=_serve)
    args = parser.parse_args(argv)
    handler = args.handler
    result: int = handler(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
