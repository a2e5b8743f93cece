"""Command groups whose commands live in other modules and load only when one of them runs or
its own help is shown. A group's help lists them by their help lines alone, so `--help` starts
in a fraction of a second whatever the commands import."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, ClassVar

import typer
from typer.core import TyperCommand, TyperGroup

_LISTING = "agentladder.listing_commands"


@dataclass(frozen=True)
class LazyCommand:
    """A command or group that lives in another module, loaded on first use."""

    target: str  # module:attribute, a Typer app or a command function
    help: str  # what the group's help lists; a test checks it matches the loaded command

    def load(self, name: str) -> Any:
        """The Click command the target defines."""
        module_name, attribute = self.target.split(":")
        loaded = getattr(importlib.import_module(module_name), attribute)
        # Mounted as add_typer/command would: no completion options of its own.
        holder = typer.Typer(add_completion=False)
        if isinstance(loaded, typer.Typer):
            holder.add_typer(loaded, name=name)
            group = typer.main.get_command(holder)
            assert isinstance(group, TyperGroup)
            return group.commands[name]
        holder.command(name)(loaded)
        return typer.main.get_command(holder)


class LazyGroup(TyperGroup):
    """A group that loads its `lazy_commands` on demand (see `lazy_group`)."""

    lazy_commands: ClassVar[dict[str, LazyCommand]] = {}

    def list_commands(self, ctx: Any) -> list[str]:
        return [
            *super().list_commands(ctx),
            *(name for name in self.lazy_commands if name not in self.commands),
        ]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        lazy = self.lazy_commands.get(cmd_name)
        if lazy is not None and cmd_name not in self.commands:
            if ctx.meta.get(_LISTING):
                # Listing the group's commands needs only their names and help lines.
                return TyperCommand(cmd_name, help=lazy.help)
            self.commands[cmd_name] = lazy.load(cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        ctx.meta[_LISTING] = True
        try:
            super().format_help(ctx, formatter)
        finally:
            ctx.meta.pop(_LISTING, None)


def lazy_group(commands: dict[str, LazyCommand]) -> type[LazyGroup]:
    """A group class (Typer's `cls=`) with these commands loaded on demand."""
    return type("LazyGroup", (LazyGroup,), {"lazy_commands": commands})


def load_all_commands(group: Any) -> Any:
    """The group with every lazy command under it loaded (for documentation and tests)."""
    context = typer.Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        if isinstance(command, TyperGroup):
            load_all_commands(command)
    return group
