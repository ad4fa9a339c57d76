"""The `reeldocs` command: one module per group of subcommands."""

from __future__ import annotations

from reeldocs.cli import jobs, orgs, process, serve, tokens, users
from reeldocs.cli.output import Commands
from reeldocs.core.private_files import use_private_umask

app = Commands(
    help="Reeldocs: turn product and tutorial videos into documentation.", no_args_is_help=True
)


@app.callback()
def _every_command() -> None:
    # Before anything is created: the data directory is for Reeldocs alone.
    use_private_umask()


app.command("process")(process.process)
app.command("serve")(serve.serve)
app.command("worker")(serve.worker)
app.command("migrate")(serve.migrate_command)
app.add_typer(users.app, name="users")
app.add_typer(tokens.app, name="tokens")
app.add_typer(orgs.app, name="orgs")
app.add_typer(jobs.app, name="jobs")


def main() -> None:
    app(prog_name="reeldocs")
