"""Commands of the web app: serve, users, keys, share, survey-link."""

from __future__ import annotations

import click

from ..store.appdb import AppDB
from ..store.users import (
    KEY_SCOPES,
    ROLES,
    add_user,
    create_key,
    list_keys,
    list_users,
    remove_user,
    revoke_key,
    sign_token,
)
from .context import workspace_of
from .output import emit, format_option

__all__ = ["register"]


def _db(ctx: click.Context) -> AppDB:
    return AppDB.of_workspace(workspace_of(ctx))


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Serve the web app and the HTTP API (with /openapi.json) of the workspace.

    On first start an admin user is created and its password printed once.
    """
    from ..web import serve as run

    run(workspace_of(ctx), host=host, port=port, echo=click.echo)


@click.group()
def users() -> None:
    """Users of the web app (roles: viewer, editor, admin)."""


@users.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), default="viewer", show_default=True)
@click.option("--password", help="The password (default: a generated one, printed once).")
@click.pass_context
def users_add(ctx: click.Context, username: str, role: str, password: str | None) -> None:
    """Add a user; prints the password once."""
    pw = add_user(_db(ctx), username, role=role, password=password)
    click.echo(f"Added {username} ({role}). Password: {pw}")


@users.command("list")
@format_option
@click.pass_context
def users_list(ctx: click.Context, fmt: str) -> None:
    """List the users and their roles."""
    emit([u.to_dict() for u in list_users(_db(ctx))], fmt, title="Users")


@users.command("remove")
@click.argument("username")
@click.pass_context
def users_remove(ctx: click.Context, username: str) -> None:
    """Remove a user and end their sessions."""
    remove_user(_db(ctx), username)
    click.echo(f"Removed {username}.")


@click.group()
def keys() -> None:
    """API keys (scopes: read, write, admin, collect)."""


@keys.command("create")
@click.argument("name")
@click.option("--scope", type=click.Choice(KEY_SCOPES), default="read", show_default=True)
@click.option("--origin", "origins", multiple=True, help="collect keys: an allowed web origin.")
@click.option(
    "--rate",
    "rate_per_minute",
    default=60,
    show_default=True,
    type=int,
    help="Requests per minute (collect keys).",
)
@click.pass_context
def keys_create(
    ctx: click.Context, name: str, scope: str, origins: tuple[str, ...], rate_per_minute: int
) -> None:
    """Create an API key; prints the secret once."""
    secret, key = create_key(
        _db(ctx),
        name,
        scope=scope,
        origins=list(origins),
        rate_per_minute=rate_per_minute,
        created_by="cli",
    )
    click.echo(f"Created key {key.key_id} ({scope}). Secret (shown once): {secret}")


@keys.command("list")
@format_option
@click.pass_context
def keys_list(ctx: click.Context, fmt: str) -> None:
    """List the API keys (never their secrets)."""
    emit([k.to_dict() for k in list_keys(_db(ctx))], fmt, title="API keys")


@keys.command("revoke")
@click.argument("key_id")
@click.pass_context
def keys_revoke(ctx: click.Context, key_id: str) -> None:
    """Revoke an API key."""
    revoke_key(_db(ctx), key_id)
    click.echo(f"Revoked {key_id}.")


@click.command()
@click.argument("journey_id")
@click.option("--days", default=30.0, show_default=True, help="How long the link is valid.")
@click.option("--base-url", default="http://127.0.0.1:8000", show_default=True)
@click.pass_context
def share(ctx: click.Context, journey_id: str, days: float, base_url: str) -> None:
    """Print a read-only share link to a journey's map."""
    ws = workspace_of(ctx)
    ws.journey(journey_id)
    token = sign_token(AppDB.of_workspace(ws).secret(), "share", {"j": journey_id}, valid_days=days)
    click.echo(f"{base_url.rstrip('/')}/share/{token}")


@click.command("survey-link")
@click.argument("journey_id")
@click.argument("touchpoint_id")
@click.argument("customer_id")
@click.option("--days", default=30.0, show_default=True, help="How long the link is valid.")
@click.option("--base-url", default="http://127.0.0.1:8000", show_default=True)
@click.pass_context
def survey_link(
    ctx: click.Context,
    journey_id: str,
    touchpoint_id: str,
    customer_id: str,
    days: float,
    base_url: str,
) -> None:
    """Print a signed survey link for an e-mail (carries the customer id; cannot be forged)."""
    ws = workspace_of(ctx)
    try:
        ws.journey(journey_id).touchpoint(touchpoint_id)
    except KeyError as exc:
        from ..errors import NotFound

        raise NotFound(str(exc.args[0])) from None
    token = sign_token(
        AppDB.of_workspace(ws).secret(),
        "survey",
        {"j": journey_id, "t": touchpoint_id, "c": customer_id},
        valid_days=days,
    )
    click.echo(f"{base_url.rstrip('/')}/survey-link/{token}")


def register(group: click.Group) -> None:
    for command in (serve, users, keys, share, survey_link):
        group.add_command(command)
