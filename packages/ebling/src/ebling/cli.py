"""The ``ebling`` command: serve the API, migrate the database, manage API keys."""

from __future__ import annotations

import ipaddress
import os
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from sqlalchemy import func, select

from ebling import __version__
from ebling.auth.api_keys import ApiKeyNotFound, create_api_key, revoke_api_key
from ebling.auth.local_accounts import create_admin_account, reset_password, save_password_file
from ebling.auth.principal import Role
from ebling.db import migrate as migrations
from ebling.db.engine import WRITE, create_database_engine, session_factory
from ebling.db.models import ApiKey
from ebling.log_config import configure_logging
from ebling.settings import AuthMode, Settings

app = typer.Typer(
    help="Ebling: the backend that records every workflow run, from any orchestrator.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
api_key_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
app.add_typer(api_key_app, name="api-key")
admin_password_app = typer.Typer(
    help="The admin password of simple sign-in (EBLING_AUTH=simple).", no_args_is_help=True
)
app.add_typer(admin_password_app, name="admin-password")

BOOTSTRAP_KEY_FILE = "admin-api-key"


def _settings() -> Settings:
    try:
        return Settings()
    except ValueError as error:
        typer.echo(f"Invalid configuration: {error}", err=True)
        raise typer.Exit(2) from error


@app.command()
def version() -> None:
    """Print Ebling's version."""
    typer.echo(__version__)


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema to this version of Ebling."""
    settings = _settings()
    engine = create_database_engine(settings.resolved_database_url)
    before = migrations.current_revision(engine)
    migrations.upgrade(engine)
    after = migrations.current_revision(engine)
    engine.dispose()
    if before == after:
        typer.echo(f"Database already at revision {after}.")
    else:
        typer.echo(f"Database migrated from {before or 'empty'} to {after}.")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    run_migrations: Annotated[
        bool, typer.Option("--migrate/--no-migrate", help="Upgrade the schema before serving.")
    ] = True,
    allow_remote: Annotated[
        bool,
        typer.Option(help="With simple auth, listen on addresses other than loopback anyway."),
    ] = False,
) -> None:
    """Serve the REST API."""
    import uvicorn

    settings = _settings()
    configure_logging(log_format=settings.log_format, level=settings.log_level)
    if settings.auth is AuthMode.SIMPLE and not _is_loopback(host) and not allow_remote:
        typer.echo(
            f"Refusing to listen on {host} with EBLING_AUTH=simple, which is meant for one "
            "machine. Use EBLING_AUTH=oidc, or pass --allow-remote if this is intended.",
            err=True,
        )
        raise typer.Exit(2)

    engine = create_database_engine(settings.resolved_database_url)
    if run_migrations:
        migrations.upgrade(engine)
    elif migrations.current_revision(engine) != migrations.head_revision():
        typer.echo("The database schema is not current: run 'ebling migrate' first.", err=True)
        raise typer.Exit(2)
    _bootstrap_admin_key(settings, engine)
    if settings.auth is AuthMode.SIMPLE:
        _bootstrap_admin_login(settings, engine)
    engine.dispose()

    uvicorn.run(
        "ebling.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        proxy_headers=True,
    )


def _bootstrap_admin_key(settings: Settings, engine: object) -> None:
    # Like Airflow's simple auth manager, the first start makes a credential and says where
    # it is, so a new install can be used without reading the docs first.
    sessions = session_factory(engine)  # type: ignore[arg-type]
    with sessions() as session:
        session.connection(execution_options=WRITE)
        if session.scalar(select(func.count()).select_from(ApiKey)):
            return
        created = create_api_key(
            session, name="bootstrap admin", roles=[Role.ADMIN], created_by="ebling serve"
        )
        session.commit()
    key_file = settings.home / BOOTSTRAP_KEY_FILE
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.touch(mode=0o600)
    key_file.write_text(created.token + "\n")
    typer.echo(
        f"Created an admin API key (shown once, also saved to {key_file}):\n  {created.token}",
        err=True,
    )


def _bootstrap_admin_login(settings: Settings, engine: object) -> None:
    # The same for people: an admin who signs in with a password, generated at first start.
    sessions = session_factory(engine)  # type: ignore[arg-type]
    with sessions() as session:
        session.connection(execution_options=WRITE)
        created = create_admin_account(session)
        session.commit()
    if created is None:
        return
    path = save_password_file(settings.home, created.password)
    typer.echo(
        f"Created the admin sign-in (user '{created.account.username}'); its password is shown "
        f"once, also saved to {path}:\n  {created.password}",
        err=True,
    )


@admin_password_app.command("reset")
def admin_password_reset() -> None:
    """Give the admin a new generated password; signed-in sessions end at once."""
    settings = _settings()
    engine = create_database_engine(settings.resolved_database_url)
    with session_factory(engine)() as session:
        session.connection(execution_options=WRITE)
        # Before the first 'serve' there is no account yet: then this creates it.
        changed = create_admin_account(session) or reset_password(session)
        session.commit()
    engine.dispose()
    path = save_password_file(settings.home, changed.password)
    typer.echo(f"New admin password (shown once, also saved to {path}):", err=True)
    typer.echo(changed.password)


@api_key_app.command("create")
def api_key_create(
    name: Annotated[str, typer.Option(help="What the key is for.")],
    role: Annotated[list[Role], typer.Option(help="A role; repeat for several.")],
    expires_in_days: Annotated[
        int | None, typer.Option(min=1, help="Days until the key stops working.")
    ] = None,
) -> None:
    """Create an API key and print it; it is shown this once."""
    settings = _settings()
    engine = create_database_engine(settings.resolved_database_url)
    expires_at = None
    if expires_in_days is not None:
        expires_at = datetime.now(UTC) + timedelta(days=expires_in_days)
    with session_factory(engine)() as session:
        session.connection(execution_options=WRITE)
        created = create_api_key(
            session,
            name=name,
            roles=role,
            expires_at=expires_at,
            created_by=f"cli:{os.environ.get('USER', 'unknown')}",
        )
        session.commit()
    engine.dispose()
    typer.echo(
        f"Created API key {created.record.id} ({name}). Store it now; it is not shown again:",
        err=True,
    )
    typer.echo(created.token)


@api_key_app.command("list")
def api_key_list() -> None:
    """List API keys (never their secrets)."""
    settings = _settings()
    engine = create_database_engine(settings.resolved_database_url)
    with session_factory(engine)() as session:
        keys = list(session.scalars(select(ApiKey).order_by(ApiKey.id)))
    engine.dispose()
    typer.echo(f"{'ID':>4}  {'PREFIX':<12}  {'ROLES':<24}  {'STATUS':<8}  NAME")
    now = datetime.now(UTC)
    for key in keys:
        if key.revoked_at:
            status = "revoked"
        elif key.expires_at and key.expires_at <= now:
            status = "expired"
        else:
            status = "active"
        roles = ",".join(key.roles)
        typer.echo(f"{key.id:>4}  {key.prefix:<12}  {roles:<24}  {status:<8}  {key.name}")


@api_key_app.command("revoke")
def api_key_revoke(
    key_id: Annotated[int, typer.Argument(help="The key's ID from 'list'.")],
) -> None:
    """Revoke an API key; requests with it fail from now on."""
    settings = _settings()
    engine = create_database_engine(settings.resolved_database_url)
    with session_factory(engine)() as session:
        session.connection(execution_options=WRITE)
        try:
            revoke_api_key(session, key_id)
        except ApiKeyNotFound as error:
            typer.echo(f"{error}; 'ebling api-key list' shows the ids.", err=True)
            raise typer.Exit(1) from error
        session.commit()
    engine.dispose()
    typer.echo(f"Revoked API key {key_id}.")


def main() -> None:
    """Entry point for ``python -m ebling``."""
    app(prog_name="ebling")


if __name__ == "__main__":
    main()
