"""The CLI reference, made at build time from the Click commands themselves.

An MkDocs hook (mkdocs.yml `hooks:`): reference/cli.md says where the reference goes with the
line CLI_MARKER, replaced by a section per command, `kensaku` and then each of its commands in
the order `kensaku --help` lists them: the command's help as prose, the blocks Click prints
as written (a paragraph starting with a \\b line: examples, exit statuses) as text blocks, then
its usage and options exactly as `--help` prints them. (mkdocs-click does much the same but
runs such blocks together into one paragraph, and prints Click 8.3's Sentinel.UNSET as a
default.)
"""

from __future__ import annotations

import html
import inspect
from typing import Any

import click

PAGE = "reference/cli.md"
CLI_MARKER = "[kensaku --help]"
PROGRAM = "kensaku"
WIDTH = 78  # the columns Click lays the options out in: a code block's width on the site
NO_REWRAP = "\b"


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if page.file.src_uri != PAGE:
        return markdown
    if CLI_MARKER not in markdown:
        raise ValueError(f"{PAGE} has no line {CLI_MARKER} to put the reference in")
    from search.cli.main import main

    return markdown.replace(CLI_MARKER, "\n".join(cli_reference(main)))


def cli_reference(group: click.Group) -> list[str]:
    """Markdown lines: a section for `group` and one for each of its visible commands."""
    root = click.Context(
        group,
        info_name=PROGRAM,
        terminal_width=WIDTH,
        max_content_width=WIDTH,
        **group.context_settings,
    )
    lines = _section(root)
    for name in group.list_commands(root):
        command = group.get_command(root, name)
        if command is not None and not command.hidden:
            context = click.Context(command, root, name, **command.context_settings)
            lines += _section(context)
    return lines


def _section(ctx: click.Context) -> list[str]:
    """A command's heading, its help, and its usage and options as `--help` prints them."""
    path = ctx.command_path
    anchor = path.replace(" ", "-")
    lines = [f"## {path} {{#{anchor}}}", ""]
    lines += _help(ctx.command.help or ctx.command.short_help or "")
    formatter = ctx.make_formatter()
    ctx.command.format_usage(ctx, formatter)
    ctx.command.format_options(ctx, formatter)
    lines += ["```text", formatter.getvalue().rstrip("\n"), "```", ""]
    return lines


def _help(text: str) -> list[str]:
    """The help as Markdown: its paragraphs as HTML-escaped prose (it is plain text, not
    Markdown), the blocks Click does not rewrap as text blocks; nothing after \\f (Click's cut)."""
    text = inspect.cleandoc(text.split("\f", 1)[0])
    lines: list[str] = []
    for paragraph in text.split("\n\n"):
        rows = paragraph.splitlines()
        if not rows:
            continue
        if rows[0].strip() == NO_REWRAP:
            lines += ["```text", *rows[1:], "```", ""]
        else:
            prose = " ".join(row.strip() for row in rows)
            lines += [f"<p>{html.escape(prose, quote=False)}</p>", ""]
    return lines
