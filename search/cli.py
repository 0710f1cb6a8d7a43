"""CLI: the `kensaku` command. It parses options, calls the library and prints; nothing more."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import click

from .config import Config, load_config
from .discovery import Rules
from .errors import KensakuError
from .index import (DEFAULT_DOCS_DIR, DEFAULT_INDEX_DIR, IndexSummary, build_index, ensure_index,
                    recorded_docs_dir, update_index)
from .query import MODES
from .results import DEFAULT_LIMIT, Hit, Place, SearchResults, search

TITLE_CHARS = 40


class _Group(click.Group):
    """Turns library errors, OS errors and usage errors (which Click shows with the usage text
    above them) into one line, `Error: …`, and an exit code."""

    def parse_args(self, ctx, args):
        try:
            return super().parse_args(ctx, args)
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


def _one_line(error: click.UsageError) -> click.ClickException:
    help_hint = f" (see `{error.ctx.command_path} --help`)" if error.ctx else ""
    return _click_error(f"{error.format_message()}{help_hint}", error.exit_code)


def _click_error(message: str, exit_code: int) -> click.ClickException:
    error = click.ClickException(message)
    error.exit_code = exit_code
    return error


docs_option = click.option(
    "--docs", "docs_dir", type=click.Path(path_type=Path), envvar="KENSAKU_DOCS",
    help="Documents directory: every .txt, .md, .html, .pdf, .docx and .epub file under it  "
         "[env KENSAKU_DOCS; default: the one the index was built from, else ./seeds]")
include_option = click.option(
    "--include", multiple=True, metavar="GLOB",
    help="Index only files matching GLOB (.gitignore syntax: *.pdf, reports/); repeatable.")
exclude_option = click.option(
    "--exclude", multiple=True, metavar="GLOB",
    help="Leave out files and folders matching GLOB (.gitignore syntax); repeatable.")
config_option = click.option(
    "--config", "config_file", type=click.Path(path_type=Path, dir_okay=False),
    envvar="KENSAKU_CONFIG", help="Settings file  [env KENSAKU_CONFIG; default ./kensaku.toml "
                                  "when present]")
index_option = click.option(
    "--index", "index_dir", type=click.Path(path_type=Path), envvar="KENSAKU_INDEX",
    default=DEFAULT_INDEX_DIR, show_default=True, help="Index directory  [env KENSAKU_INDEX]")
synonyms_option = click.option(
    "--synonyms", "synonyms_file", type=click.Path(path_type=Path, dir_okay=False),
    envvar="KENSAKU_SYNONYMS", help="A synonyms file in Solr format  [env KENSAKU_SYNONYMS]")
sudachi_synonyms_option = click.option(
    "--sudachi-synonyms/--no-sudachi-synonyms", default=None,
    help="Also find words of the same Sudachi synonym group (米国 finds アメリカ).")


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kensaku")
def main() -> None:
    """kensaku: Japanese full-text search over a directory of text files."""
    # Piped into `head`, stop quietly as other command-line tools do.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)


@main.command("index")
@docs_option
@index_option
@click.option("--rebuild", is_flag=True, help="Build the whole index anew.")
@include_option
@exclude_option
@config_option
@click.option("-v", "--verbose", is_flag=True,
              help="List the files skipped, left out by the rules, or in other formats.")
def index_command(docs_dir: Path | None, index_dir: Path, rebuild: bool, include: tuple[str, ...],
                  exclude: tuple[str, ...], config_file: Path | None, verbose: bool) -> None:
    """Build the index of the documents, or bring it up to date: only files added, changed or
    removed since it was built are indexed again."""
    if docs_dir is None:
        docs_dir = recorded_docs_dir(index_dir) or DEFAULT_DOCS_DIR
    rules = _rules(include, exclude, load_config(config_file))
    build = build_index if rebuild else update_index
    summary = _with_progress(
        lambda progress: build(docs_dir, index_dir, progress, _warn, rules=rules))
    click.echo(_summary_line(summary))
    if verbose:
        for line in _file_list(summary):
            click.echo(line)


def _rules(include: tuple[str, ...], exclude: tuple[str, ...], config: Config) -> Rules | None:
    """The rules given as options, else in the config file; None (the index's own) for neither."""
    include, exclude = include or config.include, exclude or config.exclude
    return Rules(include, exclude) if include or exclude else None


@main.command("search")
@click.argument("query", nargs=-1, required=True)
@docs_option
@index_option
@click.option("-n", "--limit", type=click.IntRange(min=1), default=DEFAULT_LIMIT,
              show_default=True, help="How many hits to show.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as one JSON object.")
@click.option("--mode", type=click.Choice(MODES), default=None,
              help="keyword: the query syntax; question: any content word, ranked by BM25; "
                   "auto (default): question for sentences, keyword otherwise.")
@synonyms_option
@sudachi_synonyms_option
@include_option
@exclude_option
@config_option
def search_command(query: tuple[str, ...], docs_dir: Path | None, index_dir: Path, limit: int,
                   as_json: bool, mode: str | None, synonyms_file: Path | None,
                   sudachi_synonyms: bool | None, include: tuple[str, ...],
                   exclude: tuple[str, ...], config_file: Path | None) -> None:
    """Search the documents; builds or refreshes the index first when needed.

    Words separated by spaces must all match; a run without spaces is a phrase. OR, NOT or -word,
    "quoted phrases", (parentheses) and source:FILE-PREFIX work too. A sentence such as
    日本で梅雨がないのは北海道とどこか。 is a question: any of its content words may match.
    """
    config = load_config(config_file)
    _ensure_index(docs_dir, index_dir, _rules(include, exclude, config))
    results = search(" ".join(query), index_dir, limit, mode=mode or config.mode or "auto",
                     synonyms_file=synonyms_file or config.synonyms,
                     sudachi_synonyms=_first_set(sudachi_synonyms, config.sudachi_synonyms))
    if as_json:
        click.echo(json.dumps(results.to_dict(), ensure_ascii=False, indent=2))
    else:
        _print_results(results, color=_use_color())


@main.command("serve")
@docs_option
@index_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; another machine can reach only a public one.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True,
              help="Port to listen on (0: any free port).")
@click.option("--refresh", type=click.FloatRange(min=0), default=10.0, show_default=True,
              help="Every this many seconds, update the index if the documents changed (0: never).")
@click.option("--cors-origin", "cors_origins", multiple=True,
              help="An origin (https://portal.example) whose pages may call the API; repeatable. "
                   "None by default.")
@synonyms_option
@sudachi_synonyms_option
@include_option
@exclude_option
@config_option
def serve_command(docs_dir: Path | None, index_dir: Path, host: str, port: int, refresh: float,
                  cors_origins: tuple[str, ...], synonyms_file: Path | None,
                  sudachi_synonyms: bool | None, include: tuple[str, ...],
                  exclude: tuple[str, ...], config_file: Path | None) -> None:
    """Serve a search page and a JSON API over HTTP until Ctrl-C.

    Builds or refreshes the index first when needed, then answers from it, following rebuilds
    and updates (its own when the documents change, or another `kensaku index`) without a restart.
    """
    config = load_config(config_file)
    _ensure_index(docs_dir, index_dir, _rules(include, exclude, config))
    from .server import serve  # FastAPI and uvicorn: only this command needs them

    serve(index_dir, docs_dir, host, port, refresh, synonyms_file or config.synonyms,
          _first_set(sudachi_synonyms, config.sudachi_synonyms), config.mode or "auto",
          cors_origins, say=_warn, announce=lambda url: click.echo(f"serving {url} (Ctrl-C stops)"))


def _ensure_index(docs_dir: Path | None, index_dir: Path, rules: Rules | None) -> None:
    """Build or update the index as needed, saying so on stderr."""
    summary = _with_progress(
        lambda progress: ensure_index(docs_dir, index_dir, _warn, progress, _warn, rules))
    if summary is not None:
        _warn(_summary_line(summary))


def _first_set(*values):
    return next((value for value in values if value is not None), False)


def _with_progress(run):
    """Run `run(progress)` with a progress bar on stderr when it is a terminal."""
    if not sys.stderr.isatty():
        return run(None)
    bars = []

    def progress(done, total, document):
        if not bars:
            bars.append(click.progressbar(length=total, label="indexing", file=sys.stderr,
                                          item_show_func=lambda doc: doc and doc.source))
            bars[0].__enter__()
        bars[0].update(1, document)

    try:
        return run(progress)
    finally:
        if bars:
            bars[0].__exit__(None, None, None)


def _summary_line(summary: IndexSummary) -> str:
    skipped = _left_out(summary)
    if not summary.incremental:
        if not summary.documents:
            return f"no document to index{skipped}: the index is empty"
        return (f"indexed {_count(summary.documents, 'document')}, "
                f"{_count(summary.paragraphs, 'paragraph')} in {summary.seconds:.1f} s{skipped}")
    in_all = (f"{_count(summary.total_documents, 'document')}, "
              f"{_count(summary.total_paragraphs, 'paragraph')} in all{skipped}")
    changes = [_sources(label, sources) for label, sources in
               (("added", summary.added), ("changed", summary.changed),
                ("removed", summary.removed)) if sources]
    if not changes:
        return f"the index is up to date: {in_all}"
    return (f"updated the index in {summary.seconds:.1f} s: {'; '.join(changes)} "
            f"({_count(summary.paragraphs, 'paragraph')} indexed); {in_all}")


def _left_out(summary: IndexSummary) -> str:
    """What the summary line says of the files not indexed, with why in a few words."""
    parts = []
    if summary.skipped:
        reasons = _tally(_short_reason(why) for why in summary.skipped.values())
        parts.append(f"{len(summary.skipped)} skipped ({reasons})")
    if summary.ignored:
        parts.append(f"{len(summary.ignored)} ignored by the rules")
    if summary.other_formats:
        suffixes = _tally(_suffix(source) for source in summary.other_formats)
        parts.append(f"{_count(len(summary.other_formats), 'file')} in other formats ({suffixes})")
    return "; " + ", ".join(parts) if parts else ""


def _short_reason(why: str) -> str:
    """The gist of a skipped file's reason: "it is a binary file (…)" → "binary file"."""
    gist = why.split(" (")[0].split(":")[0]
    for lead, instead in (("it is not ", "not "), ("it is a ", ""), ("it is an ", ""),
                          ("it is ", ""), ("it has ", ""), ("it ", "")):
        if gist.startswith(lead):
            return instead + gist[len(lead):]
    return gist


def _suffix(source: str) -> str:
    name = source.rpartition("/")[2]
    return name[name.rfind("."):].lower() if "." in name[1:] else "no extension"


def _tally(items) -> str:
    counts: dict[str, int] = {}
    for item in items:
        counts[item] = counts.get(item, 0) + 1
    ranked = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))
    return ", ".join(name if count == 1 else f"{name} ×{count}" for name, count in ranked)


def _file_list(summary: IndexSummary) -> list[str]:
    """One line a file not indexed, for `kensaku index -v`."""
    return ([f"skipped {source}: {why}" for source, why in summary.skipped.items()]
            + [f"ignored {source} ({why})" for source, why in summary.ignored]
            + [f"not read {source} (not a format kensaku reads)" for source in summary.other_formats])


def _sources(label: str, sources: list[str], named: int = 3) -> str:
    names = ", ".join(sources[:named]) + (f" and {len(sources) - named} more"
                                           if len(sources) > named else "")
    return f"{label} {names}"


def _warn(message: str) -> None:
    click.echo(f"kensaku: {message}", err=True)


def _use_color() -> bool:
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def _print_results(results: SearchResults, color: bool) -> None:
    shown = len(results.hits)
    if not results.total:
        click.echo(f"no paragraph matches {results.query}")
        return
    more = f", showing the best {shown}" if shown < results.total else ""
    matching = _count(results.total, "paragraph")
    if results.relaxed:
        click.echo(f"no paragraph has all of {results.query}; {matching} "
                   f"{'has' if results.total == 1 else 'have'} some of its words{more}")
    else:
        click.echo(f"{matching} {'matches' if results.total == 1 else 'match'} "
                   f"{results.query}{more}")
    for hit in results.hits:
        citation = click.style(citation_of(hit), fg="cyan")
        title = "" if _is_file_name(hit.title, hit.source) else f"  {_shorten(hit.title)}"
        click.echo(f"\n{hit.rank:>2}. {citation}  ¶{hit.paragraph}{title}  ({hit.score:.2f})",
                   color=color)
        click.echo(f"    {_highlighted(hit.snippet, hit.snippet_highlights)}", color=color)
        if hit.also:
            places = ", ".join(citation_of(place) for place in hit.also)
            click.echo(click.style(f"    also at {places}", dim=True), color=color)


def _is_file_name(title: str, source: str) -> bool:
    """Whether a title only repeats the file name (a document that gives itself no title)."""
    name = source.rpartition("/")[2]
    return title in (name, name.rpartition(".")[0])


def citation_of(place: Hit | Place) -> str:
    """`file:line` (`file:line:column` inside a long line), or `file p.N` for a paged document."""
    if place.page is not None:
        return f"{place.source} p.{place.page}"
    column = getattr(place, "column", 1)
    return f"{place.source}:{place.line}" + (f":{column}" if column > 1 else "")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _shorten(title: str) -> str:
    return title if len(title) <= TITLE_CHARS else title[:TITLE_CHARS - 1] + "…"


def _highlighted(text: str, spans) -> str:
    pieces, at = [], 0
    for start, end in spans:
        pieces.append(text[at:start])
        pieces.append(click.style(text[start:end], fg="red", bold=True))
        at = end
    pieces.append(text[at:])
    return "".join(pieces)
