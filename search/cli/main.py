"""CLI: the `kensaku` command. It parses options, calls the library and prints; nothing more.

Commands: `search`, `index`, `status`, `documents`, `serve`, `mcp`. Exit status as grep's:
0 found (or done), 1 no hit (or an error such as a damaged index), 2 bad usage or a bad query,
130 interrupted.
Every option may also come from the config file (see config), and some from the environment:
option > environment > config file > default. What prints results is output.py.
"""

from __future__ import annotations

import os
import signal
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

import click

from search.cli.config import COLORS, MODES, Config, first_given, load_config
from search.cli.output import counted
from search.errors import DocumentsNotFound, KensakuError
from search.index.build import DEFAULT_DOCS_DIR
from search.index.directory import DEFAULT_INDEX_DIR, MANIFEST_NAME
from search.ingest.discovery import Rules
from search.ingest.reporting import BuildReport, IndexSummary
from search.query.filters import SORTS

EXIT_NO_HIT = 1


class Narrowing(NamedTuple):
    """The filters and the order a search's options give (search.query.filters)."""

    filters: Any
    sort: str


EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a command stopped by Ctrl-C
# Set by run(): the command line is this process's own, so a finished search may end it at once.
_OWN_PROCESS = False


class _Group(click.Group):
    """Turns library errors, OS errors and usage errors (which Click shows with the usage text
    above them) into one line, `Error: …`, and an exit code; Ctrl-C into exit status 130."""

    def parse_args(self, ctx, args):
        try:
            return super().parse_args(ctx, args)
        except click.exceptions.NoArgsIsHelpError:
            raise  # bare `kensaku`: the help, on stderr, exit status 2
        except click.UsageError as error:
            raise _one_line(error) from None

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except click.UsageError as error:
            raise _one_line(error) from None
        except KensakuError as error:
            raise _click_error(str(error), error.exit_code) from None
        except OSError as error:
            place = f": {error.filename}" if error.filename else ""
            raise _click_error(f"{error.strerror or error}{place}", 1) from None
        except KeyboardInterrupt:
            # Nothing is left half-written: a build removes its unfinished generation.
            if _is_terminal(sys.stderr):
                click.echo(err=True)  # after the terminal's ^C
            raise click.exceptions.Exit(EXIT_INTERRUPTED) from None


class _QueryCommand(click.Command):
    """A command whose query words may start with "-" (-韓国 leaves out 韓国): a token that starts
    with one "-" and names none of the command's options is a query word, as is every token
    after "--"."""

    def parse_args(self, ctx, args):
        if not ctx.resilient_parsing:  # shell completion reads the words as typed
            args = words_after_options(args, self.get_params(ctx), ctx)
        return super().parse_args(ctx, args)


def words_after_options(args: list[str], params, ctx: click.Context | None = None) -> list[str]:
    """`args` reordered as options, "--", query words, so that Click takes no word for an option."""
    takes_value = {
        name: not (param.is_flag or param.count)
        for param in params
        if isinstance(param, click.Option)
        for name in (*param.opts, *param.secondary_opts)
    }
    options: list[str] = []
    words: list[str] = []
    tokens = iter(args)
    for token in tokens:
        if token == "--":
            words += tokens
        elif token.startswith("--") or (token.startswith("-") and token[:2] in takes_value):
            options.append(token)
            if _value_follows(token, takes_value):
                value = next(tokens, None)
                if value is None:
                    raise click.UsageError(f"Option '{token}' requires an argument.", ctx)
                options.append(value)
        else:
            words.append(token)
    return options + ["--"] + words


def _value_follows(token: str, takes_value: dict[str, bool]) -> bool:
    """Whether an option (--limit, not --limit=5) or a cluster of short ones (-lc, -n5, -ln) ends
    in one that takes the next token as its value."""
    if token.startswith("--"):
        return "=" not in token and takes_value.get(token, False)
    for at, letter in enumerate(token[1:], start=1):
        if takes_value.get(f"-{letter}"):
            return at == len(token) - 1
    return False


def _one_line(error: click.UsageError) -> click.ClickException:
    help_hint = f" (see `{error.ctx.command_path} --help`)" if error.ctx else ""
    return _click_error(f"{error.format_message()}{help_hint}", error.exit_code)


def _click_error(message: str, exit_code: int) -> click.ClickException:
    error = click.ClickException(message)
    error.exit_code = exit_code  # type: ignore[misc]  # click sets it per class; ours per error
    return error


class _PathText(click.Path):
    """A path that may not be empty: Python reads "" as ".", the current directory."""

    def convert(self, value, param, ctx):
        if isinstance(value, str) and not value.strip():
            self.fail("must name a path, not an empty string", param, ctx)
        return super().convert(value, param, ctx)


docs_option = click.option(
    "--docs",
    "docs_dir",
    type=_PathText(path_type=Path),
    envvar="KENSAKU_DOCS",
    help="Documents folder: every .txt, .md, .html, .pdf, .docx and .epub file under it  "
    "[env KENSAKU_DOCS; config docs; default: the one the index was built from, "
    "else ./seeds]",
)
include_option = click.option(
    "--include",
    multiple=True,
    metavar="GLOB",
    help="Index only files matching GLOB (.gitignore syntax: *.pdf, reports/); repeatable.",
)
exclude_option = click.option(
    "--exclude",
    multiple=True,
    metavar="GLOB",
    help="Leave out files and folders matching GLOB (.gitignore syntax); repeatable.",
)
config_option = click.option(
    "--config",
    "config_file",
    type=_PathText(path_type=Path, dir_okay=False),
    envvar="KENSAKU_CONFIG",
    help="Settings file  [env KENSAKU_CONFIG; default ./kensaku.toml when present]",
)
index_option = click.option(
    "--index",
    "index_dir",
    type=_PathText(path_type=Path),
    envvar="KENSAKU_INDEX",
    help="Index directory  [env KENSAKU_INDEX; config index; default ./index]",
)
synonyms_option = click.option(
    "--synonyms",
    "synonyms_file",
    type=_PathText(path_type=Path, dir_okay=False),
    envvar="KENSAKU_SYNONYMS",
    help="A synonyms file in Solr format  [env KENSAKU_SYNONYMS; config synonyms]",
)
sudachi_synonyms_option = click.option(
    "--sudachi-synonyms/--no-sudachi-synonyms",
    default=None,
    help="Also find words of the same Sudachi synonym group (米国 finds アメリカ)  "
    "[config sudachi_synonyms]",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")


def _cluster_address(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    from search.cluster.connection import ClusterError, checked_address

    try:
        return checked_address(value)
    except ClusterError as error:
        raise click.BadParameter(str(error)) from None


cluster_option = click.option(
    "--cluster",
    metavar="ADDRESS",
    envvar="KENSAKU_CLUSTER",
    callback=_cluster_address,
    help="Run on a Ray cluster: local (start one here), auto (the one this machine belongs to) "
    "or ray://HOST:10001; needs pip install 'kensaku[cluster]', and documents and index on a "
    "filesystem every node sees  [env KENSAKU_CLUSTER; config cluster]",
)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kensaku")
def main() -> None:
    """kensaku: Japanese full-text search over a folder of documents (text, Markdown, HTML, PDF,
    Word, EPUB), with every hit cited by file and line.

    \b
    Examples:
      kensaku search ピラー2                 search ./seeds (or --docs DIR)
      kensaku search --docs ~/資料 日米同盟  search another folder
      kensaku index --docs ~/資料            index a folder, or update it
      kensaku status                         what the index holds
      kensaku documents                      the documents it holds

    Settings: an option wins over its environment variable (KENSAKU_DOCS, KENSAKU_INDEX,
    KENSAKU_SYNONYMS, KENSAKU_CONFIG), which wins over kensaku.toml. Set KENSAKU_INDEX (and
    KENSAKU_DOCS) to search one index from any folder.

    \b
    Exit status: 0 found (or done), 1 no hit, 2 bad usage or query,
    130 interrupted; 1 also for an error such as a damaged index.

    \b
    Completion: eval "$(_KENSAKU_COMPLETE=bash_source kensaku)" in ~/.bashrc
    (zsh_source in ~/.zshrc; fish: _KENSAKU_COMPLETE=fish_source kensaku | source).
    """
    # Piped into `head`, stop quietly as other command-line tools do.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)


@main.command("index", short_help="Build the index, or bring it up to date.")
@docs_option
@index_option
@click.option("--rebuild", is_flag=True, help="Build the whole index anew.")
@click.option(
    "--shards",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Split the index into N shards (runs of documents balanced by bytes), searched as one "
    "index; a sharded index stays so, with as many shards, without it.",
)
@cluster_option
@include_option
@exclude_option
@config_option
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="List the files (and folders) skipped, left out by the rules, or in other formats.",
)
def index_command(
    docs_dir: Path | None,
    index_dir: Path | None,
    rebuild: bool,
    shards: int | None,
    cluster: str | None,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    config_file: Path | None,
    verbose: bool,
) -> None:
    """Build the index of the documents, or bring it up to date: only files added, changed or
    removed since it was built are indexed again. A damaged index is built anew.

    \b
    Examples:
      kensaku index --docs ~/資料  index a folder (into ./index)
      kensaku index               update it: the folder is remembered
      kensaku index --rebuild -v  anew, listing the files left out
      kensaku index --include '*.pdf' --exclude drafts/
      KENSAKU_INDEX=~/.cache/kensaku kensaku index --docs ~/資料
      kensaku index --docs /shared/archive --shards 8 --cluster auto
    """
    from search.service.indexing import build_index, recorded_docs_dir, update_index

    config = load_config(config_file)
    index_dir = first_given(index_dir, config.index, DEFAULT_INDEX_DIR)
    docs_dir = _documents_folder(first_given(docs_dir, config.docs), index_dir)
    if docs_dir is None:
        docs_dir = recorded_docs_dir(index_dir) or DEFAULT_DOCS_DIR
    rules = _rules(include, exclude, config)
    build = build_index if rebuild else update_index
    cluster = first_given(cluster, config.cluster)
    summary = _building(
        index_dir,
        lambda progress: build(
            docs_dir,
            index_dir,
            rules=rules,
            report=BuildReport(progress=progress, warn=_warn),
            shards=shards,
            cluster=cluster,
        ),
    )
    click.echo(_summary_line(summary))
    if verbose:
        for line in _file_list(summary):
            click.echo(line)


def _documents_folder(docs_dir: Path | None, index_dir: Path) -> Path | None:
    """`docs_dir`; None when it is not given but known (the index's, or ./seeds). Refuses to go
    on with no folder at all, saying how to name one."""
    if (
        docs_dir is None
        and not (index_dir / MANIFEST_NAME).exists()
        and not DEFAULT_DOCS_DIR.is_dir()
    ):
        raise DocumentsNotFound(
            f"no index in {index_dir} yet, and no documents folder to build "
            "it from: name one with --docs DIR (or KENSAKU_DOCS, or docs in "
            "kensaku.toml)"
        )
    return docs_dir


def _rules(include: tuple[str, ...], exclude: tuple[str, ...], config: Config) -> Rules | None:
    """The rules given as options, else in the config file; None (the index's own) for neither."""
    include, exclude = include or config.include, exclude or config.exclude
    return Rules(include, exclude) if include or exclude else None


@main.command(
    "search", cls=_QueryCommand, short_help="Search the documents, indexing them first when needed."
)
@click.argument("query", nargs=-1, required=True)
@docs_option
@index_option
@click.option(
    "-n",
    "--limit",
    type=click.IntRange(min=1),
    default=None,
    help="How many hits to show  [config limit; default 10]",
)
@click.option(
    "--offset",
    type=click.IntRange(min=0),
    default=0,
    help="Skip the first N hits: --offset 10 shows the second page of 10.",
)
@json_option
@click.option(
    "--vimgrep",
    is_flag=True,
    help="Print path:line:column:snippet, a line a place, for an editor's quickfix "
    "list (vim -q, VS Code, Emacs grep-mode).",
)
@click.option(
    "-l",
    "--files-with-matches",
    is_flag=True,
    help="Print only the path of each document with a match, best first.",
)
@click.option(
    "-c",
    "--count",
    is_flag=True,
    help="Print path:count for each document with a match, best first.",
)
@click.option(
    "--color",
    type=click.Choice(COLORS),
    default=None,
    help="Colour the output: auto (on a terminal, unless NO_COLOR is set), always "
    "(for less -R), never  [config color]",
)
@click.option(
    "--scores",
    is_flag=True,
    help="Show each hit's score (its rank's reason: tiers and BM25; --json always has it).",
)
@click.option(
    "--mode",
    type=click.Choice(MODES),
    default=None,
    help="keyword: the query syntax; question: any content word, ranked by BM25; "
    "auto (default): question for sentences, keyword otherwise  [config mode]",
)
@click.option(
    "-t",
    "--type",
    "formats",
    multiple=True,
    metavar="FORMAT",
    help="Only documents of this format: pdf, docx, html, epub, markdown (md), text (txt); "
    "repeatable, as format:FORMAT in the query.",
)
@click.option(
    "-T",
    "--type-not",
    "not_formats",
    multiple=True,
    metavar="FORMAT",
    help="Leave out documents of this format; repeatable, as -format:FORMAT.",
)
@click.option(
    "-g",
    "--glob",
    "globs",
    multiple=True,
    metavar="GLOB",
    help="Only documents whose path from the documents folder is this folder or file, or "
    "matches this glob (.gitignore syntax: '報告書/2024', '*.pdf'); '!GLOB' leaves them out; "
    "repeatable, as path:GLOB.",
)
@click.option(
    "--after",
    metavar="DATE",
    help="Only documents dated on or after DATE (YYYY, YYYY-MM or YYYY-MM-DD): their own date, "
    "else their file's modification time; as after:DATE.",
)
@click.option(
    "--before",
    metavar="DATE",
    help="Only documents dated before DATE (before:2024-07: June at the latest); as before:DATE.",
)
@click.option(
    "--sort",
    type=click.Choice(SORTS),
    default="relevance",
    show_default=True,
    help="Order of the hits: best first, or by the documents' date, newest first.",
)
@synonyms_option
@sudachi_synonyms_option
@cluster_option
@include_option
@exclude_option
@config_option
@click.pass_context
def search_command(
    ctx: click.Context,
    query: tuple[str, ...],
    docs_dir: Path | None,
    index_dir: Path | None,
    limit: int | None,
    offset: int,
    as_json: bool,
    vimgrep: bool,
    files_with_matches: bool,
    count: bool,
    color: str | None,
    scores: bool,
    mode: str | None,
    formats: tuple[str, ...],
    not_formats: tuple[str, ...],
    globs: tuple[str, ...],
    after: str | None,
    before: str | None,
    sort: str,
    synonyms_file: Path | None,
    sudachi_synonyms: bool | None,
    cluster: str | None,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    config_file: Path | None,
) -> None:
    """Search the documents for QUERY; build or refresh the index first when needed.

    \b
    Query syntax:
      ピラー2 韓国               both: words apart must all match
      ピラー2                    a phrase: a run without spaces
      ピラー1 OR ピラー2         either
      ピラー2 -韓国              not 韓国 (also: ピラー2 NOT 韓国)
      "日米 同盟"                a quoted phrase, spaces and all
      (ピラー1 OR ピラー2) 韓国  grouping
      ピラー2 source:001         in files (or folders) whose name starts with 001
      source:"議事録 4月.docx"   a name with spaces; source:*.pdf, source:報告/2024
      日本の首都はどこか。       a question: any of its words, ranked

    \b
    Filters (anywhere in the query, with any query; a leading - leaves out):
      ピラー2 format:pdf         only PDFs (also format:pdf,docx; -t pdf)
      ピラー2 path:報告書/2024   only in that folder (a glob: path:'*/議事録*'; -g)
      ピラー2 after:2024-01-01   dated on or after (YYYY, YYYY-MM, YYYY-MM-DD)
      ピラー2 before:2024-07     dated before July 2024
      format:pdf after:2024      every paragraph of the PDFs of 2024 on

    A query word may start with "-", except the options -n, -l, -c, -t, -T, -g and -h: after "--", every
    word is part of the query (kensaku search -- ピラー2 -c). A QUERY of "-" is read from
    standard input.

    \b
    Examples:
      kensaku search ピラー2
      kensaku search -n 20 --offset 20 ピラー2  the second page of 20
      kensaku search --vimgrep ピラー2 > hits   then: vim -q hits
      kensaku search -l 統合作戦司令部          the documents with a match
      kensaku search -t pdf --sort date 予算     PDFs only, newest first
      kensaku search -l -g '報告書/*' after:2024  files of 2024 on in 報告書
      kensaku search --json ピラー2 | jq -r '.hits[].path'
      kensaku search --color=always 日米 | less -R
      echo ピラー2 | kensaku search -           the query from standard input

    \b
    Exit status: 0 hits found, 1 no hit, 2 bad usage or query,
    130 interrupted; 1 also for a damaged index (kensaku index --rebuild).
    """
    from search.service.searcher import DEFAULT_LIMIT

    config = load_config(config_file)
    chosen = [
        flag
        for flag, wanted in (
            ("--json", as_json),
            ("--vimgrep", vimgrep),
            ("-l", files_with_matches),
            ("-c", count),
        )
        if wanted
    ]
    if len(chosen) > 1:
        raise click.UsageError(f"{' and '.join(chosen)} cannot go together: choose one output", ctx)
    text = _query_text(query)
    index_dir = first_given(index_dir, config.index, DEFAULT_INDEX_DIR)
    docs_dir = _documents_folder(first_given(docs_dir, config.docs), index_dir)
    cluster = first_given(cluster, config.cluster)
    _ensure_index(docs_dir, index_dir, _rules(include, exclude, config), cluster)
    use_color = _use_color(first_given(color, config.color, "auto"))
    narrowing = _narrowing(formats, not_formats, globs, after, before, sort)
    found = _search_and_print(
        text,
        index_dir,
        cluster,
        narrowing,
        limit=first_given(limit, config.limit, DEFAULT_LIMIT),
        offset=offset,
        mode=first_given(mode, config.mode, "auto"),
        output=chosen[0] if chosen else None,
        color=use_color,
        scores=scores,
        synonyms_file=first_given(synonyms_file, config.synonyms),
        sudachi_synonyms=first_given(sudachi_synonyms, config.sudachi_synonyms, False),
    )
    code = 0 if found else EXIT_NO_HIT
    if _OWN_PROCESS and _nothing_left_to_finish():
        _exit_at_once(code)
    ctx.exit(code)


def _narrowing(
    formats: tuple[str, ...],
    not_formats: tuple[str, ...],
    globs: tuple[str, ...],
    after: str | None,
    before: str | None,
    sort: str,
):
    """The options' filters and sort (read before the index is: a bad date is a usage error)."""
    from search.errors import QuerySyntaxError
    from search.query.filters import Filters

    try:
        filters = Filters.of(
            formats + tuple(f"!{name}" for name in not_formats), globs, after, before
        )
    except QuerySyntaxError as error:
        raise click.UsageError(str(error)) from None
    return Narrowing(filters, sort)


def _query_text(words: tuple[str, ...]) -> str:
    """The query: the words joined by spaces, a word "-" replaced by standard input."""
    if "-" in words:
        piped = " ".join(sys.stdin.read().split())
        words = tuple(piped if word == "-" else word for word in words)
    return " ".join(words)


def _ensure_index(
    docs_dir: Path | None, index_dir: Path, rules: Rules | None, cluster: str | None
) -> None:
    """Build or update the index as needed, saying so on stderr."""
    from search.service.indexing import ensure_index

    summary = _building(
        index_dir,
        lambda progress: ensure_index(
            docs_dir,
            index_dir,
            rules=rules,
            report=BuildReport(progress=progress, warn=_warn, notify=_warn),
            cluster=cluster,
        ),
    )
    if summary is not None:
        _warn(_summary_line(summary))


def _search_and_print(
    text: str,
    index_dir: Path,
    cluster: str | None,
    narrowing: Narrowing,
    limit: int,
    offset: int,
    mode: str,
    output: str | None,
    color: bool,
    scores: bool,
    synonyms_file: Path | None,
    sudachi_synonyms: bool,
) -> bool:
    """Run the query and print the results as `output` (--json, --vimgrep, -l, -c; None for
    text); whether anything was found."""
    from search.cli import output as out
    from search.service.searcher import Searcher

    filters, sort = narrowing
    with Searcher(index_dir, synonyms_file, sudachi_synonyms, cluster=cluster) as searcher:
        path_of = out.path_maker(searcher.docs_dir)
        if output in ("-l", "-c"):
            by_source = searcher.sources(text, mode, filters, sort)
            lister = out.files if output == "-l" else out.counts
            _echo_lines(lister(by_source, path_of, color), color)
            return bool(by_source)
        as_json = output == "--json"
        results = searcher.search(text, limit, mode, offset, filters, sort, facets=as_json)
        if as_json:
            click.echo(out.as_json(results, path_of))
        elif output == "--vimgrep":
            _echo_lines(out.vimgrep(results, path_of, searcher.line_before, color), color)
        else:
            width = _terminal_width()
            _echo_lines(out.text(results, path_of, color, width, scores), color)
        return bool(results.hits)


def _echo_lines(lines, color: bool) -> None:
    for line in lines:
        click.echo(line, color=color)


def _terminal_width() -> int | None:
    from search.cli.terminal import width

    return width() if _is_terminal(sys.stdout) else None


def _is_terminal(stream) -> bool:
    """Whether `stream` is a terminal (None: the process was started with it closed)."""
    return stream is not None and stream.isatty()


def _use_color(choice: str) -> bool:
    if choice != "auto":
        return choice == "always"
    return (
        _is_terminal(sys.stdout)
        and not os.environ.get("NO_COLOR")
        and os.environ.get("TERM") != "dumb"
    )


@main.command("status", short_help="What the index holds, and whether it is up to date.")
@index_option
@config_option
@json_option
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="List the files skipped, left out by the rules, or in other formats, and "
    "those changed since the index was built.",
)
@click.pass_context
def status_command(
    ctx: click.Context,
    index_dir: Path | None,
    config_file: Path | None,
    as_json: bool,
    verbose: bool,
) -> None:
    """Show what the index holds and how it stands: its documents folder, documents and
    paragraphs, the files it skipped and why, its size on disk, when it was built and updated,
    and whether the documents changed since. Exit status 1 when the index is damaged.

    \b
    Examples:
      kensaku status
      kensaku status -v --index ~/.cache/kensaku
      kensaku status --json | jq .paragraphs
    """
    import json

    from search.service.status import index_status

    config = load_config(config_file)
    status = index_status(first_given(index_dir, config.index, DEFAULT_INDEX_DIR))
    if as_json:
        click.echo(json.dumps(status.to_dict(), ensure_ascii=False, indent=2))
    else:
        for line in _status_lines(status, verbose):
            click.echo(line)
    if status.problem:
        ctx.exit(1)


def _status_lines(status, verbose: bool) -> list[str]:
    from search.cli.terminal import printable

    left_out = IndexSummary(
        skipped=status.skipped,
        ignored=status.ignored,
        other_formats=status.other_formats,
        unreadable_folders=status.unreadable_folders,
        unread=status.unread,
    )
    lines = [
        f"index      {status.index_dir} ({_size(status.size)} on disk, format {status.format})",
        f"documents  {status.docs_dir}",
        f"           {counted(status.documents, 'document')}, "
        f"{counted(status.paragraphs, 'paragraph')}{_left_out(left_out)}",
        f"words      cut by {status.analyzer_text}"
        if status.analyzer
        else "words      cut by versions not recorded (an index of an earlier kensaku)",
    ]
    rules = "; ".join(
        f"{kind} {' '.join(patterns)}"
        for kind, patterns in (("include", status.rules.include), ("exclude", status.rules.exclude))
        if patterns
    )
    if rules:
        lines.append(f"rules      {rules}")
    for label, moment in (("built", status.built), ("updated", status.updated)):
        if moment:
            lines.append(f"{label:<10} {moment:%Y-%m-%d %H:%M:%S} ({_ago(moment)})")
    if status.shards:
        lines.append(f"shards     {len(status.shards)}")
        lines += [
            f"{shard.name:<10} {counted(shard.documents, 'document')}, "
            f"{counted(shard.paragraphs, 'paragraph')}, {_size(shard.size)}"
            + (f", from {shard.first}" if shard.first else "")
            + (f"; damaged ({shard.problem})" if shard.problem else "")
            for shard in status.shards
        ]
    lines.append(f"state      {_state(status)}")
    if verbose:
        lines += _file_list(left_out) + [
            f"{label} {source}"
            for label, sources in (
                ("added", status.added),
                ("changed", status.changed),
                ("reread", status.reread),
                ("removed", status.removed),
            )
            for source in sources
        ]
    return [printable(line) for line in lines]


def _state(status) -> str:
    if status.problem:
        return (
            f"damaged ({status.problem}): `kensaku index --rebuild --index "
            f"{status.index_dir}` repairs it"
        )
    if status.analyzer_change:
        return f"to be built anew: {status.analyzer_change}; `kensaku index` (or the next search) does it"
    if not status.docs_found:
        return "the documents folder is gone: searches use the index as it is"
    if status.up_to_date:
        return "up to date"
    changes = ", ".join(
        f"{len(sources)} {label}"
        for label, sources in (
            ("added", status.added),
            ("changed", status.changed),
            ("removed", status.removed),
        )
        if sources
    )
    if status.reread:
        reread = f"{len(status.reread)} read with another version of a reader than installed now"
        return f"{', '.join(filter(None, [changes, reread]))}: `kensaku index` reads them again"
    return f"{changes} since: `kensaku index` (or the next search) updates it"


def _size(size: int) -> str:
    if size < 1000:
        return f"{size:,} bytes"
    scaled = float(size)
    for unit in ("kB", "MB", "GB"):
        scaled /= 1000
        if scaled < 1000 or unit == "GB":
            break
    return f"{scaled:.1f} {unit}"


def _ago(moment: datetime) -> str:
    seconds = (datetime.now(moment.tzinfo) - moment).total_seconds()
    for unit, length in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= length:
            return f"{counted(int(seconds // length), unit)} ago"
    return "just now"


@main.command("documents", short_help="List the documents the index holds.")
@index_option
@config_option
@json_option
@click.option(
    "-l",
    "--long",
    "long_format",
    is_flag=True,
    help="Also each document's paragraphs, size, modification time and title.",
)
def documents_command(
    index_dir: Path | None, config_file: Path | None, as_json: bool, long_format: bool
) -> None:
    """List the documents the index holds, by path (as you can open it from here).

    \b
    Examples:
      kensaku documents
      kensaku documents -l
      kensaku documents | grep 白書
      kensaku documents --json | jq '.[] | select(.paragraphs > 100) | .path'
    """
    import json

    from search.cli import output as out
    from search.cli.terminal import printable
    from search.service.indexing import recorded_docs_dir
    from search.service.status import indexed_documents

    config = load_config(config_file)
    index_dir = first_given(index_dir, config.index, DEFAULT_INDEX_DIR)
    documents = indexed_documents(index_dir)
    path_of = out.path_maker(recorded_docs_dir(index_dir) or Path("."))
    if as_json:
        click.echo(
            json.dumps(
                [
                    {**document.to_dict(), "path": path_of(document.source)}
                    for document in documents
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    for document in documents:
        path = printable(path_of(document.source))
        if not long_format:
            click.echo(path)
            continue
        title = (
            ""
            if out.is_file_name(document.title, document.source)
            else f"  {printable(document.title)}"
        )
        click.echo(
            f"{document.paragraphs:>7,} ¶  {_size(document.size):>9}  "
            f"{document.modified:%Y-%m-%d %H:%M}  {path}{title}"
        )


@main.command("serve")
@docs_option
@index_option
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; another machine can reach only a public one.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8080,
    show_default=True,
    help="Port to listen on (0: any free port).",
)
@click.option(
    "--refresh",
    type=click.FloatRange(min=0),
    default=10.0,
    show_default=True,
    help="Every this many seconds, update the index if the documents changed (0: never).",
)
@click.option(
    "--cors-origin",
    "cors_origins",
    multiple=True,
    help="An origin (https://portal.example) whose pages may call the API; repeatable. "
    "None by default.",
)
@synonyms_option
@sudachi_synonyms_option
@cluster_option
@include_option
@exclude_option
@config_option
def serve_command(
    docs_dir: Path | None,
    index_dir: Path | None,
    host: str,
    port: int,
    refresh: float,
    cors_origins: tuple[str, ...],
    synonyms_file: Path | None,
    sudachi_synonyms: bool | None,
    cluster: str | None,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    config_file: Path | None,
) -> None:
    """Serve a search page and a JSON API over HTTP until Ctrl-C.

    Builds or refreshes the index first when needed, then answers from it, following rebuilds
    and updates (its own when the documents change, or another `kensaku index`) without a restart.
    """
    config = load_config(config_file)
    index_dir = first_given(index_dir, config.index, DEFAULT_INDEX_DIR)
    docs_dir = _documents_folder(first_given(docs_dir, config.docs), index_dir)
    cluster = first_given(cluster, config.cluster)
    _ensure_index(docs_dir, index_dir, _rules(include, exclude, config), cluster)
    # FastAPI and uvicorn: only this command needs them
    from search.server.app import ServeSettings, serve

    settings = ServeSettings(
        index_dir,
        docs_dir,
        host,
        port,
        refresh,
        first_given(synonyms_file, config.synonyms),
        first_given(sudachi_synonyms, config.sudachi_synonyms, False),
        first_given(config.mode, "auto"),
        cors_origins,
        cluster,
    )
    serve(
        settings,
        say=_warn,
        announce=lambda url: click.echo(f"serving {url} (Ctrl-C stops)"),
    )


@main.command("mcp", short_help="Serve the index to AI assistants over MCP (stdio or HTTP).")
@docs_option
@index_option
@click.option(
    "--http",
    "over_http",
    is_flag=True,
    help="Serve streamable HTTP at http://HOST:PORT/mcp instead of stdio.",
)
@click.option(
    "--host",
    default=None,
    help="With --http: the address to listen on  [default: 127.0.0.1]",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=None,
    help="With --http: the port (0: any free port)  [default: 8765]",
)
@click.option(
    "--refresh",
    type=click.FloatRange(min=0),
    default=10.0,
    show_default=True,
    help="Every this many seconds, update the index if the documents changed (0: never).",
)
@synonyms_option
@sudachi_synonyms_option
@include_option
@exclude_option
@cluster_option
@config_option
@click.pass_context
def mcp_command(
    ctx: click.Context,
    docs_dir: Path | None,
    index_dir: Path | None,
    over_http: bool,
    host: str | None,
    port: int | None,
    refresh: float,
    synonyms_file: Path | None,
    sudachi_synonyms: bool | None,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    cluster: str | None,
    config_file: Path | None,
) -> None:
    """Serve the index to an AI assistant (Claude Desktop, VS Code, Cursor, any MCP client) over
    the Model Context Protocol: tools to search, read paragraphs to quote, list the documents and
    show the index's state, each answer cited by file and line; every document as a resource.

    Over stdio (what a desktop client starts) by default; with --http, over streamable HTTP.
    Builds or refreshes the index first when needed, then follows it as `kensaku serve` does.
    Needs the extra: pip install 'kensaku[mcp]'.

    \b
    Examples:
      kensaku mcp --docs ~/資料 --index ~/.cache/kensaku
      kensaku mcp --http --port 8765      then: http://127.0.0.1:8765/mcp
    """
    if not over_http and (host is not None or port is not None):
        raise click.UsageError("--host and --port go with --http", ctx)
    from search.mcp.server import serve  # the MCP SDK: only this command needs it

    config = load_config(config_file)
    index_dir = first_given(index_dir, config.index, DEFAULT_INDEX_DIR)
    docs_dir = _documents_folder(first_given(docs_dir, config.docs), index_dir)
    cluster = first_given(cluster, config.cluster)
    _ensure_index(docs_dir, index_dir, _rules(include, exclude, config), cluster)
    serve(
        index_dir,
        docs_dir,
        refresh,
        first_given(synonyms_file, config.synonyms),
        first_given(sudachi_synonyms, config.sudachi_synonyms, False),
        first_given(config.mode, "auto"),
        (first_given(host, "127.0.0.1"), first_given(port, 8765)) if over_http else None,
        say=_warn,
        announce=lambda url: click.echo(f"serving {url} (Ctrl-C stops)"),
        cluster=cluster,
    )


def run() -> None:
    """The `kensaku` command as a process of its own: the console script and `python -m search`
    (tests call `main` in their own process instead)."""
    global _OWN_PROCESS
    _OWN_PROCESS = True
    main(prog_name="kensaku")


def _nothing_left_to_finish() -> bool:
    """Whether this process has nothing to do at exit but free memory: no other thread running,
    and no build (whose multiprocessing registers an exit handler) run in it."""
    threading = sys.modules.get("threading")
    return (
        threading is None or threading.active_count() == 1
    ) and "multiprocessing" not in sys.modules


def _exit_at_once(code: int) -> None:
    """End the process with exit status `code`, its output flushed, without the interpreter's
    teardown: freeing the index's readers, Sudachi's dictionary and every module costs a cold
    `kensaku search` 10–20 ms, and the operating system frees it all at once."""
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:  # None: the process was started with it closed
            stream.flush()
    os._exit(code)


def _building(index_dir: Path, work):
    """`_with_progress(work)`, a build of the index in `index_dir`; Ctrl-C ends it with exit
    status 130, saying how the index stands (the build removes what it had begun)."""
    before = _manifest_identity(index_dir)
    try:
        return _with_progress(work)
    except KeyboardInterrupt:
        if _is_terminal(sys.stderr):
            sys.stderr.write("\r\x1b[K")  # the terminal's ^C
        if _manifest_identity(index_dir) == before:
            _warn(f"interrupted: the index in {index_dir} is left as it was")
        else:  # stopped after the new index went live, while old files were being removed
            _warn(f"interrupted once the index in {index_dir} was written: it is up to date")
        raise click.exceptions.Exit(EXIT_INTERRUPTED) from None


def _manifest_identity(index_dir: Path) -> tuple[int, int] | None:
    """What changes when a build makes a new index live (the manifest is replaced, a new inode):
    a stat, cheaper than reading it."""
    try:
        status = (index_dir / MANIFEST_NAME).stat()
    except OSError:
        return None
    return status.st_ino, status.st_mtime_ns


def _with_progress(work):
    """Call `work(progress)` with a progress line on stderr when it is a terminal."""
    if not _is_terminal(sys.stderr):
        return work(None)
    from search.cli.progress import ProgressLine
    from search.cli.terminal import width

    line = ProgressLine(sys.stderr, width())
    try:
        return work(line)
    finally:
        line.close()


def _summary_line(summary: IndexSummary) -> str:
    skipped = _left_out(summary)
    if not summary.incremental:
        if not summary.documents:
            return f"no document to index{skipped}: the index is empty"
        return (
            f"indexed {counted(summary.documents, 'document')}, "
            f"{counted(summary.paragraphs, 'paragraph')} in {summary.seconds:.1f} s{skipped}"
        )
    in_all = (
        f"{counted(summary.total_documents, 'document')}, "
        f"{counted(summary.total_paragraphs, 'paragraph')} in all{skipped}"
    )
    changes = [
        _sources(label, sources)
        for label, sources in (
            ("added", summary.added),
            ("changed", summary.changed),
            ("read again with a new reader version", summary.reread),
            ("removed", summary.removed),
        )
        if sources
    ]
    if not changes:
        return f"the index is up to date: {in_all}"
    return (
        f"updated the index in {summary.seconds:.1f} s: {'; '.join(changes)} "
        f"({counted(summary.paragraphs, 'paragraph')} indexed); {in_all}"
    )


def _left_out(summary: IndexSummary) -> str:
    """What the summary line says of the files not indexed, with why in a few words."""
    parts = []
    if summary.unreadable_folders:
        reasons = _tally(why.lower() for _, why in summary.unreadable_folders)
        parts.append(f"{counted(len(summary.unreadable_folders), 'folder')} unreadable ({reasons})")
    if summary.skipped:
        reasons = _tally(_short_reason(why) for why in summary.skipped.values())
        parts.append(f"{len(summary.skipped)} skipped ({reasons})")
    if summary.ignored:
        parts.append(f"{len(summary.ignored)} ignored by the rules")
    if summary.other_formats:
        suffixes = _tally(_suffix(source) for source in summary.other_formats)
        parts.append(f"{counted(len(summary.other_formats), 'file')} in other formats ({suffixes})")
    if summary.unread:
        parts.append(f"{len(summary.unread)} with text that could not be read")
    return "; " + ", ".join(parts) if parts else ""


def _short_reason(why: str) -> str:
    """The gist of a skipped file's reason: "it is a binary file (…)" → "binary file"."""
    gist = why.split(" (")[0].split(":")[0]
    for lead, instead in (
        ("it is not ", "not "),
        ("it is a ", ""),
        ("it is an ", ""),
        ("it is ", ""),
        ("it has ", ""),
        ("it ", ""),
    ):
        if gist.startswith(lead):
            return instead + gist[len(lead) :]
    return gist


def _suffix(source: str) -> str:
    name = source.rpartition("/")[2]
    return name[name.rfind(".") :].lower() if "." in name[1:] else "no extension"


def _tally(items) -> str:
    counts: dict[str, int] = {}
    for item in items:
        counts[item] = counts.get(item, 0) + 1
    ranked = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))
    return ", ".join(name if count == 1 else f"{name} ×{count}" for name, count in ranked)


def _file_list(summary: IndexSummary) -> list[str]:
    """One line a file not indexed, or not whole, for `kensaku index -v`."""
    from search.ingest.readers.base import page_list

    return (
        [f"skipped folder {source}: {why}" for source, why in summary.unreadable_folders]
        + [f"skipped {source}: {why}" for source, why in summary.skipped.items()]
        + [f"ignored {source} ({why})" for source, why in summary.ignored]
        + [f"not read {source} (not a format kensaku reads)" for source in summary.other_formats]
        + [
            f"unread {source}: text that could not be read was left out"
            + (f", on {page_list(pages)}" if pages else "")
            for source, pages in summary.unread.items()
        ]
    )


def _sources(label: str, sources: list[str], named: int = 3) -> str:
    names = ", ".join(sources[:named]) + (
        f" and {len(sources) - named} more" if len(sources) > named else ""
    )
    return f"{label} {names}"


def _warn(message: str) -> None:
    click.echo(f"kensaku: {message}", err=True)
